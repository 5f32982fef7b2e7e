"""A generated PII corpus with known spans, and precision/recall of a detector on it.

The corpus is seeded and built from templates of support-desk messages; every inserted value's span is known.
Values look real and pass their checksums: names from a mixed list of first and last names, emails derived
from them, phones in US/UK/DE/FR/international formats, Luhn-valid Visa/Mastercard/Amex numbers (grouped or
not), mod-97-valid IBANs for several countries, IPv4/IPv6 addresses, URLs carrying reset tokens or signatures,
and API keys of the common shapes. Distractors that must NOT be flagged are mixed in: order numbers that fail
Luhn, plain documentation URLs, version strings, prices, dates.

Scoring: a found span is a true positive when it has the gold type and its character overlap with an unmatched
gold span is at least half of their union (IoU >= 0.5). ``protected`` is the share of gold values that no
longer appear verbatim after replacing every found span (of any type): what matters for privacy.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._pii import ENTITIES, PiiDetector, PiiSpan

FIRST = ["James", "Maria", "Wei", "Aisha", "Olga", "Juan", "Fatima", "Liam", "Priya", "Kenji", "Sofia", "Ahmed",
         "Emma", "Noah", "Chloe", "Lukas", "Ingrid", "Mateo", "Amara", "Hiroshi", "Elena", "Omar", "Grace", "David",
         "Sarah", "Michael", "Anna", "Thomas", "Laura", "Daniel"]
LAST = ["Smith", "Garcia", "Chen", "Khan", "Ivanova", "Martinez", "Hassan", "Murphy", "Patel", "Tanaka", "Rossi",
        "Ali", "Johnson", "Williams", "Dubois", "Schneider", "Larsen", "Lopez", "Okafor", "Sato", "Popescu", "Haddad",
        "Brown", "Miller", "Wilson", "Taylor", "Becker", "Novak", "Fischer", "Anderson"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "acme-corp.com", "mail.example.org", "uni-berlin.de",
           "proton.me", "company.fr"]
IBAN_COUNTRIES: dict[str, int | tuple[int, int]] = {"DE": 18, "GB": (4, 14), "FR": 23, "NL": (4, 10), "ES": 20, "IT": (1, 22), "BE": 12, "AT": 16}

TEMPLATES = [
    "Hi, this is {PERSON}. Please send the invoice to {EMAIL}.",
    "My card {CREDIT_CARD} was charged twice for order #{ORDER}, can you refund it?",
    "Call me back at {PHONE} after 5pm, thanks, {PERSON}",
    "Please wire the refund to IBAN {IBAN} (account holder {PERSON}).",
    "The login from {IP_ADDRESS} was not me. My email is {EMAIL}.",
    "I clicked {URL} and it says the link expired.",
    "Our build fails with key {API_KEY} on version 2.4.1, see {PLAIN_URL}",
    "{PERSON} ({EMAIL}, {PHONE}) asked about the $49.99 plan on 2024-03-15.",
    "Server {IP_ADDRESS} rejects requests signed with {API_KEY}.",
    "Update my phone to {PHONE} and my card to {CREDIT_CARD}.",
    "Can {PERSON} get access? Her address is {EMAIL}.",
    "The webhook {URL} keeps timing out since 1.2.3 (ticket {ORDER}).",
    "How do I reset my password? Docs at {PLAIN_URL} did not help.",
    "What is the refund policy for annual plans bought before 2023-12-01?",
    "Transfer from {IBAN} failed, reference {ORDER}.",
    "Dear support, I am {PERSON} and my IP is {IP_ADDRESS}.",
    "Blocked address: {IP_ADDRESS}. Contact {EMAIL} or {PHONE}.",
    "thanks - {PERSON_LOWER}, reach me on {PHONE}",
    "We upgraded from 4.1.2.0 to 4.2.0.1 at 10:30:00 and order {ORDER} vanished.",
    "Reply to {EMAIL}; the card ending in 4242 is not mine, {CREDIT_CARD} is.",
    "Token leaked in a log: {API_KEY}. Rotate it, {PERSON}!",
]


@dataclass(frozen=True)
class PiiExample:
    """One corpus text and its gold spans (``PiiSpan`` with ``detector="gold"``)."""

    text: str
    spans: tuple[PiiSpan, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "spans": [s.to_dict() for s in self.spans]}


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        from ._pii import luhn_valid

        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


def _email(rng: random.Random, first: str, last: str) -> str:
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{last}{rng.randint(1, 99)}", f"{first}+news",
                        f"{first}_{last}"])
    address = f"{local}@{rng.choice(DOMAINS)}"
    return address if rng.random() < 0.8 else address.title()


def _card(rng: random.Random) -> str:
    kind = rng.choice(["visa", "mc", "amex", "discover"])
    if kind == "amex":
        d = _luhn_complete(rng.choice(["34", "37"]), 15, rng)
        groups = [d[:4], d[4:10], d[10:]]
    else:
        prefix = {"visa": "4", "mc": str(rng.randint(51, 55)), "discover": "6011"}[kind]
        d = _luhn_complete(prefix, 16, rng)
        groups = [d[i:i + 4] for i in range(0, 16, 4)]
    return rng.choice([" ", "-", ""]).join(groups)


def _iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_COUNTRIES))
    shape = IBAN_COUNTRIES[country]
    if isinstance(shape, tuple):
        letters, digits = shape
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(letters)) + \
            "".join(rng.choice(string.digits) for _ in range(digits))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(shape))
    numeric = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    iban = f"{country}{98 - numeric % 97:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban


def _phone(rng: random.Random) -> str:
    def d(n: int) -> str:
        return "".join(rng.choice(string.digits) for _ in range(n))

    return rng.choice([
        f"+1 ({rng.randint(201, 989)}) {d(3)}-{d(4)}", f"+1 {rng.randint(201, 989)}-{d(3)}-{d(4)}",
        f"({rng.randint(201, 989)}) {d(3)}-{d(4)}", f"{rng.randint(201, 989)}-{d(3)}-{d(4)}",
        f"+44 20 {d(4)} {d(4)}", f"020 {d(4)} {d(4)}", f"+49 30 {d(6)}", f"+49 151 {d(4)} {d(4)}",
        f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}", f"+91 {d(5)} {d(5)}", f"{rng.randint(201, 989)}.{d(3)}.{d(4)}",
        f"+44 (0)20 {d(4)} {d(4)}", f"0044 20 {d(4)} {d(4)}", f"+1-{rng.randint(201, 989)}-{d(3)}-{d(4)}",
        f"1-800-{d(3)}-{d(4)}", f"+81 3-{d(4)}-{d(4)}",
    ])


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    groups = [f"{rng.randint(0, 65535):x}" for _ in range(8)]
    return "2001:db8:" + ":".join(groups[2:]) if rng.random() < 0.5 else f"fe80::{groups[5]}:{groups[6]}"


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _url(rng: random.Random) -> str:
    host = rng.choice(["app.acme-corp.com", "portal.example.org", "files.company.fr", "hooks.service.io"])
    return rng.choice([
        f"https://{host}/reset?token={_token(rng, 24)}",
        f"https://{host}/download/report.pdf?X-Amz-Signature={_token(rng, 32, '0123456789abcdef')}&expires=3600",
        f"https://{host}/api/v1/export?api_key={_token(rng, 20)}",
        f"https://admin:{_token(rng, 10)}@{host}/dashboard",
        f"https://{host}/invite?code={_token(rng, 12)}&lang=en",
        f"https://{host}/callback#access_token={_token(rng, 30)}&token_type=bearer",
        f"https://{host}/s/report?sig={_token(rng, 22)}",
    ])


def _api_key(rng: random.Random) -> str:
    return rng.choice([
        "sk-" + _token(rng, 48), "sk-proj-" + _token(rng, 40), "sk-ant-api03-" + _token(rng, 40, string.ascii_letters
                                                                                       + string.digits + "_-"),
        "AKIA" + _token(rng, 16, string.ascii_uppercase + string.digits), "ghp_" + _token(rng, 36),
        "hf_" + _token(rng, 34), "xoxb-" + _token(rng, 12, string.digits) + "-" + _token(rng, 24),
        "AIza" + _token(rng, 35, string.ascii_letters + string.digits + "_-"), "sk_live_" + _token(rng, 24),
    ])


def _plain_url(rng: random.Random) -> str:
    return rng.choice(["https://docs.acme-corp.com/guide/setup", "https://example.org/faq#billing",
                       "http://status.service.io/", "https://company.fr/en/pricing?plan=pro"])


def _order(rng: random.Random) -> str:
    from ._pii import luhn_valid

    while True:  # 16 digits that fail Luhn: must not be taken for a card
        n = _token(rng, 16, string.digits)
        if not luhn_valid(n) and n[0] != "0":
            return n if rng.random() < 0.5 else f"A-{n[:8]}"


def _value_makers(rng: random.Random, first: str, last: str) -> dict[str, Callable[[], str]]:
    person = f"{first} {last}"
    return {
        "PERSON": lambda: person, "PERSON_LOWER": lambda: person.lower(), "EMAIL": lambda: _email(rng, first, last),
        "PHONE": lambda: _phone(rng), "CREDIT_CARD": lambda: _card(rng), "IBAN": lambda: _iban(rng),
        "IP_ADDRESS": lambda: _ip(rng), "URL": lambda: _url(rng), "API_KEY": lambda: _api_key(rng),
        "PLAIN_URL": lambda: _plain_url(rng), "ORDER": lambda: _order(rng),
    }


def make_pii_corpus(n: int = 400, *, seed: int = 0) -> list[PiiExample]:
    """``n`` seeded texts from the templates, with the gold span of every inserted value."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        values = _value_makers(rng, first, last)
        text, spans = "", []
        for literal, fname, _, _ in string.Formatter().parse(template):
            text += literal
            if fname is None:
                continue
            value = values[fname]()
            entity = "PERSON" if fname == "PERSON_LOWER" else fname
            if entity in ENTITIES:
                spans.append(PiiSpan(len(text), len(text) + len(value), entity, 1.0, "gold"))
            text += value
        out.append(PiiExample(text, tuple(spans)))
    return out


@dataclass
class EntityScore:
    """Precision/recall/F1 of one entity type: ``tp``, ``fp``, ``fn`` counts and the rates (None when undefined)."""

    entity: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision,
                "recall": self.recall, "f1": self.f1}


@dataclass
class PiiEvaluation:
    """A detector's scores on a corpus: per entity type, overall (micro), and ``protected`` (see module doc).

    method: the detector's name and the matching rule. n: texts. seed: the corpus seed, if known.
    """

    method: str
    n: int
    seed: int | None
    by_entity: dict[str, EntityScore]
    protected: float
    seconds: float = 0.0
    gold: int = field(default=0)

    @property
    def overall(self) -> EntityScore:
        total = EntityScore("ALL")
        for s in self.by_entity.values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": self.n, "seed": self.seed, "protected": self.protected,
                "seconds": self.seconds, "by_entity": {k: v.to_dict() for k, v in self.by_entity.items()},
                "overall": self.overall.to_dict()}

    def summary(self) -> str:
        def fmt(x: float | None) -> str:
            return "  -  " if x is None else f"{x:.3f}"

        lines = [f"{self.method}: {self.n} texts, {self.gold} gold spans, protected {self.protected:.3f}",
                 f"{'entity':<12} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>5} {'fn':>5}"]
        for s in [*self.by_entity.values(), self.overall]:
            lines.append(f"{s.entity:<12} {fmt(s.precision):>6} {fmt(s.recall):>6} {fmt(s.f1):>6} "
                         f"{s.tp:>5} {s.fp:>5} {s.fn:>5}")
        return "\n".join(lines)


def _iou(a: PiiSpan, b: PiiSpan) -> float:
    inter = max(0, min(a.end, b.end) - max(a.start, b.start))
    union = max(a.end, b.end) - min(a.start, b.start)
    return inter / union if union else 0.0


def evaluate_detector(detector: PiiDetector, corpus: Sequence[PiiExample], *, seed: int | None = None,
                      entities: Sequence[str] | None = None) -> PiiEvaluation:
    """Precision and recall per entity type of ``detector`` on ``corpus`` (IoU >= 0.5 with the gold type)."""
    import time

    kinds = list(entities or ENTITIES)
    scores = {e: EntityScore(e) for e in kinds}
    protected = gold_total = 0
    t0 = time.perf_counter()
    for ex in corpus:
        every = detector.detect(ex.text)
        found = [s for s in every if s.entity in scores]
        scrubbed, last = [], 0
        for s in sorted(every, key=lambda s: s.start):
            scrubbed.append(ex.text[last:s.start] + "\x00")
            last = max(last, s.end)
        scrubbed.append(ex.text[last:])
        remaining = "".join(scrubbed)
        used: set[int] = set()
        for g in ex.spans:
            if g.entity not in scores:
                continue
            gold_total += 1
            protected += ex.text[g.start:g.end] not in remaining
            best = max((i for i, s in enumerate(found) if i not in used and s.entity == g.entity
                        and _iou(s, g) >= 0.5), key=lambda i: _iou(found[i], g), default=None)
            if best is None:
                scores[g.entity].fn += 1
            else:
                used.add(best)
                scores[g.entity].tp += 1
        for i, s in enumerate(found):
            if i not in used:
                scores[s.entity].fp += 1
    return PiiEvaluation(method=f"{getattr(detector, 'name', type(detector).__name__)} (IoU >= 0.5)",
                         n=len(corpus), seed=seed, by_entity=scores,
                         protected=protected / gold_total if gold_total else 1.0,
                         seconds=time.perf_counter() - t0, gold=gold_total)
