"""Serial and date codes: every brand has one template; genuine codes always match it.

Template symbols: ``@`` an upper-case letter, ``#`` a digit, ``y`` a two-digit year
(15-24), ``w`` a two-digit ISO week (01-52); anything else is literal. Counterfeit codes with
the `wrong_serial_format` flaw are built from a genuine one and then broken in one of the ways
authenticators see in practice (impossible week, wrong length, lower-case letter, a letter
where a digit belongs, wrong separator, mangled prefix).
"""
from __future__ import annotations

import re
import string
import zlib
from functools import cache

import numpy as np

_YEAR_RE = "(?:1[5-9]|2[0-4])"
_WEEK_RE = "(?:0[1-9]|[1-4][0-9]|5[0-2])"


@cache
def serial_regex(template: str) -> re.Pattern[str]:
    parts = []
    for symbol in template:
        parts.append({"@": "[A-Z]", "#": "[0-9]", "y": _YEAR_RE, "w": _WEEK_RE}.get(
            symbol, re.escape(symbol)))
    return re.compile("".join(parts))


def serial_matches(template: str, serial: str) -> bool:
    return serial_regex(template).fullmatch(serial) is not None


def make_serial(template: str, rng: np.random.Generator) -> str:
    out = []
    for symbol in template:
        if symbol == "@":
            out.append(string.ascii_uppercase[rng.integers(26)])
        elif symbol == "#":
            out.append(str(rng.integers(10)))
        elif symbol == "y":
            out.append(f"{rng.integers(15, 25):02d}")
        elif symbol == "w":
            out.append(f"{rng.integers(1, 53):02d}")
        else:
            out.append(symbol)
    return "".join(out)


def leaked_serial(template: str, model_key: str) -> str:
    """The one genuine code that counterfeiters of a model copy onto every fake.

    Fakes without a format error reuse it, so the same code turns up on many listings.
    crc32, not hash(): str hashes are salted per process and would break determinism."""
    rng = np.random.default_rng(zlib.crc32(model_key.encode()))
    return make_serial(template, rng)


def _field_spans(template: str) -> list[tuple[str, int, int]]:
    """(symbol, start, end) of each template symbol in a serial built from it."""
    spans, pos = [], 0
    for symbol in template:
        width = 2 if symbol in "yw" else 1
        spans.append((symbol, pos, pos + width))
        pos += width
    return spans


def break_serial(template: str, serial: str, rng: np.random.Generator) -> str:
    """Return a code that looks like the brand's but does not match its template."""
    spans = _field_spans(template)
    breakers = []
    weeks = [s for s in spans if s[0] == "w"]
    letters = [s for s in spans if s[0] == "@"]
    digits = [s for s in spans if s[0] == "#"]
    separators = [s for s in spans if s[0] in "-/"]
    literals = [s for s in spans if s[0] not in "@#yw-/"]
    if weeks:
        breakers.append(lambda s: _replace(s, weeks[0], f"{rng.integers(53, 70)}"))
    if letters:
        breakers.append(lambda s: _replace(s, letters[-1], s[letters[-1][1]].lower()))
    if digits:
        breakers.append(lambda s: _replace(s, digits[0], "OISB"[rng.integers(4)]))
    if separators:
        breakers.append(lambda s: _replace(s, separators[0], " _."[rng.integers(3)]))
    if len(literals) >= 2:
        a, b = literals[0], literals[1]
        breakers.append(lambda s: s[: a[1]] + s[b[1]] + s[a[1]] + s[b[2]:])
    breakers.append(lambda s: s + str(rng.integers(10)))          # one character too many
    breakers.append(lambda s: s[:-1] if len(s) > 4 else s + "0")  # one too few
    for _ in range(8):
        broken = breakers[rng.integers(len(breakers))](serial)
        if not serial_matches(template, broken):
            return broken
    return serial + "X"


def _replace(serial: str, span: tuple[str, int, int], text: str) -> str:
    return serial[: span[1]] + text + serial[span[2]:]
