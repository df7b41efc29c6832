"""Bad rows SQLite accepts and other databases refuse, added to a copy of the zoo.

Written with the plain ``sqlite3`` module (foreign keys off, no Django
conversion), because that is how such values get into real databases: an old
script, a manual fix, a type SQLite never enforced. Every kind of value check
has at least one row; the zoo's own rows are the control rows.

:func:`spoil` returns what each target must refuse: ``{(table, pk, field, kind)}``
per target vendor. Rows a target can store exactly (``inf`` in a PostgreSQL
float, a NUL in MariaDB text, ``'SCI-FI'`` next to ``'sci-fi'`` on PostgreSQL)
are missing from that target's set: the copy must carry them unchanged.
"""

from __future__ import annotations

import sqlite3

import django
from django.conf import settings

from portadb.reports import FindingKind as K

PG, MY = "postgresql", "mysql"
BOTH = (PG, MY)
#: Django 5 keeps a UUIDField in MariaDB's own uuid type (10.7 and later), which refuses some
#: UUIDs; Django 4.2 keeps it in char(32), which takes any.
UUID_TYPE = (MY,) if django.VERSION >= (5, 0) else ()
#: Django 6 reads text in a SQLite decimal column as ``Decimal`` does (``'1_000'`` is 1000);
#: earlier versions cannot read text there at all.
TEXT_DECIMAL = () if django.VERSION >= (6, 0) else BOTH

#: (column, SQL expression or parameter, field, kind, targets that refuse it)
EVERYTHING = [
    ("char", "x" * 300, "char", K.TOO_LONG, BOTH),
    ("integer", 2**40, "integer", K.INTEGER_OUT_OF_RANGE, BOTH),
    ("small", 40_000, "small", K.INTEGER_OUT_OF_RANGE, BOTH),
    ("decimal", "12345678901.5", "decimal", K.DECIMAL_OVERFLOW, BOTH),
    ("decimal", 1.23456, "decimal", K.DECIMAL_OVERFLOW, BOTH),
    ("decimal", "1_000", "decimal", K.NOT_A_NUMBER, TEXT_DECIMAL),  # text SQLite takes for no number
    ("text", "a\x00b", "text", K.NUL_CHARACTER, (PG,)),
    ("text", ("CAST(X'C328' AS TEXT)",), "text", K.INVALID_UTF8, BOTH),
    ("json", "{not json", "json", K.INVALID_JSON, BOTH),
    ("json", '{"n": NaN}', "json", K.INVALID_JSON, BOTH),
    ("json", '{"a": 1, "a": 2}', "json", K.INVALID_JSON, (PG,)),  # jsonb keeps one "a"
    ("json", '["\\ud800"]', "json", K.INVALID_JSON, BOTH),  # an unpaired surrogate escape
    ("json", "[" * 40 + "]" * 40, "json", K.INVALID_JSON, (MY,)),  # MariaDB's json_valid(): 31 levels
    ("json", "[" * 1500 + "]" * 1500, "json", K.INVALID_JSON, BOTH),  # deeper than Python's json reads
    ("json", '{"n": [1e200000]}', "json", K.INVALID_JSON, (PG,)),  # digits numeric cannot hold
    ("json", "[1.5e-16383]", "json", K.INVALID_JSON, (PG,)),
    ("date", "2023-02-30", "date", K.IMPOSSIBLE_DATE, BOTH),
    ("date", "0000-00-00", "date", K.ZERO_DATE, BOTH),
    ("datetime", "2024-00-10 10:00:00", "datetime", K.ZERO_DATE, BOTH),
    ("date", "infinity", "date", K.DATE_OUT_OF_RANGE, BOTH),
    ("datetime", "2024-01-01 10:00:00.123456789", "datetime", K.TOO_PRECISE, BOTH),
    ("datetime", "2023-13-01 00:00:00", "datetime", K.IMPOSSIBLE_DATE, BOTH),
    ("time", "25:61:00", "time", K.IMPOSSIBLE_DATE, BOTH),
    ("time", "12:00:00+02:00", "time", K.TIMEZONE, BOTH),
    ("floating", float("inf"), "floating", K.NOT_FINITE, (MY,)),
    ("decimal", "Infinity", "decimal", K.NOT_FINITE, BOTH),
    ("integer", "1.5", "integer", K.NOT_AN_INTEGER, BOTH),
    ("big", "abc", "big", K.NOT_AN_INTEGER, BOTH),
    ("floating", "abc", "floating", K.NOT_A_NUMBER, BOTH),
    ("boolean", 2, "boolean", K.NOT_A_BOOLEAN, BOTH),
    ("uuid", "not-a-uuid", "uuid", K.INVALID_UUID, BOTH),
    # Version 8 with the NCS variant: a UUID to Python and PostgreSQL, not to MariaDB's uuid type.
    ("uuid", "12345678123481230123567812345678", "uuid", K.INVALID_UUID, UUID_TYPE),
    ("ip", "not an ip", "ip", K.INVALID_IP, (PG,)),
    ("ip", "2001:DB8:0::1", "ip", K.INVALID_IP, BOTH),
    ("ip", "10.0.0.1 ", "ip", K.INVALID_IP, BOTH),  # MariaDB's char(39) gives it back without the space
    ("char", ("X'0102'",), "char", K.WRONG_TYPE, BOTH),
    ("binary", "text, not bytes", "binary", K.WRONG_TYPE, BOTH),
    ("binary", 42, "binary", K.WRONG_TYPE, BOTH),
]


def spoil(alias: str = "default") -> dict[str, set[tuple]]:
    """Add the bad rows to the SQLite database of ``alias``; return what each target refuses."""
    expected: dict[str, set[tuple]] = {PG: set(), MY: set()}

    def expect(targets, row):
        for target in targets:
            expected[target].add(row)

    db = sqlite3.connect(settings.DATABASES[alias]["NAME"], isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("PRAGMA ignore_check_constraints = ON")  # Django adds CHECK (JSON_VALID(...))
        columns = [r[1] for r in db.execute("PRAGMA table_info(zoo_everything)") if r[1] != "id"]
        names = ", ".join(columns)
        copied = ", ".join("?" if c == "slug" else c for c in columns)
        for n, (column, value, field, kind, targets) in enumerate(EVERYTHING):
            pk = _insert(db, f"INSERT INTO zoo_everything ({names}) SELECT {copied} FROM zoo_everything"
                             " WHERE slug = 'row-3'", [f"bad-{n}"])
            if isinstance(value, tuple):  # an SQL expression
                db.execute(f"UPDATE zoo_everything SET {column} = {value[0]} WHERE id = ?", [pk])
            else:
                db.execute(f"UPDATE zoo_everything SET {column} = ? WHERE id = ?", [value, pk])
            expect(targets, ("zoo_everything", pk, field, kind))

        # A dangling foreign key, and an M2M row that depends on the refused book.
        book = _insert(db, "INSERT INTO zoo_book (title, author_id) VALUES ('Orphan', 999)")
        expect(BOTH, ("zoo_book", book, "author", K.DANGLING_REFERENCE))
        link = _insert(db, "INSERT INTO zoo_book_tags (book_id, tag_id) VALUES (?, 1)", [book])
        expect(BOTH, ("zoo_book_tags", link, "book", K.DEPENDS_ON_REFUSED))
        (book_type,) = db.execute("SELECT id FROM django_content_type"
                                  " WHERE app_label = 'zoo' AND model = 'book'").fetchone()
        keyword = _insert(db, "INSERT INTO taggit_taggeditem (tag_id, content_type_id, object_id)"
                              " VALUES (1, ?, ?)", [book_type, book])
        expect(BOTH, ("taggit_taggeditem", keyword, "content_object", K.DEPENDS_ON_REFUSED))

        # A self reference to a refused row.
        parent = _insert(db, "INSERT INTO zoo_category (name, parent_id) VALUES (?, NULL)", ["c" * 80])
        child = _insert(db, "INSERT INTO zoo_category (name, parent_id) VALUES ('child of bad', ?)",
                        [parent])
        expect(BOTH, ("zoo_category", parent, "name", K.TOO_LONG))
        expect(BOTH, ("zoo_category", child, "parent", K.DEPENDS_ON_REFUSED))

        # Multi-table inheritance: a refused child takes its parent rows along.
        place = _insert(db, "INSERT INTO zoo_place (name) VALUES ('bad pizza place')")
        db.execute("INSERT INTO zoo_restaurant (place_ptr_id, serves_pizza) VALUES (?, 1)", [place])
        db.execute("INSERT INTO zoo_pizzeria (restaurant_ptr_id, oven) VALUES (?, ?)", [place, "o" * 50])
        expect(BOTH, ("zoo_pizzeria", place, "oven", K.TOO_LONG))
        expect(BOTH, ("zoo_restaurant", place, "place_ptr", K.DEPENDS_ON_REFUSED))
        expect(BOTH, ("zoo_place", place, "id", K.DEPENDS_ON_REFUSED))

        # Unique values MariaDB's PAD SPACE, case-insensitive collations make equal.
        tag = _insert(db, "INSERT INTO zoo_tag (name) VALUES ('SCI-FI')")
        expect((MY,), ("zoo_tag", tag, "name", K.UNIQUE_COLLISION))
        tagged = _insert(db, "INSERT INTO zoo_book_tags (book_id, tag_id) VALUES (1, ?)", [tag])
        expect((MY,), ("zoo_book_tags", tagged, "tag", K.DEPENDS_ON_REFUSED))
        # A primary key no UUID: its row sorts among the others by no order of UUIDs.
        db.execute("INSERT INTO zoo_ticket (id, seat) VALUES ('not-a-uuid', 'x')")
        expect(BOTH, ("zoo_ticket", "not-a-uuid", "id", K.INVALID_UUID))
        db.execute("INSERT INTO zoo_plainauto (id, name) VALUES (100, 'p0 ')")
        expect((MY,), ("zoo_plainauto", 100, "name", K.UNIQUE_COLLISION))
    finally:
        db.close()
    return expected


def _insert(db, sql: str, params=()) -> int:
    return db.execute(sql, params).lastrowid
