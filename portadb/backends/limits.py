"""What a database's columns refuse or enforce: the limits part of every adapter.

:class:`Limits` is mixed into :class:`~portadb.backends.base.Adapter`: the flags
and methods the value checks (:mod:`portadb.checks`), the name checks and the
chunking by bytes ask of a target. Vendors override what differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..reports.model import FindingKind


@dataclass(frozen=True)
class SizeLimit:
    """The most bytes a row (or, ``per_value``, each value) may take on a database's write path."""

    bytes: int
    per_value: bool
    #: Why, naming what sets it: completes "...; " in a refusal.
    reason: str


class Limits:
    """Portable limits; the adapter of a vendor overrides what differs."""

    #: Driver error codes after which the server rolled a whole transaction back and it may
    #: simply run again: InnoDB's deadlock victim, when workers load side by side.
    retry_codes: frozenset = frozenset()

    def rolled_back(self, error: Exception) -> bool:
        """Whether the server rolled ``error``'s whole transaction back (:attr:`retry_codes`)."""
        cause = error.__cause__  # the driver's error behind Django's; MySQLdb's code comes first
        return bool(cause is not None and cause.args and cause.args[0] in self.retry_codes)
    #: Text columns refuse the NUL character (U+0000).
    refuses_nul: bool = False
    #: Float columns refuse infinities and NaN.
    refuses_non_finite_float: bool = False
    #: A float column keeps NaN (SQLite stores it as NULL).
    stores_float_nan: bool = True
    #: A ``DecimalField`` column (``numeric(p, s)``) holds NaN.
    holds_decimal_nan: bool = False
    #: The significant digits a ``DecimalField`` always keeps (SQLite: a double, read back to 15
    #: by Django); ``None``: every digit of ``max_digits``. Of a value with more,
    #: :meth:`stored_decimal` says what comes back.
    decimal_digits: int | None = None
    #: How a decimal of more than :attr:`decimal_digits` is kept, as a refusal says it.
    decimal_storage: str = ""

    def stored_decimal(self, field, number):
        """What Django reads back of the decimal ``number`` written into ``field``'s column here."""
        return number
    #: Date, time, timestamp and interval columns hold values Python's cannot: ±infinity,
    #: years before 1 and after 9999, ``24:00``, months. They are read as the database's
    #: text, which only a database with this flag stores again exactly.
    holds_extreme_dates: bool = False
    #: A ``DateTimeField`` column holds an instant (``timestamptz``): without ``USE_TZ``
    #: a naive value is taken in the session's time zone (``TIME_ZONE``), so a wall time
    #: that zone skips (a daylight-saving gap) would come back shifted.
    stores_datetimes_as_instants: bool = False
    #: ``varchar(n)`` columns refuse values longer than ``n`` characters.
    enforces_max_length: bool = True
    #: JSON columns parse and store a normal form (jsonb): they refuse ``\u0000``
    #: and keep one value per key.
    normalises_json: bool = False
    #: JSON columns refuse unpaired UTF-16 surrogate escapes (``"\ud800"``).
    refuses_lone_surrogates_in_json: bool = False
    #: The deepest nesting of arrays and objects JSON columns take; ``None``: deeper than
    #: Python's ``json`` reads, which bounds what portadb checks anyway.
    json_depth_limit: int | None = None
    #: The digits a number in a JSON column keeps before and after the decimal point
    #: (``jsonb``: ``numeric``'s); ``None``: any number JSON can write.
    json_number_digits: tuple[int, int] | None = None
    #: IP address columns refuse text that is no IP address (a native inet type).
    validates_ip_addresses: bool = False
    #: ``char(n)`` columns give their values back without trailing spaces (MySQL's, unless
    #: ``PAD_CHAR_TO_FULL_LENGTH``): Django's ``GenericIPAddressField`` is one.
    drops_trailing_spaces_of_char: bool = False
    #: The driver takes ``%`` for a parameter marker: a name holding one breaks every
    #: statement with parameters, Django's own queries too.
    percent_marks_parameters: bool = False

    def cannot_name(self, name: str, table: bool = True) -> str | None:
        """Why a table (``table``) or column of this database cannot be called ``name``, or ``None``.

        The reason completes "its table name 'x' ...". A name the database would
        refuse or cut short, and one holding the quote character, which Django's
        schema editor (``quote_name``) writes unescaped into the DDL it runs.
        """
        if "\x00" in name:
            return "holds the NUL character, which no database allows in a name"
        if self.quote_character in name:
            return (f"holds the character {self.quote_character}, which Django's schema editor for "
                    f"{self.display_name} does not escape in the SQL it runs")
        return self.unreadable_name(name)

    def name_key(self, name: str, table: bool = True) -> str:
        """What this database compares of a table (``table``) or column name: two names with
        the same key are one name here."""
        return name

    def vanishes(self) -> bool:
        """True for a database that ends with its last connection (SQLite's in-memory ones)."""
        return False

    def unreadable_name(self, name: str) -> str | None:
        """Why statements cannot name ``name`` on this database, even where it already exists."""
        if self.percent_marks_parameters and "%" in name:
            return (f"holds the character %, which {self.display_name}'s driver takes for a parameter"
                    " in every statement with parameters (Django's own queries too)")
        return None

    def integer_range(self, internal_type: str) -> tuple[int, int] | None:
        """The values an integer column of ``internal_type`` holds, or ``None`` if unbounded."""
        try:
            low, high = self.connection.ops.integer_field_range(internal_type)
        except KeyError:
            return None
        if low is None and high is None:  # Django 4.2's SQLite: "any integer"
            return None
        return (-math.inf if low is None else low, math.inf if high is None else high)

    def size_limit(self) -> SizeLimit | None:
        """The most bytes a row of large values may take on the way in, or ``None``."""
        return None

    def sent_size(self, value) -> int:
        """The bytes a text or binary value takes on the way to this database."""
        return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else len(bytes(value))

    def uuid_refusal(self, number: int) -> str | None:
        """Why a ``UUIDField`` column refuses the UUID ``number`` (its 128 bits), or ``None``.

        Completes "'<uuid>' ..."; only asked where :attr:`refuses_some_uuids`.
        """
        return None

    @property
    def refuses_some_uuids(self) -> bool:
        """Whether a ``UUIDField`` column refuses some UUIDs Python holds."""
        return False

    def narrow_charset(self, field) -> tuple[str, str, FindingKind] | None:
        """The character set of ``field``'s column where it cannot store every character, a
        regular expression of one character it cannot store, and the kind of finding that
        character is (``FOUR_BYTE_CHARACTER`` or ``UNSTORABLE_CHARACTER``); else ``None``."""
        return None

    def unique_keys(self, field) -> Callable[[list[str]], list] | None:
        """A function mapping text values to keys equal exactly when the column's
        collation makes the values equal, or ``None`` when equality is binary."""
        return None
