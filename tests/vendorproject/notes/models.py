"""Models chosen by ``connection.vendor`` when the module is imported, the way Wagtail's search does.

* ``Note.search`` exists on PostgreSQL only (a ``tsvector`` the site keeps up to date).
* ``NoteIndex`` exists on SQLite only (a search index SQLite keeps in a table).
* migration 0001 adds an index of each vendor's kind with ``RunSQL`` (GIN on
  PostgreSQL, FULLTEXT on MariaDB, an expression index on SQLite), and 0002
  writes a first note to the default database, as data migrations do.
"""

from django.db import connection, models


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()
    created = models.DateTimeField()
    rating = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    tags = models.ManyToManyField(Tag, blank=True)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchVectorField

        search = SearchVectorField(null=True)


if connection.vendor == "sqlite":

    class NoteIndex(models.Model):
        """The words of each note, kept by the site for SQLite's search."""

        note = models.ForeignKey(Note, on_delete=models.CASCADE)
        words = models.TextField()
