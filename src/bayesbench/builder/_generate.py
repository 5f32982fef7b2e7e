"""Model-generated candidate cases: a prompt template over seeds, asked of a model through the executor.

Every generated case is ``synthetic`` (provenance kind ``generated``) and records what made it: the model name,
the SHA-256 of the template, the seed index and the sample number, so a reviewer can tell it from a real query
and regenerate it. Calls go through :class:`bayesbench.execution.Executor` (retries, limits, cost, and the
response cache when the executor has a store). A failed call gives no case; it is counted in the result.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, DatasetError
from ._schema import Provenance, TestCase

_NUMBERING = re.compile(r"^\s*(?:[-*•]|\(?\d{1,3}[.):])\s*")
PARSERS = ("lines", "json")


def _template_fields(template: str) -> list[str]:
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f]
    except ValueError as exc:
        raise ConfigError(f"`template` is not a valid format string ({exc}); write fields as {{topic}}, "
                          "and double literal braces: {{{{ }}}}") from None


def parse_lines(text: str) -> list[dict[str, Any]]:
    """One candidate per non-empty line, list markers (``1.``, ``-``, ``*``) stripped."""
    out = []
    for line in str(text).splitlines():
        line = _NUMBERING.sub("", line).strip()
        if line:
            out.append({"input": line})
    return out


def parse_json(text: str) -> list[dict[str, Any]]:
    """Candidates from a JSON object or array of objects with ``input`` (and ``expected``/``references``);
    the first JSON value in the text is read, so prose around it is tolerated."""
    raw = str(text)
    start = min((i for i in (raw.find("["), raw.find("{")) if i >= 0), default=-1)
    if start < 0:
        return []
    try:
        value, _ = json.JSONDecoder().raw_decode(raw[start:])
    except json.JSONDecodeError:
        return []
    items = value if isinstance(value, list) else [value]
    return [dict(v) for v in items if isinstance(v, dict) and isinstance(v.get("input"), str) and v["input"].strip()]


@dataclass
class GenerationResult:
    """What :func:`generate_candidates` produced: ``cases`` (all synthetic) and the counts of calls.

    calls: model calls made (including cache hits). failed: calls that failed after retries (no case).
    unparsable: answers from which no candidate could be read. seed: the ``seed`` sent with every request
    (None when the model does not take one). method: ``generated:<model name>``.
    """

    cases: list[TestCase]
    calls: int
    failed: int
    unparsable: int
    model: str
    template_sha256: str
    seed: int | None
    errors: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return f"generated:{self.model}"

    @property
    def n(self) -> int:
        return len(self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": self.n, "seed": self.seed, "calls": self.calls, "failed": self.failed,
                "unparsable": self.unparsable, "model": self.model, "template_sha256": self.template_sha256,
                "errors": list(self.errors)}

    def summary(self) -> str:
        return (f"Generated {self.n} synthetic candidate(s) with {self.model} from {self.calls} call(s); "
                f"{self.failed} failed, {self.unparsable} unparsable")


async def generate_candidates_async(
    model: Any,
    seeds: Sequence[Any],
    *,
    template: str,
    samples_per_seed: int = 1,
    parse: str | Callable[[str], list[dict[str, Any]]] = "lines",
    domain: str | None = None,
    tags: Sequence[str] = ("synthetic",),
    max_candidates: int | None = None,
    executor: Any = None,
    model_name: str | None = None,
    seed: int | None = None,
) -> GenerationResult:
    """The async version of :func:`generate_candidates` (same arguments)."""
    from ..execution import Executor
    from ..models import as_callable
    from ..models import model_name as name_of

    if not isinstance(template, str) or not template.strip():
        raise ConfigError("`template` must be non-empty text with fields like {topic}, got " + repr(template))
    if not isinstance(samples_per_seed, int) or isinstance(samples_per_seed, bool) or samples_per_seed < 1:
        raise ConfigError(f"`samples_per_seed` must be a positive integer, got {samples_per_seed!r}")
    if max_candidates is not None and (not isinstance(max_candidates, int) or max_candidates < 1):
        raise ConfigError(f"`max_candidates` must be a positive integer or None, got {max_candidates!r}")
    parser: Callable[[str], list[dict[str, Any]]]
    if isinstance(parse, str):
        if parse not in PARSERS:
            raise ConfigError(f"`parse` must be one of {', '.join(PARSERS)} or a function text -> list of dicts, "
                              f"got {parse!r}")
        parser = parse_lines if parse == "lines" else parse_json
    elif callable(parse):
        parser = parse
    else:
        raise ConfigError(f"`parse` must be 'lines', 'json' or a function, got {type(parse).__name__}")
    if isinstance(seeds, (str, bytes)) or not seeds:
        raise ConfigError("`seeds` must be a non-empty list (of topics, or of dicts whose keys fill the template)")
    wanted = _template_fields(template)
    prompts = []
    for i, s in enumerate(seeds):
        if isinstance(s, TestCase):  # an existing case, e.g. a real query to paraphrase: its fields fill the template
            values = {**s.to_problem(), "input": s.text, "seed": s.text, "topic": s.domain or ""}
        else:
            values = dict(s) if isinstance(s, Mapping) else {"seed": s, "topic": s}
        missing = [f for f in wanted if f not in values]
        if missing:
            raise ConfigError(f"seed #{i} has no value for the template field(s) {missing}; a plain seed fills "
                              "{seed} and {topic}, a dict seed fills its own keys")
        prompts.append(template.format(**values))
    fn = as_callable(model)
    name = model_name or name_of(model)
    template_sha = hashlib.sha256(template.encode("utf-8")).hexdigest()
    own = executor is None
    ex = Executor() if own else executor
    try:
        jobs = [(i, k) for i in range(len(prompts)) for k in range(samples_per_seed)]
        records = []
        for i, k in jobs:  # in order, so a max_candidates cut is reproducible
            records.append((i, k, await ex.call(name, fn, prompts[i], problem_id=f"gen-{i}-{k}",
                                                params={"sample": k, "template": template_sha[:16]})))
            if max_candidates is not None and sum(len(parser(str(r.response))) for _, _, r in records
                                                  if r.ok) >= max_candidates:
                break
    finally:
        if own:
            ex.close()
    cases: list[TestCase] = []
    failed = unparsable = 0
    errors: list[str] = []
    for i, k, record in records:
        if not record.ok:
            failed += 1
            errors.append(f"seed #{i} sample {k}: {record.error_type}: {record.error}")
            continue
        items = parser(str(record.response))
        if not items:
            unparsable += 1
            continue
        for j, item in enumerate(items):
            generator = {"model": name, "template_sha256": template_sha, "seed_index": i, "sample": k,
                         "item": j, "seed": seed}
            try:
                cases.append(TestCase(
                    input=item["input"], expected=item.get("expected"), references=item.get("references") or (),
                    difficulty=item.get("difficulty"), domain=item.get("domain") or domain, tags=tuple(tags),
                    provenance=Provenance(kind="generated", source=name, location=i, synthetic=True,
                                          generator=generator),
                    metadata={"prompt": prompts[i]}))
            except DatasetError:
                unparsable += 1
    if max_candidates is not None:
        cases = cases[:max_candidates]
    return GenerationResult(cases=cases, calls=len(records), failed=failed, unparsable=unparsable, model=name,
                            template_sha256=template_sha, seed=seed, errors=errors)


def generate_candidates(
    model: Any,
    seeds: Sequence[Any],
    *,
    template: str,
    samples_per_seed: int = 1,
    parse: str | Callable[[str], list[dict[str, Any]]] = "lines",
    domain: str | None = None,
    tags: Sequence[str] = ("synthetic",),
    max_candidates: int | None = None,
    executor: Any = None,
    model_name: str | None = None,
    seed: int | None = None,
) -> GenerationResult:
    """Ask ``model`` for candidate test cases, one prompt per seed: ``template.format(**seed)``.

    model: any bayesbench model (an adapter such as ``openai_model(...)``, or a function ``prompt -> text``).
    seeds: topics (a plain value fills ``{topic}`` and ``{seed}``), dicts whose keys fill the template, or
        :class:`TestCase` objects (``{input}``, ``{expected}``, ``{domain}``... e.g. "Paraphrase: {input}").
        The prompts go to the model: anonymise real queries first when the model is not local.
    template: e.g. ``"Write 3 short customer questions about {topic}, one per line."``.
    samples_per_seed: calls per seed, default 1 (with temperature 0 more samples repeat the answer; they are
        cached apart, by the sample number).
    parse: ``"lines"`` (default; one candidate per line), ``"json"`` (objects with ``input``, ``expected``...)
        or a function ``text -> [{"input": ...}, ...]``.
    domain, tags: given to every candidate (default tag ``synthetic``).
    max_candidates: stop calling once this many candidates are parsed, default None (no cap).
    executor: an :class:`~bayesbench.execution.Executor` (its limits, prices, store/cache); default a new one.
    model_name: the name used for the executor and provenance, default the model's own name.
    seed: recorded in the provenance (pass the same seed to the adapter, e.g. ``openai_model(seed=...)``).
    """
    from ..engine import run_sync

    result: GenerationResult = run_sync(lambda: generate_candidates_async(
        model, seeds, template=template, samples_per_seed=samples_per_seed, parse=parse, domain=domain, tags=tags,
        max_candidates=max_candidates, executor=executor, model_name=model_name, seed=seed))
    return result
