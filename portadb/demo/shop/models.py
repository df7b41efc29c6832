"""A small web shop: customers, products with tags, orders and their lines.

Six tables (the M2M ``shop_product_tags`` included) holding Char, Text,
Integer, BigInteger, Decimal, Float, Boolean, DateTime, Date, UUID and JSON
fields, foreign keys, unique columns, secondary indexes and nullable variants:
the shape of data a Django project moves when it outgrows SQLite.
"""

import uuid

from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)
    description = models.TextField(blank=True)

    def __str__(self):
        return self.name


class Customer(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=30, null=True, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    newsletter = models.BooleanField(null=True)
    joined = models.DateTimeField()
    birth_date = models.DateField(null=True, blank=True)
    loyalty_points = models.IntegerField(default=0)
    preferences = models.JSONField(default=dict)

    def __str__(self):
        return self.email


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    weight_kg = models.FloatField(null=True, blank=True)
    stock = models.IntegerField(default=0)
    barcode = models.BigIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField()
    attributes = models.JSONField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    def __str__(self):
        return self.sku


class Order(models.Model):
    class Status(models.TextChoices):
        CART = "cart"
        PAID = "paid"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    number = models.UUIDField(default=uuid.uuid4, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    placed = models.DateTimeField(db_index=True)
    shipped = models.DateTimeField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    gift = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    meta = models.JSONField(null=True, blank=True)

    def __str__(self):
        return str(self.number)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.FloatField(null=True, blank=True)
    comment = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.order_id}/{self.pk}"
