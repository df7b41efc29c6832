"""The command's own duties: verbosity levels and where the report goes."""

from __future__ import annotations

import io

from django.core.management import call_command

from .backends import target_of

POSTGRESQL = target_of("postgresql")


def test_verbosity_3_shows_the_sql_and_1_does_not(zoo_source, empty):
    target = empty(POSTGRESQL)
    out, err = io.StringIO(), io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "-v", "3",
                 stdout=out, stderr=err)
    assert 'CREATE TABLE "zoo_everything"' in err.getvalue()
    assert "FOREIGN KEY" in err.getvalue()  # built after the data, shown too
    assert "zoo_everything" in out.getvalue()  # -v 2 and up: a line per table

    target = empty(POSTGRESQL)
    out, err = io.StringIO(), io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", stdout=out, stderr=err)
    assert "CREATE TABLE" not in err.getvalue() + out.getvalue()


def test_output_file_holds_the_report(zoo_source, empty, tmp_path):
    target = empty(POSTGRESQL)
    report = tmp_path / "copy.md"
    out = io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "--format=markdown",
                 f"--output={report}", stdout=out)
    assert out.getvalue() == ""
    assert report.read_text().startswith("## portadb copy")
