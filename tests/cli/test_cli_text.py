"""Command-line arguments follow the same text rule as forms and the API: no control characters, no
lone surrogates (an argument that is not valid UTF-8 arrives as one), with the field named, exit 2."""

from __future__ import annotations

import os

import pytest

from tests.cli.conftest import ADMIN, PARTNER, STAB, Cli
from tests.helpers import proposal_doc


@pytest.mark.parametrize(
    ("name", "code"),
    [("Neu\x0bPerson", "U+000B"), ("Neu\x1b[2JPerson", "U+001B"), (os.fsdecode(b"Neu\xffPerson"), "U+DCFF")],
)
def test_users_add_refuses_a_control_character_in_the_name(cli: Cli, name: str, code: str) -> None:
    result = cli(
        "users", "add", "neu@example.org", "--name", name, "--role", "arbeitsstab", "--as", ADMIN, expect=2
    )
    assert "Name: enthält" in result.err and code in result.err
    listed = cli("users", "list")
    assert "neu@example.org" not in listed.out


def test_a_comment_with_a_control_character_is_refused_and_nothing_is_stored(cli: Cli) -> None:
    pid = cli("submit", cli.write("v.yaml", proposal_doc()), "--as", PARTNER, "--json").json()["id"]
    result = cli("comment", pid, "Bitte\x07prüfen", "--as", STAB, expect=2)
    assert "Kommentar: enthält das Steuerzeichen U+0007" in result.err
    assert "Bitte" not in cli("history", pid).out
