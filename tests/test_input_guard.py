"""Text too long for its column, or with a NUL byte, is bad input on every backend — refused before the
database, naming the field and its limit, never printing the value (issue 13's probe: on PostgreSQL
these gave tracebacks that printed a member's ID number, phone and bank account)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from engine.domain.errors import BadInput
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE, member_ids
from workflows.household import MemberInput, register_household

PHONE, ACCOUNT = "13912345678", "6222020200112233445"


def _register(world, name: str) -> None:
    ids = member_ids(1, seed=77)
    register_household(world.app, world["vs"], VILLAGE, [MemberInput(name, ids[0], phone=PHONE,
                                                                     bank_account=ACCOUNT)], ["因病"])


@pytest.mark.parametrize("name, key", [("王" * 101, "input.too_long"), ("王\x00大", "input.control_char")])
def test_text_the_database_cannot_take_is_bad_input_naming_the_field_not_the_value(world, name, key):
    before = world.app.engine.dialect.name, _count(world)
    with pytest.raises(BadInput) as refused:
        _register(world, name)
    field = refused.value.params["field"]            # the head's name is also the case's title
    assert refused.value.code == key and field in ("name", "title")
    text = refused.value.render(world.app.config, "zh") + refused.value.render(world.app.config, "en")
    assert PHONE not in text and ACCOUNT not in text and "王王王" not in text and "大" not in text
    assert world.app.config.label(f"field.{field}", "zh") in text and (key != "input.too_long" or "100" in text)
    assert (world.app.engine.dialect.name, _count(world)) == before


def test_a_database_error_never_prints_the_row(world):
    """Whatever slips past the checks, the engine hides parameters in its errors."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    with pytest.raises(DBAPIError) as failed, world.app.engine.connect() as conn:
        conn.execute(text("INSERT INTO no_such_table (x) VALUES (:secret)"), {"secret": PHONE})
    assert PHONE not in str(failed.value)


def _count(world) -> int:
    from sqlalchemy import func, select

    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.household_members)).scalar_one()


def test_names_that_would_act_on_a_terminal_or_a_spreadsheet_are_shown_as_text():
    from entrypoints.cli.printing import list_cell, visible
    title = "王\x1b]0;owned\x07大\u202e"
    assert "\x1b" not in visible(title) and "\x07" not in visible(title) and "\u202e" not in visible(title)
    assert visible(title) == "王\\x1b]0;owned\\x07大\\u202e"
    assert list_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")" and list_cell("a\tb\nc") == "a\\tb\\nc"
    assert list_cell(-5) == "-5"


@settings(deadline=None, max_examples=500)
@given(st.text(alphabet="'=+-@ab\t", max_size=8))
def test_a_cell_marked_as_text_in_a_csv_reads_back_as_it_was(value):
    """What an export marks (a formula's start, and the mark itself) a CSV import reads off again."""
    from entrypoints.cli.parsing import spreadsheet_text
    from entrypoints.cli.rows import unmarked
    marked = spreadsheet_text(value)
    assert unmarked(marked) == value and not marked.startswith(("=", "+", "-", "@", "\t"))


def test_case_list_escapes_a_household_head_named_with_an_escape_sequence(home):  # noqa: F811
    head = member_ids(1, seed=91)[0]
    added = home("vs", "household", "add", "--village", VILLAGE, "--member", f"王\x1b[2J大,{head},户主", "--cause", "因病")
    assert added.code == 0, added.err
    listed = home("vs", "case", "list")
    assert "\x1b" not in listed.out and "王\\x1b[2J大" in listed.out
