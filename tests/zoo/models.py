"""The type zoo: every built-in field type and every relation shape portadb copies."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from taggit.managers import TaggableManager

from .fields import CentsField, CommaListField


class Person(AbstractUser):
    """The custom user model."""

    nickname = models.CharField(max_length=40, blank=True)


class PersonProxy(Person):
    class Meta:
        proxy = True


class Everything(models.Model):
    boolean = models.BooleanField(default=False)
    null_boolean = models.BooleanField(null=True)
    char = models.CharField(max_length=100, blank=True)
    null_char = models.CharField(max_length=100, null=True)
    text = models.TextField(blank=True)
    slug = models.SlugField(max_length=60, blank=True)
    email = models.EmailField(blank=True)
    url = models.URLField(max_length=300, blank=True)
    integer = models.IntegerField(default=0)
    small = models.SmallIntegerField(default=0)
    big = models.BigIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    positive_small = models.PositiveSmallIntegerField(default=0)
    positive_big = models.PositiveBigIntegerField(default=0)
    decimal = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    floating = models.FloatField(null=True)
    date = models.DateField(null=True)
    datetime = models.DateTimeField(null=True)
    time = models.TimeField(null=True)
    duration = models.DurationField(null=True)
    uuid = models.UUIDField(null=True)
    json = models.JSONField(null=True)
    binary = models.BinaryField(null=True)
    ip = models.GenericIPAddressField(null=True)
    file = models.FileField(upload_to="files/", blank=True)
    image = models.ImageField(upload_to="images/", blank=True)
    tags = CommaListField(null=True)
    price = CentsField(null=True)

    class Meta:
        indexes = [models.Index(fields=["integer", "char"])]
        constraints = [
            models.UniqueConstraint(fields=["slug", "email"], name="everything_slug_email"),
        ]


class SmallAuto(models.Model):
    id = models.SmallAutoField(primary_key=True)
    name = models.CharField(max_length=20)


class PlainAuto(models.Model):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=20, unique=True)


class Author(models.Model):
    """Half of a foreign-key cycle with Book."""

    name = models.CharField(max_length=100)
    favourite_book = models.ForeignKey("Book", null=True, on_delete=models.SET_NULL,
                                       related_name="fans")


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, blank=True)
    readers = models.ManyToManyField(Person, through="Reading", blank=True)
    keywords = TaggableManager(blank=True)

    class Meta:
        unique_together = [("title", "author")]


class Reading(models.Model):
    """A custom M2M through model with data of its own."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    rating = models.PositiveSmallIntegerField()


class Category(models.Model):
    name = models.CharField(max_length=50)
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="children")


class Comment(models.Model):
    """Points at any object through a generic foreign key."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    body = models.TextField()


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)


class Pizzeria(Restaurant):
    oven = models.CharField(max_length=20)


class Ticket(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    seat = models.CharField(max_length=10)


class Code(models.Model):
    code = models.CharField(max_length=60, primary_key=True)
    meaning = models.CharField(max_length=100)
    used_by = models.ManyToManyField(Person, blank=True)


class Legacy(models.Model):
    """Unmanaged: listed in the report, never copied."""

    name = models.CharField(max_length=20)

    class Meta:
        managed = False
        db_table = "zoo_legacy"
