"""bayesbench's paired test as Inspect AI's EarlyStopping, with real Inspect objects: mockllm models with fixed
outputs (usage set, so no tokenizer is downloaded), and Inspect's OpenAI provider against the local fake server."""

from __future__ import annotations

import os

import numpy as np
import pytest

if os.environ.get("CI", "").lower() == "true":
    import inspect_ai  # noqa: F401  (CI must have it: an ImportError fails the run)
else:
    pytest.importorskip("inspect_ai", reason='needs Inspect AI: pip install "bayesbench[inspect]"')

from inspect_ai import Task, eval  # noqa: E402
from inspect_ai.dataset import MemoryDataset, Sample  # noqa: E402
from inspect_ai.model import GenerateConfig, ModelOutput, ModelUsage, get_model  # noqa: E402
from inspect_ai.scorer import match  # noqa: E402
from inspect_ai.solver import generate  # noqa: E402

import bayesbench as bb  # noqa: E402
from bayesbench.errors import ConfigError  # noqa: E402
from bayesbench.history import ItemBank  # noqa: E402
from bayesbench.integrations import PairedEarlyStopping, anytime_interval  # noqa: E402
from bayesbench.stats import EngineConfig, PairedSequentialTest  # noqa: E402

N = 60


def _correct(p: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(N) < p


def _mock(name: str, correct: np.ndarray):
    outs = []
    for ok in correct:
        out = ModelOutput.from_content("mockllm/model", "yes" if ok else "no")
        out.usage = ModelUsage(input_tokens=3, output_tokens=1, total_tokens=4)
        outs.append(out)
    return get_model(f"mockllm/{name}", custom_outputs=outs, memoize=False)


def _task(stopper, metrics=None) -> Task:
    samples = [Sample(id=i, input=f"question {i}", target="yes") for i in range(N)]
    return Task(dataset=MemoryDataset(samples, name="yesno"), solver=generate(), scorer=match(),
                early_stopping=stopper, metrics=metrics, name="yesno")


def _scored(log) -> dict[int, float]:
    return {s.id: 1.0 if s.scores["match"].value == "C" else 0.0 for s in log.samples if s.scores}


def test_two_models_stop_early_on_a_clear_gap(tmp_path):
    stopper = PairedEarlyStopping(confidence=0.95)
    logs = eval(_task(stopper), model=[_mock("strong", _correct(0.9, 1)), _mock("weak", _correct(0.3, 2))],
                log_dir=str(tmp_path), display="none", max_samples=2, max_tasks=2)
    assert [log.status for log in logs] == ["success", "success"]
    meta = logs[0].results.early_stopping.metadata
    assert meta["verdict"] == "mockllm/strong better" and meta["stopped"] is True
    assert meta["n_paired"] < N
    # only samples both models scored fed the rule, and far fewer than the full eval ran
    used = [len(_scored(log)) for log in logs]
    # each model ran at most the pairs the rule used plus what was in flight (max_samples=2 per model)
    assert all(meta["n_paired"] <= u <= meta["n_paired"] + 8 < N for u in used), (used, meta["n_paired"])
    # the early stops are written to the log with bayesbench's reason
    stops = logs[1].results.early_stopping.early_stops
    assert stops and stops[0].reason.startswith("bayesbench: mockllm/strong better")
    # the same decision, at the same pair, as the engine's test fed the pairs one by one in dataset order
    test = PairedSequentialTest(EngineConfig(alpha=0.05))
    a, b = _correct(0.9, 1), _correct(0.3, 2)
    first = next(n for n in range(1, N + 1) if test.update([a[n - 1]], [b[n - 1]]).stopped and n >= 10)
    assert meta["n_paired"] == first and test.decision.status == "A"


def test_no_stop_without_a_difference_and_the_log_says_so(tmp_path):
    same = _correct(0.6, 3)
    stopper = PairedEarlyStopping(confidence=0.95)
    logs = eval(_task(stopper), model=[_mock("a", same), _mock("b", same)], log_dir=str(tmp_path),
                display="none", max_samples=4, max_tasks=2)
    meta = logs[0].results.early_stopping.metadata
    assert meta["stopped"] is False and meta["verdict"] == "undecided"
    assert [len(_scored(log)) for log in logs] == [N, N]
    assert meta["estimate"] == 0.0 and meta["interval"][0] < 0 < meta["interval"][1]


def test_one_model_against_a_recorded_model_from_a_history_bank(tmp_path):
    recorded = _correct(0.25, 4).astype(float)
    bank = ItemBank(recorded[None, :], models=["old/checkpoint"], items=[f"yesno/{i}" for i in range(N)])
    stopper = PairedEarlyStopping(reference=bank.model("old/checkpoint"))
    (log,) = eval(_task(stopper), model=_mock("new", _correct(0.9, 5)), log_dir=str(tmp_path), display="none",
                  max_samples=2)
    meta = log.results.early_stopping.metadata
    assert meta["models"] == ["mockllm/new", "reference"] and meta["verdict"] == "mockllm/new better"
    assert meta["n_paired"] <= len(_scored(log)) <= meta["n_paired"] + 4 < N


def test_the_anytime_metric_is_in_the_log_and_covers(tmp_path):
    (log,) = eval(_task(None, metrics=[anytime_interval(confidence=0.95)]), model=_mock("m", _correct(0.7, 6)),
                  log_dir=str(tmp_path), display="none")
    metrics = log.results.scores[0].metrics
    mean, low, high = metrics["mean"].value, metrics["low"].value, metrics["high"].value
    assert mean == pytest.approx(_correct(0.7, 6).mean())
    assert 0 <= low < mean < high <= 1 and high - low < 0.5


def test_replay_reads_the_eval_logs(tmp_path):
    eval(_task(None), model=[_mock("strong", _correct(0.85, 7)), _mock("weak", _correct(0.5, 8))],
         log_dir=str(tmp_path), display="none")
    result = bb.compare(*sorted(str(p) for p in tmp_path.glob("*.eval")))
    assert {result.model_a_name, result.model_b_name} == {"mockllm/strong", "mockllm/weak"}
    ranking = bb.rank(tmp_path)
    assert ranking.order[0] == "mockllm/strong" and ranking.total_problems == N


def test_inspects_openai_provider_against_the_fake_server(tmp_path, fake_server):
    answers = {f"question {i}": ("yes" if i % 10 else "no") for i in range(N)}
    fake_server.answer = {**answers, "*": "no"}

    def provider():
        return get_model("openai/gpt-4o-mini", base_url=fake_server.openai_base_url, api_key="sk-test-not-a-key",
                         responses_api=False, memoize=False, config=GenerateConfig(max_retries=0))

    recorded = np.zeros(N)
    bank = ItemBank(recorded[None, :], models=["always-wrong"], items=[f"yesno/{i}" for i in range(N)])
    stopper = PairedEarlyStopping(reference=bank.model("always-wrong"))
    (log,) = eval(_task(stopper), model=provider(), log_dir=str(tmp_path), display="none", max_samples=2)
    meta = log.results.early_stopping.metadata
    assert meta["verdict"] == "openai/gpt-4o-mini better"
    # the skipped samples never reached the provider
    assert meta["n_paired"] <= fake_server.request_count <= meta["n_paired"] + 4 < N


def test_bad_use_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="`confidence` must be"):
        PairedEarlyStopping(confidence=1.5)
    with pytest.raises(ConfigError, match="'anytime' or 'full_benchmark'"):
        PairedEarlyStopping(rule="posterior")
    stopper = PairedEarlyStopping()
    logs = eval(_task(stopper), model=[_mock("a", _correct(0.5, 9)), _mock("b", _correct(0.5, 9)),
                                       _mock("c", _correct(0.5, 9))], log_dir=str(tmp_path), display="none")
    errors = [log.error.message for log in logs if log.error is not None]
    assert any("compares two models" in e for e in errors)


TASK_FILE = '''
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate

from bayesbench.integrations import PairedEarlyStopping


@task
def yesno():
    samples = [Sample(id=i, input=f"question {i}", target="yes") for i in range(60)]
    return Task(dataset=MemoryDataset(samples), solver=generate(), scorer=match(),
                early_stopping=PairedEarlyStopping(confidence=0.95))
'''


def test_inspect_eval_cli_with_two_models(tmp_path, fake_server):
    """`inspect eval task.py --model a,b`: one manager shared by both models' runs, stopping both."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from inspect_ai.log import list_eval_logs, read_eval_log

    strong, weak = _correct(0.9, 11), _correct(0.3, 12)

    def answer(request):
        i = int(request.prompt.rsplit(" ", 1)[-1])
        right = (strong if request.body["model"] == "strong" else weak)[i]
        return "yes" if right else "no"

    fake_server.answer = answer
    (tmp_path / "task.py").write_text(TASK_FILE)
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "OPENAI_API_KEY": "sk-test-not-a-key",
           "INSPECT_LOG_DIR": str(tmp_path / "logs")}
    inspect_cli = Path(sys.executable).with_name("inspect")
    out = subprocess.run([str(inspect_cli), "eval", "task.py", "--model", "openai/strong,openai/weak",
                          "--model-base-url", fake_server.openai_base_url, "-M", "responses_api=False",
                          "--max-samples", "2", "--max-tasks", "2", "--max-retries", "0", "--display", "none"],
                         capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    logs = [read_eval_log(info) for info in list_eval_logs(str(tmp_path / "logs"))]
    assert sorted(log.eval.model for log in logs) == ["openai/strong", "openai/weak"]
    for log in logs:  # both runs went on in parallel (--max-tasks 2) and both were stopped
        meta = log.results.early_stopping.metadata
        assert meta["verdict"] == "openai/strong better" and meta["n_paired"] < 60
    assert fake_server.request_count <= 2 * meta["n_paired"] + 8 < 120


def test_a_sample_that_ended_without_a_score_is_not_paired_and_does_not_end_the_eval():
    """The hooks as Inspect calls them, each in its model's context: an errored sample (no score) of one model
    is passed over; the pairs after it still feed the test; a scorer the sample lacks is still a clear error."""
    import asyncio
    import contextvars
    from types import SimpleNamespace

    from inspect_ai.model._model import active_model_context_var
    from inspect_ai.scorer import SampleScore, Score

    from bayesbench.errors import DatasetError

    models = {name: get_model(f"mockllm/{name}", memoize=False) for name in ("a", "b")}
    samples = [SimpleNamespace(id=i) for i in range(3)]
    stopper = PairedEarlyStopping(min_samples=1)

    def in_model(name, coro_fn):
        ctx = contextvars.copy_context()
        ctx.run(active_model_context_var.set, models[name])
        return ctx.run(lambda: asyncio.run(coro_fn()))

    def right(value):
        return {"match": SampleScore(score=Score(value=value), sample_id=0)}

    for name in ("a", "b"):
        spec = SimpleNamespace(model=str(models[name]), run_id="run-1", task="yesno")
        in_model(name, lambda spec=spec: stopper.start_task(spec, samples, 1))
    in_model("a", lambda: stopper.complete_sample(0, 1, right("C")))
    in_model("b", lambda: stopper.complete_sample(0, 1, {}))  # errored: no score at all
    in_model("a", lambda: stopper.complete_sample(1, 1, right("C")))
    in_model("b", lambda: stopper.complete_sample(1, 1, right("I")))
    meta = stopper.metadata()
    assert meta["n_paired"] == 1 and meta["estimate"] == 1.0
    assert meta["scored"] == {"mockllm/a": 2, "mockllm/b": 1} and meta["unscored"] == {"mockllm/a": 0, "mockllm/b": 1}
    with pytest.raises(DatasetError, match="no scorer 'f1'"):
        bad = PairedEarlyStopping(scorer="f1")
        in_model("a", lambda: bad.start_task(SimpleNamespace(model="mockllm/a", run_id="run-2", task="yesno"),
                                             samples, 1))
        in_model("a", lambda: bad.complete_sample(0, 1, right("C")))
