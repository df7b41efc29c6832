"""Checks of text and binary columns: length, characters the target refuses, types."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..fields import TEXT_TYPES
from ..reports.model import FindingKind as K
from .base import ColumnCheck, each, type_name

#: Text types whose column is ``varchar(max_length)``.
_VARCHAR_TYPES = TEXT_TYPES - {"TextField"}


@dataclass(frozen=True)
class _TextRules:
    """What a text column refuses on a target: a length, characters (one regular expression)."""

    limit: int | None
    pattern: re.Pattern | None
    vendor: str
    #: The column's character set where it cannot store every character (utf8mb3, latin1).
    charset: str | None
    #: Which characters :attr:`pattern` finds besides those: the NUL, lone surrogates (invalid UTF-8).
    nul: bool = False
    surrogates: bool = False
    #: What a character of the narrow charset is refused as.
    charset_kind: K | None = None

    def problem(self, value) -> tuple[K, str] | None:
        if type(value) is not str:
            return K.WRONG_TYPE, f"a {type_name(value)} in a text column"
        if self.pattern is not None and (m := self.pattern.search(value)):
            char = m.group()
            if char == "\x00":
                return K.NUL_CHARACTER, f"contains the NUL character, which {self.vendor} refuses in text"
            if "\ud800" <= char <= "\udfff":
                return K.INVALID_UTF8, "is not valid UTF-8"
            four = " (4 bytes in UTF-8)" if self.charset_kind is K.FOUR_BYTE_CHARACTER else ""
            return self.charset_kind, f"contains {char!r}{four}, which a {self.charset} column cannot store"
        if self.limit is not None and len(value) > self.limit:
            return K.TOO_LONG, f"{len(value)} characters; max_length is {self.limit}"
        return None

    def refuses_any(self, texts: list[str]) -> bool:
        """Whether any of ``texts`` holds a character :attr:`pattern` finds (there is one)."""
        if sum(map(len, texts)) >= _JOIN_LIMIT:  # joined or encoded, large values would be copied
            return any(map(self.pattern.search, texts))
        return self._holds_refused("\n".join(texts))

    def _holds_refused(self, text: str) -> bool:
        # Without the regular expression where it can (3 to 6 times faster): the
        # NUL by a byte search, lone surrogates by the strict encoder, which
        # refuses exactly those; ASCII text (known in O(1)) holds neither.
        # 4-byte characters need the expression.
        if self.charset:
            return self.pattern.search(text) is not None
        if self.nul and "\x00" in text:
            return True
        if not self.surrogates or text.isascii():
            return False
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False


def text_rules(field, kind, target, want) -> _TextRules:
    """What a text column refuses on ``target``."""
    limit = None
    if kind in _VARCHAR_TYPES and field.max_length and target.enforces_max_length and want(K.TOO_LONG):
        limit = field.max_length
    nul = target.refuses_nul and want(K.NUL_CHARACTER)
    surrogates = want(K.INVALID_UTF8)  # invalid UTF-8, kept as lone surrogates by the reader
    narrow = target.narrow_charset(field)
    chars = "\x00" * nul + "\ud800-\udfff" * surrogates
    pattern = "|".join(filter(None, [chars and f"[{chars}]", narrow and narrow[1]]))
    charset, _, kind = narrow or (None, None, None)
    return _TextRules(limit, re.compile(pattern) if pattern else None, target.vendor, charset, nul,
                      surrogates, kind)


def text_check(field, kind, source, target, want) -> ColumnCheck | None:
    rules = text_rules(field, kind, target, want)
    limit, pattern = rules.limit, rules.pattern
    types = want(K.WRONG_TYPE)
    if limit is None and pattern is None and not types:
        return None

    def check(values):
        if types:
            kinds = set(map(type, values))
            if not kinds <= _TEXT_OR_NULL:
                return each(values, rules.problem)
            present = [v for v in values if v is not None] if type(None) in kinds else values
        else:
            present = [v for v in values if v is not None]
        if not present or (
            (limit is None or max(map(len, present)) <= limit)
            and (pattern is None or not rules.refuses_any(present))
        ):
            return []  # the whole column passes without a per-value loop
        return each(values, rules.problem)

    return check


_TEXT_OR_NULL = frozenset({str, type(None)})


def binary_check(field, kind, source, target, want) -> ColumnCheck | None:
    """A ``BinaryField`` holds bytes; SQLite lets the column hold text or a number, which
    no target's bytes column takes (and Django reads as what it is, not as bytes)."""
    if not want(K.WRONG_TYPE):
        return None

    def problem(value):
        if type(value) in _BYTES:
            return None
        return K.WRONG_TYPE, f"a {type_name(value)} in a binary column"

    def check(values):
        return [] if set(map(type, values)) <= _BYTES_OR_NULL else each(values, problem)

    return check


_BYTES = frozenset({bytes, bytearray, memoryview})
_BYTES_OR_NULL = _BYTES | {type(None)}


def search_any(pattern: re.Pattern, texts: list[str]):
    """Whether ``pattern`` occurs in any of ``texts``: in their joined text (one C call), or
    text by text where that would copy large values."""
    if sum(map(len, texts)) < _JOIN_LIMIT:
        return pattern.search("\n".join(texts))
    return any(map(pattern.search, texts))


#: Characters of a chunk's texts up to which they are searched joined.
_JOIN_LIMIT = 1 << 20
