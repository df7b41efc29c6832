"""Checks of JSON columns: validity as the target parses it, nesting depth, numbers it can store.

Most chunks pass in C: one search of their joined text, then the C scanner
over each value. A value the target would refuse is named with the target's
own reason: MariaDB's ``json_valid()`` refuses 32 levels of nesting,
``jsonb`` numbers beyond ``numeric``'s range. A value nested deeper than
Python's ``json`` reads is refused too: portadb cannot check it, and Django's
``JSONField`` could not read it back either.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from itertools import accumulate, repeat
from operator import add

from ..reports.model import FindingKind as K
from .base import ColumnCheck, each, preview
from .text import search_any, text_rules


def json_check(field, kind, source, target, want) -> ColumnCheck | None:
    rules = text_rules(field, kind, target, want)
    pattern = rules.pattern
    strict = target.normalises_json
    decoder = _STRICT_JSON if strict else _JSON
    surrogates = target.refuses_lone_surrogates_in_json
    depth = target.json_depth_limit or math.inf
    bound = min(depth, DEEPEST)  # the nesting refused beyond, by the target or by portadb
    if source.json_depth_limit is not None and source.json_depth_limit <= bound:
        bound = math.inf  # the source holds no JSON nested that deep
    digits = target.json_number_digits if target.json_number_digits != source.json_number_digits else None

    def problem(value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return None  # a bare JSON number
        found = rules.problem(value)
        if found:
            return found
        if _brackets(value) > bound and (levels := nesting(value)) > bound:
            if levels > depth:
                return K.INVALID_JSON, (f"nests {levels:,} levels deep; {target.display_name} takes JSON"
                                        f" nested {depth} levels at most")
            return K.INVALID_JSON, (f"nests {levels:,} levels deep; portadb checks JSON nested {DEEPEST}"
                                    " levels at most (Python's json, and so Django, reads about 1,000)")
        try:
            decoded = with_long_integers(decoder.decode, value)
        except RecursionError:  # nesting() was misled by text that is no JSON
            return K.INVALID_JSON, "is not valid JSON (it nests deeper than Python's json reads)"
        except ValueError as e:
            return K.INVALID_JSON, f"is not valid JSON ({e})"
        if strict and "\\u0000" in value:
            return K.NUL_CHARACTER, f"holds \\u0000, which {target.vendor} refuses in JSON"
        if surrogates and _SURROGATE_ESCAPE.search(value) and _has_surrogate(decoded):
            return K.INVALID_JSON, f"holds an unpaired surrogate escape, which {target.vendor} refuses"
        if digits is not None and _large_numbers([value]):
            return _number_problem(value, digits, target)
        return None

    # A source that holds valid JSON only (jsonb) and a target that takes any: nesting is all.
    depth_only = not want(K.INVALID_JSON) and pattern is None and not strict and not surrogates \
        and digits is None
    if depth_only and bound == math.inf:
        return None

    def too_deep(texts: list[str]) -> bool:
        # Brackets counted in C; only a text with more than ``bound`` has its nesting measured.
        if bound == math.inf or _most_brackets(texts) <= bound:
            return False
        return any(nesting(t) > bound for t in texts if _brackets(t) > bound)

    def too_long(texts: list[str]) -> bool:
        # One search of the joined text; only a text it matches (an exponent in a string
        # matches too) has its numbers read.
        if digits is None or not _large_numbers(texts):
            return False
        return any(_suspect_numbers(t, digits, target) for t in texts if _large_numbers([t]))

    scan = decoder.scan_once  # the C scanner: one JSON value from an index, (value, end)

    def check(values):
        # A chunk of JSON text passes in C: one search of its joined text for
        # refused characters and escapes, then each value scanned to its very
        # end. Only a chunk that may hold a refusal is looked at value by value.
        present = [v for v in values if v is not None]
        if present and set(map(type, present)) == {str}:
            # Each distinct text once: a column's JSON often repeats (defaults, settings, a few shapes).
            present = list(dict.fromkeys(present))
            if depth_only:
                return each(values, problem) if too_deep(present) else []
            if not ((pattern is not None and rules.refuses_any(present))
                    or (strict and search_any(_NUL_ESCAPE, present))
                    or (surrogates and search_any(_SURROGATE_ESCAPE, present))
                    or too_deep(present) or too_long(present)):
                try:
                    ends = [end for _, end in map(scan, present, repeat(0))]
                except (ValueError, StopIteration, RecursionError):
                    pass  # one of them is no JSON (or starts with white space, or nests too deep)
                else:
                    if ends == list(map(len, present)):
                        return []
        return each(values, problem)

    return check


def nesting(text: str) -> int:
    """How many levels of arrays and objects ``text`` nests, counted without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


@contextmanager
def unlimited_int_digits() -> Iterator[None]:
    """Python reads and writes integers of any length meanwhile: JSON may hold one of more
    than the 4,300 digits Python allows by default (``sys.set_int_max_str_digits``)."""
    limit = getattr(sys, "get_int_max_str_digits", None)
    if limit is None:  # a Python before the limit
        yield
        return
    before = limit()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


def with_long_integers(function, *args):
    """``function(*args)``, again with integers of any length where Python's limit of 4,300
    digits stopped it (JSON may hold a longer one)."""
    try:
        return function(*args)
    except ValueError as e:
        if "integer string conversion" not in str(e):
            raise
    with unlimited_int_digits():
        return function(*args)


def _brackets(text: str) -> int:
    """An upper bound of the nesting: brackets inside strings count too."""
    return text.count("[") + text.count("{")


def _most_brackets(texts: list[str]) -> int:
    """The largest :func:`_brackets` of ``texts``, in C."""
    return max(map(add, map(str.count, texts, repeat("[")), map(str.count, texts, repeat("{"))))


def _large_numbers(texts: list[str]) -> bool:
    """Whether any of ``texts`` may hold a number of more digits than a bounded one keeps."""
    return bool(search_any(_EXPONENT, texts)) or any(
        _LONG_DIGITS.search(text) for text in texts if len(text) >= _LONG)


def _suspect_numbers(text: str, digits: tuple[int, int], target) -> bool:
    """Whether ``text`` holds a number ``target`` cannot store, or may (it is no JSON Python reads)."""
    try:
        return _number_problem(text, digits, target) is not None
    except (ValueError, RecursionError):
        return True  # the value-by-value check names it


def _number_problem(value: str, digits: tuple[int, int], target) -> tuple[K, str] | None:
    """The first number of ``value`` that ``target``'s JSON cannot store: (most digits before
    the decimal point, most after)."""
    numbers: list[str] = []

    def keep(text):
        numbers.append(text)
        return 0

    with unlimited_int_digits():
        json.JSONDecoder(parse_float=keep, parse_int=keep, parse_constant=keep).decode(value)
    before, after = digits
    for text in numbers:
        number = Decimal(text)
        scale = -number.as_tuple().exponent
        if scale > after:
            return K.INVALID_JSON, (f"holds the number {preview(text)} with {scale:,} digits after the"
                                    f" decimal point; {target.display_name} stores {after:,} at most")
        if number and number.adjusted() >= before:
            return K.INVALID_JSON, (f"holds the number {preview(text)} with {number.adjusted() + 1:,}"
                                    f" digits before the decimal point; {target.display_name} stores"
                                    f" {before:,} at most")
    return None


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs):
    made = dict(pairs)
    if len(made) < len(pairs):  # a key came twice: name it
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears twice; a normalising JSON column keeps one")
            seen.add(key)
    return made


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_surrogate, value))
    return False


#: The deepest JSON portadb checks: Python 3.11 and 3.12 read about 1,000 levels (less the
#: calls around), 3.13 more; the same answer on every Python. Every target but MariaDB
#: takes deeper JSON (SQLite 1,000 or 2,000 levels, PostgreSQL as its stack allows).
DEEPEST = 900
#: JSON as the targets parse it: NaN and Infinity are not JSON.
_JSON = json.JSONDecoder(parse_constant=_no_constant)
#: ... and as jsonb keeps it: one value per key.
_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_unique_keys)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NUL_ESCAPE = re.compile(r"\\u0000")
#: What a number of more digits than ``jsonb`` keeps needs: an exponent of 1,000 or more, or
#: 10,000 digits (the exponent also matches in a string: then the value is parsed).
_EXPONENT = re.compile(r"[eE][-+]?0*[1-9]\d{3}")
_LONG = 10_000
_LONG_DIGITS = re.compile(rf"\d{{{_LONG}}}")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
