"""Errors cross worker processes whole: the parent raises the worker's type with its data."""

from __future__ import annotations

import pickle

import pytest

import portadb
from portadb import exceptions
from portadb.checks import Refusal
from portadb.exceptions import TransferError, ValueRefused
from portadb.reports import FindingKind as K

from . import databases as db
from .baddata import spoil


@pytest.mark.parametrize("target", ["postgresql", "mysql"])
def test_two_jobs_raise_value_refused_with_its_refusals(zoo_source, empty, target):
    expected = spoil(zoo_source)
    target = empty(target)
    with pytest.raises(ValueRefused) as raised:
        portadb.copy(zoo_source, target, jobs=2, chunk_size=10)
    refusals = raised.value.refusals
    assert refusals and all(isinstance(r, Refusal) for r in refusals)
    found = {(r.table, r.pk, r.field, r.kind) for r in refusals}
    assert found <= expected[db.vendor_of(target)]
    first = refusals[0]
    assert str(raised.value).startswith(f"Could not copy {first.model}(pk={first.pk!r}): {first.field}: ")


def test_a_worker_failure_outside_portadb_arrives_as_a_transfer_error(zoo_source, empty, monkeypatch):
    from portadb import transfer

    def broken(*args, **kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(transfer, "convert_columns", broken)
    with pytest.raises(TransferError, match="the disk caught fire"):
        portadb.copy(zoo_source, empty("postgresql"), jobs=2)


@pytest.mark.parametrize("error", [
    ValueRefused([Refusal(K.TOO_LONG, "zoo.Everything", "zoo_everything", 7, "char", "301 characters",
                          memoryview(b"\x00\x01"))]),
    exceptions.PreconditionError("The target holds 3 tables of this project; use --replace."),
    exceptions.VerificationError("Could not read the databases while verifying: gone."),
], ids=lambda e: type(e).__name__)
def test_every_error_pickles_with_its_type_message_and_data(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    if isinstance(error, ValueRefused):
        (refusal,) = back.refusals
        assert refusal.value == b"\x00\x01" and refusal.pk == 7 and refusal.kind is K.TOO_LONG
