"""Anonymisation of a dataset with consistent pseudonyms, before anything leaves the machine.

Each found value is replaced by ``<TYPE_xxxxxxxx>``, where the 8 hex digits are a keyed HMAC-SHA256 of the
normalised value (emails and names case folded, phones/cards digits only, IBANs without spaces). The key is a
per-dataset salt that is never written to the output: the same person's email gets the same pseudonym in every
case of the dataset (so "the same customer asked twice" survives), but without the salt nobody can test a
guess ("is <EMAIL_1f3a9c02> alice@example.com?"). Keep the salt (``salt=``, ``--salt-file``, or the
``BAYESBENCH_PII_SALT`` environment variable) to anonymise later additions consistently; the manifest records
only ``salt_id``, an HMAC of a fixed label, to tell whether two runs used the same salt.

Every text of a case is scrubbed: the input (every string inside a structured input), the expected answer,
the references and every string value in ``metadata``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ._dataset import BuilderDataset
from ._pii import PiiDetector, PiiSpan, make_detector
from ._schema import TestCase

SALT_ENV = "BAYESBENCH_PII_SALT"
PSEUDONYM = re.compile(r"<[A-Z_]+_[0-9a-f]{8}>")


def _normalise(entity: str, value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if entity in ("PHONE", "CREDIT_CARD"):
        return re.sub(r"\D", "", value)
    if entity == "IBAN":
        return re.sub(r"\s", "", value).upper()
    if entity in ("EMAIL", "PERSON", "URL"):
        return " ".join(value.casefold().split())
    return value


def _salt_bytes(salt: str | bytes | None) -> bytes:
    if salt is None:
        salt = os.environ.get(SALT_ENV) or None
    if salt is None:
        return secrets.token_bytes(32)
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    if not isinstance(salt, bytes) or len(salt) < 16:
        raise ConfigError("`salt` must be text or bytes of at least 16 characters (e.g. secrets.token_hex(16)); "
                          "a short salt lets anyone test guesses against the pseudonyms")
    return salt


class Pseudonymizer:
    """Replaces found spans by consistent keyed pseudonyms.

    salt: the secret key (text or bytes, >= 16 characters). Default: the ``BAYESBENCH_PII_SALT`` environment
        variable, else a fresh random salt (consistent within this object only).
    """

    def __init__(self, salt: str | bytes | None = None) -> None:
        self._key = _salt_bytes(salt)

    @property
    def salt_id(self) -> str:
        """An HMAC of a fixed label: equal for equal salts, and reveals nothing about the salt or the data."""
        return hmac.new(self._key, b"bayesbench-salt-id", hashlib.sha256).hexdigest()[:8]

    def pseudonym(self, entity: str, value: str) -> str:
        digest = hmac.new(self._key, f"{entity}\x00{_normalise(entity, value)}".encode(), hashlib.sha256)
        return f"<{entity}_{digest.hexdigest()[:8]}>"

    def replace(self, text: str, spans: list[PiiSpan]) -> str:
        out, last = [], 0
        for s in sorted(spans, key=lambda s: s.start):
            out.append(text[last:s.start])
            out.append(self.pseudonym(s.entity, text[s.start:s.end]))
            last = s.end
        out.append(text[last:])
        return "".join(out)


@dataclass
class AnonymizationResult:
    """The anonymised dataset and what was replaced.

    counts: replacements by entity type. cases_changed: cases with at least one replacement. n: cases examined.
    method: the detector (``regex``, ``presidio+regex``). salt_id: see :attr:`Pseudonymizer.salt_id`.
    """

    dataset: BuilderDataset
    counts: dict[str, int]
    cases_changed: int
    n: int
    method: str
    salt_id: str
    seed: None = None  # deterministic: no randomness besides the (secret) salt
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": self.n, "seed": self.seed, "counts": dict(self.counts),
                "cases_changed": self.cases_changed, "salt_id": self.salt_id}

    def summary(self) -> str:
        found = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing found"
        return (f"Anonymisation ({self.method}): {self.n} cases examined, {self.cases_changed} changed; "
                f"replaced {found}; salt id {self.salt_id}")


class _Scrubber:
    def __init__(self, detector: PiiDetector, pseudonymizer: Pseudonymizer) -> None:
        self.detector = detector
        self.pseudonymizer = pseudonymizer
        self.counts: dict[str, int] = {}

    def text(self, value: str) -> str:
        spans = [s for s in self.detector.detect(value) if not PSEUDONYM.fullmatch(value[s.start:s.end])]
        for s in spans:
            self.counts[s.entity] = self.counts.get(s.entity, 0) + 1
        return self.pseudonymizer.replace(value, spans) if spans else value

    def any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.any(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.any(v) for v in value]
        return value

    def case(self, case: TestCase) -> TestCase:
        return case.replace(
            input=self.any(case.input),
            expected=None if case.expected is None else self.text(case.expected),
            references=tuple(self.text(r) for r in case.references),
            metadata=self.any(dict(case.metadata)),
        )


def anonymize_text(text: str, *, engine: str = "auto", salt: str | bytes | None = None,
                   detector: PiiDetector | None = None) -> str:
    """One text with its personal data replaced by pseudonyms (see :func:`anonymize`)."""
    return _Scrubber(detector or make_detector(engine), Pseudonymizer(salt)).text(text)


def anonymize(dataset: BuilderDataset, *, engine: str = "auto", salt: str | bytes | None = None,
              detector: PiiDetector | None = None, entities: list[str] | None = None) -> AnonymizationResult:
    """A copy of ``dataset`` with personal data replaced by consistent pseudonyms in every text of every case.

    engine: ``"auto"`` (default: Presidio when the ``pii`` extra is installed, else the regex fallback),
        ``"regex"`` or ``"presidio"``. detector: a ready detector instead (anything with ``detect(text)``).
    salt: the per-dataset secret (see :class:`Pseudonymizer`); it is not stored in the output.
    entities: the types to replace, default all the detector finds.
    Case ids are kept; the new dataset's changelog gets one ``anonymize`` entry with the counts, and its
    metadata an ``anonymized`` record (method, salt id, counts).
    """
    det = detector or make_detector(engine, entities=entities)
    pseudo = Pseudonymizer(salt)
    scrub = _Scrubber(det, pseudo)
    new_cases, changed = [], 0
    for case in dataset:
        new = scrub.case(case)
        changed += new != case
        new_cases.append(new)
    out = dataset.copy()
    result = AnonymizationResult(dataset=out, counts=dict(sorted(scrub.counts.items())), cases_changed=changed,
                                 n=len(new_cases), method=getattr(det, "name", type(det).__name__),
                                 salt_id=pseudo.salt_id)
    out.metadata["anonymized"] = result.to_dict()
    out.replace_cases(new_cases, action="anonymize", detail=result.summary(), counts=result.counts)
    return result
