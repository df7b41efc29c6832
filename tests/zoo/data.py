"""Rows for the type zoo, chosen for the values that copies get wrong."""

import datetime as dt
import uuid
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db.models import JSONField
from django.db.models.expressions import Value
from django.utils import timezone

from . import models as m

UTC = dt.timezone.utc
ODD_KEY = "a:b/c?d#e%f\"g'h"


def populate(using: str = "default", rows: int = 30) -> None:
    """Fill every zoo table on ``using`` with edge values plus ``rows`` ordinary rows."""
    people = [
        m.Person.objects.db_manager(using).create_user(
            f"user{i}", f"user{i}@example.com", password=f"pw{i}", nickname="ñandú 🐍" if i else ""
        )
        for i in range(4)
    ]
    everything(using, rows)
    m.SmallAuto.objects.using(using).bulk_create([m.SmallAuto(name=f"s{i}") for i in range(5)])
    m.PlainAuto.objects.using(using).bulk_create([m.PlainAuto(id=10 + i, name=f"p{i}") for i in range(5)])

    # A foreign-key cycle: authors point at books, books at authors.
    authors = [m.Author.objects.using(using).create(name=f"Author {i}") for i in range(3)]
    tags = [m.Tag.objects.using(using).create(name=n) for n in ("sci-fi", "Ñoño", "日本")]
    books = []
    for i, author in enumerate(authors * 2):
        book = m.Book.objects.using(using).create(title=f"Book {i}", author=author)
        book.tags.set(tags[: i % 4])
        book.keywords.add(f"kw{i % 3}", "shared")
        books.append(book)
    for author, book in zip(authors, books[::-1]):
        author.favourite_book = book
        author.save(using=using)
    for i, (book, person) in enumerate(zip(books, people * 2)):
        m.Reading.objects.using(using).create(book=book, person=person, rating=i % 6)

    root = m.Category.objects.using(using).create(name="root")
    child = m.Category.objects.using(using).create(name="child", parent=root)
    m.Category.objects.using(using).create(name="grandchild", parent=child)

    ct = ContentType.objects.db_manager(using)
    for obj in (books[0], people[1], root):
        m.Comment.objects.using(using).create(
            content_type=ct.get_for_model(obj), object_id=obj.pk, body=f"on {obj}"
        )

    m.Place.objects.using(using).create(name="just a place")
    m.Restaurant.objects.using(using).create(name="diner", serves_pizza=False)
    m.Pizzeria.objects.using(using).create(name="napoli", serves_pizza=True, oven="wood")

    m.Ticket.objects.using(using).create(id=uuid.UUID(int=1), seat="A1")
    m.Ticket.objects.using(using).create(seat="B2")
    codes = [
        m.Code.objects.using(using).create(code=ODD_KEY, meaning="every URL character"),
        m.Code.objects.using(using).create(code="plain", meaning="ordinary"),
        m.Code.objects.using(using).create(code="Ünïcødé ✓", meaning="non-ASCII"),
    ]
    codes[0].used_by.set(people[:2])
    caches["default"].set("greeting", {"hello": "world"}, timeout=None)


def everything(using: str, rows: int) -> None:
    edge = [
        # Extremes and precision.
        m.Everything(
            boolean=True, null_boolean=None, char="x" * 100, null_char=None, text="",
            slug="max", email="a@b.co", url="https://example.com/?q=1#f",
            integer=2**31 - 1, small=-(2**15), big=2**63 - 1, positive=2**31 - 1,
            positive_small=32767, positive_big=2**63 - 1,
            decimal=Decimal("9999999999.9999"), floating=0.1 + 0.2,
            date=dt.date(1, 1, 1), datetime=dt.datetime(2024, 2, 29, 23, 59, 59, 999999, UTC),
            time=dt.time(23, 59, 59, 999999), duration=dt.timedelta(days=-1, microseconds=1),
            uuid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
            json={"nested": {"list": [1, 2.5, None, True, "ünï"]}, "": 0},
            binary=bytes(range(256)), ip="2001:db8::1", file="files/a b.txt",
            image="images/x.png", tags=["a", "b c"], price=Decimal("12.34"),
        ),
        # Empty strings are not NULL, JSON null is not SQL NULL.
        m.Everything(
            boolean=False, null_boolean=False, char="", null_char="", text="line\nbreak\ttab\\",
            slug="empty", email="", url="", integer=-(2**31), small=0, big=-(2**63),
            decimal=Decimal("-0.0001"), floating=-1.7976931348623157e308,
            date=dt.date(9999, 12, 31), datetime=dt.datetime(1970, 1, 1, tzinfo=UTC),
            time=dt.time(0, 0), duration=dt.timedelta(0), json=Value(None, JSONField()),
            binary=b"", ip="192.168.0.1", tags=[], price=Decimal("0"),
        ),
        m.Everything(slug="nulls", email="n@n.n", json=None, floating=5e-324, decimal=Decimal("0"),
                     text="emoji 🐍 and NUL-free"),
        m.Everything(slug="json-scalars", json="just a string", floating=float(2**53 + 1)),
        m.Everything(slug="json-list", json=[], null_boolean=True, char="'quoted' \"double\""),
    ]
    base = dt.datetime(2024, 3, 31, 0, 30, 0, 123456, UTC)
    ordinary = [
        m.Everything(
            boolean=i % 2 == 0, null_boolean=[None, True, False][i % 3], char=f"row {i}",
            text=f"text {i} " * (i % 5), slug=f"row-{i}", email=f"row{i}@example.org",
            url=f"https://example.org/{i}", integer=i * 1000, small=i, big=i * 10**12,
            positive=i, positive_small=i, positive_big=i * 10**15,
            decimal=Decimal(f"{i}.{i:04d}"), floating=i / 3,
            date=(base + dt.timedelta(days=i)).date(), datetime=base + dt.timedelta(hours=i, microseconds=i),
            time=(base + dt.timedelta(seconds=i * 997)).time(),
            duration=dt.timedelta(seconds=i, microseconds=7),
            uuid=uuid.UUID(int=i), json={"i": i, "even": i % 2 == 0}, binary=bytes([i % 256]) * i,
            ip=f"10.0.0.{i % 256}", tags=[str(i)], price=Decimal(i) + Decimal("0.99"),
        )
        for i in range(rows)
    ]
    m.Everything.objects.using(using).bulk_create(edge + ordinary)
    # A few naive-looking but aware datetimes around a DST change elsewhere.
    m.Everything.objects.using(using).filter(slug="row-1").update(
        datetime=timezone.make_aware(dt.datetime(2024, 10, 27, 2, 30), dt.timezone.utc)
    )
