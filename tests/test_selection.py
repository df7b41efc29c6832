"""``--models``/``--exclude`` and database routers: what is copied, what is refused."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

import portadb
from portadb.exceptions import SelectionError
from portadb.models import project_models
from portadb.selection import select_models

from . import databases as db
from .backends import TARGETS, target_of
from .zoo import models as m

TARGET = target_of("postgresql")


def tables(models) -> set[str]:
    return {model._meta.db_table for model in models}


def test_labels_select_apps_and_models_as_dumpdata_does():
    every = project_models()
    auth = tables(select_models(every, include=["auth"]))
    assert {"auth_group", "auth_permission", "auth_group_permissions"} <= auth
    assert "django_migrations" in auth and "zoo_cache" in auth  # always copied
    assert not any(t.startswith("zoo_") and t != "zoo_cache" for t in auth)

    no_books = tables(select_models(every, exclude=["zoo.book"]))  # model names in any case
    assert "zoo_book" not in no_books and "zoo_book_tags" not in no_books  # its auto M2M follows
    assert "zoo_reading" in no_books  # a through model of its own is a model of its own
    assert tables(every) - no_books == {"zoo_book", "zoo_book_tags"}


@pytest.mark.parametrize("label, message", [
    ("zo", "No installed app has the label 'zo'"),
    ("zoo.Nothing", "The app 'zoo' has no model 'Nothing'"),
])
def test_unknown_labels_are_refused(label, message):
    with pytest.raises(SelectionError, match=message):
        select_models(project_models(), include=[label])


def test_a_model_excluded(zoo_source, empty):
    target = empty(TARGET)
    report = portadb.copy(zoo_source, target, exclude=["zoo.Comment"])
    assert report.ok, portadb.render(report)
    assert "zoo_comment" not in {t.table for t in report.tables}
    assert m.Comment.objects.using(zoo_source).count() == 3
    assert m.Comment.objects.using(target).count() == 0  # its table is there, empty
    before, after = db.snapshot(zoo_source), db.snapshot(target)
    for table in before.keys() - {"zoo_comment"}:
        assert after[table] == before[table], table
    call_command("migrate", "--check", database=target, verbosity=0)


def test_an_app_selected(zoo_source, empty):
    target = empty(TARGET)
    report = portadb.copy(zoo_source, target, models=["auth", "contenttypes"])
    assert report.ok, portadb.render(report)
    before, after = db.snapshot(zoo_source), db.snapshot(target)
    copied = {"auth_permission", "auth_group", "auth_group_permissions", "django_content_type",
              "django_migrations", "zoo_cache"}
    assert {t.table for t in report.tables} == copied
    for table in copied:
        assert after[table] == before[table], table
    assert len(after["auth_permission"]) > 50
    assert all(after[t] == [] for t in before.keys() - copied)
    assert before["zoo_everything"]


class KeepOff:
    """A project's router: one model never goes to one database."""

    def __init__(self, label: str, alias: str):
        self.label, self.alias = label, alias

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == self.alias and f"{app_label}.{model_name}" == self.label:
            return False
        return None


def test_a_router_keeps_a_model_off_the_target(zoo_source, empty):
    target = empty(TARGET)
    with override_settings(DATABASE_ROUTERS=[KeepOff("zoo.comment", target)]):
        report = portadb.copy(zoo_source, target)
        assert report.ok, portadb.render(report)
        assert "zoo_comment" not in {t.table for t in report.tables}
        assert "zoo_comment" not in connections[target].introspection.table_names()
        before, after = db.snapshot(zoo_source), db.snapshot(target)
        assert before.keys() - after.keys() == {"zoo_comment"}
        for table in after:
            assert after[table] == before.get(table, []), table  # pgzoo: empty on both
        call_command("migrate", "--check", database=target, verbosity=0)


def test_a_router_keeping_referenced_rows_off_the_target_is_refused(zoo_source, empty):
    target = empty(TARGET)
    with override_settings(DATABASE_ROUTERS=[KeepOff("zoo.author", target)]):
        with pytest.raises(SelectionError, match=r"zoo\.Book\.author points at zoo\.Author, which has no "
                           r"table on the target \(routers or required_db_vendor\)"):
            portadb.copy(zoo_source, target)
    assert connections[target].introspection.table_names() == []


def test_a_dangling_selection_is_refused_before_anything_is_written(zoo_source, empty):
    target = empty(TARGET)
    with pytest.raises(SelectionError) as caught:
        portadb.copy(zoo_source, target, exclude=["contenttypes"])
    message = str(caught.value)
    assert "points at contenttypes.ContentType, which is not selected" in message
    assert "auth.Permission.content_type" in message or "zoo.Comment.content_type" in message
    assert connections[target].introspection.table_names() == []


def test_references_to_rows_the_target_holds_are_allowed(zoo_source, empty):
    """Copy auth and contenttypes first, then the rest: the second copy finds the rows there."""
    target = empty(TARGET)
    assert portadb.copy(zoo_source, target, models=["auth", "contenttypes"]).ok
    report = portadb.copy(zoo_source, target, exclude=["auth", "contenttypes"], replace=True)
    assert report.ok, portadb.render(report)
    assert "django_content_type" not in {t.table for t in report.tables}
    before, after = db.snapshot(zoo_source), db.snapshot(target)
    assert all(after[t] == before.get(t, []) for t in after) and before.keys() <= after.keys()


def test_the_command_takes_models_and_exclude(zoo_source, empty):
    target = empty(TARGET)
    out = io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}",
                 "--exclude=zoo.Comment,zoo.Ticket", "-e", "sessions", stdout=out)
    assert m.Ticket.objects.using(target).count() == 0 < m.Ticket.objects.using(zoo_source).count()
    assert m.Book.objects.using(target).count() == m.Book.objects.using(zoo_source).count() > 0
    with pytest.raises(CommandError, match="No installed app has the label 'nosuchapp'") as caught:
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}",
                     "--replace", "--noinput", "--models=nosuchapp")
    assert caught.value.returncode == 2


def foreign_keys(alias: str, table: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        constraints = connections[alias].introspection.get_constraints(cursor, table)
    return {c["columns"][0] for c in constraints.values() if c["foreign_key"]}


@pytest.mark.parametrize("target", TARGETS)
def test_replacing_some_tables_keeps_the_foreign_keys_into_them(zoo_source, empty, target):
    """zoo_reading and zoo_author stay; zoo_book, which they point at, is dropped and copied again."""
    target = empty(target)
    assert portadb.copy(zoo_source, target).ok
    report = portadb.copy(zoo_source, target, models=["zoo.Book"], replace=True)
    assert {t.table for t in report.tables} >= {"zoo_book", "zoo_book_tags"}
    assert "zoo_reading" not in {t.table for t in report.tables}
    assert "book_id" in foreign_keys(target, "zoo_reading")
    assert "favourite_book_id" in foreign_keys(target, "zoo_author")
    before, after = db.snapshot(zoo_source), db.snapshot(target)
    assert all(after[t] == before.get(t, []) for t in after)
