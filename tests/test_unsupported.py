"""Oracle (and any vendor without an adapter): one clear sentence, exit status 2, nothing written."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

import portadb
from portadb.exceptions import UnsupportedBackend


@pytest.mark.parametrize("args", [
    ["--from=default", "--to=oracle"],
    ["--from=oracle", "--to=postgresql"],
    ["--from=default", "--to=oracle://scott:tiger@db.example.com:1521/orcl"],
], ids=["to oracle", "from oracle", "oracle url"])
def test_oracle_is_refused_in_one_sentence(zoo_source, args):
    with pytest.raises(CommandError) as caught:
        call_command("portadb", "copy", *args)
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert message.startswith("portadb does not support Oracle databases yet")
    assert message.count(".") == 1 and "\n" not in message and "tiger" not in message


def test_the_api_raises_unsupported_backend(zoo_source):
    with pytest.raises(UnsupportedBackend, match="Oracle"):
        portadb.copy(zoo_source, "oracle")
