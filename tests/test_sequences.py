"""Auto primary keys after a copy and a sync: past the copied keys, and never behind the source.

Rows deleted on the source before the copy had keys above the largest left.
The source never hands those out again; nor may the target, or a new object
would take a deleted one's key, and every row still naming it (an audit
trail, a generic foreign key, a log) would point at the new object.
"""

from __future__ import annotations

import pytest

import portadb
from portadb.reports import FindingKind

from .backends import DIRECTIONS, backend_of, direction_id, second_target_of, target_of
from .zoo import models as m


def _source_and_target(zoo_source, empty, direction) -> tuple[str, str]:
    """A writable source of the direction's source vendor holding the zoo, and an empty target."""
    source_vendor, target_vendor = (backend_of(alias).vendor for alias in direction)
    source = zoo_source
    if source_vendor != "sqlite":
        source = empty(target_of(source_vendor))
        assert portadb.copy(zoo_source, source).ok
    if target_vendor == source_vendor and source != zoo_source:
        return source, empty(second_target_of(target_vendor))
    return source, empty(target_of(target_vendor))


def _deleted_on(alias: str, model) -> int:
    """Add two rows to ``model`` on ``alias`` and delete them; return the key after theirs."""
    made = [model.objects.using(alias).create(name=f"gone {i}") for i in range(2)]
    model.objects.using(alias).filter(pk__in=[o.pk for o in made]).delete()
    return made[-1].pk + 1


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_keys_of_rows_deleted_on_the_source_are_not_handed_out_again(zoo_source, empty, direction):
    source, target = _source_and_target(zoo_source, empty, direction)
    expected = {model: _deleted_on(source, model) for model in (m.PlainAuto, m.SmallAuto)}

    report = portadb.copy(source, target)

    assert report.ok, portadb.render(report)
    verified = portadb.verify(source, target)
    assert verified.ok and all(s.source_next is not None for s in verified.sequences), \
        portadb.render(verified)
    for model, key in expected.items():
        assert model.objects.using(target).create(name="new").pk == key, model


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_verify_names_a_counter_behind_the_source(zoo_source, empty, direction):
    source, target = _source_and_target(zoo_source, empty, direction)
    assert portadb.copy(source, target).ok
    key = _deleted_on(source, m.PlainAuto)  # after the copy: the target's counter stays behind

    report = portadb.verify(source, target)

    behind = [f for f in report.findings if f.kind == FindingKind.SEQUENCE_BEHIND]
    assert not report.ok and [f.table for f in behind] == [m.PlainAuto._meta.db_table]
    assert f"but {key} on the source: new rows would take the keys of rows deleted" in behind[0].message

