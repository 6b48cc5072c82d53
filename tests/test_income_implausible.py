"""An income far past the poverty line (a figure typed with extra digits) decides no check unseen: an
income item whose income a head is over 50 times its year's line is refused, saying the figure a head,
the line and the year and how to confirm it; confirmed, it is attached and the confirmation is on the
case's record (its trace). The same on the command line, in a village's evidence sheet."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.errors import BadInput
from engine.services.case_actions import attach_evidence
from tests.test_accountability import cli

TYPO = 99_999_999_999        # the audit's figure: a two-member household's year, digits held down


def incomes(world, case: int) -> int:
    """How many income assessments the case holds (a refused one: none more)."""
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.evidence).where(
            t.evidence.c.case_id == case, t.evidence.c.type == "income_assessment")).scalar()


def attached_detail(world, case: int) -> dict:
    """The detail of the case's last evidence_attached event (figure_confirmed: the figure was confirmed)."""
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "evidence_attached")
            .order_by(t.audit_events.c.seq.desc()).limit(1)).scalar()


def test_an_income_far_past_the_line_is_refused_until_confirmed_and_the_confirmation_is_recorded(world):
    case = world.household(members=2)
    with pytest.raises(BadInput) as refused:
        attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": TYPO})
    assert refused.value.code == "evidence.income_implausible"
    said = refused.value.render(world.app.config, "zh")
    assert "50,000,000,000 元" in said and "2 人" in said and "2019 年贫困线 3,747 元" in said and "50 倍" in said
    assert "--confirm-figure" in said
    assert incomes(world, case) == 0                       # nothing written
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": TYPO},
                    confirm_figure=True)
    assert incomes(world, case) == 1
    assert attached_detail(world, case)["figure_confirmed"] is True
    trace = cli(world, "insp", "trace", case)
    assert trace.code == 0, trace.err
    assert "收入数字远超贫困线，录入人确认核实无误" in trace.out


def test_the_bound_is_a_head_of_the_active_members_and_a_real_income_is_not_asked_about(world):
    case = world.household(members=3)
    bound = 3747 * 50 * 3                 # 50 x the 2019 Jiangxi line, for each of three members
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": bound})
    assert "figure_confirmed" not in attached_detail(world, case)     # nothing to confirm: none recorded
    with pytest.raises(BadInput, match="187,351"):
        attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": bound + 3},
                        replace=True, reason="复核更正")
    with pytest.raises(BadInput) as refused:      # the identification's income check too, in English
        attach_evidence(world.app, world["vs"], world.household(members=1), "income_check",
                        {"year": 2018, "net_income": 3535 * 51}, replace=True, reason="复核更正")
    assert "over 50 times the 2018 poverty line of 3,535 yuan" in refused.value.render(world.app.config, "en")


def test_the_command_line_refuses_and_takes_confirm_figure(world):
    case = world.household(members=2)
    args = ("evidence", "add", str(case), "income_assessment", "--field", "year=2019", "--field", f"net_income={TYPO}")
    refused = cli(world, "vs", *args)
    assert refused.code != 0 and "超过 2019 年贫困线 3,747 元的 50 倍" in refused.err and "--confirm-figure" in refused.err
    assert "Traceback" not in refused.err and incomes(world, case) == 0
    done = cli(world, "vs", *args, "--confirm-figure")
    assert done.code == 0, done.err
    assert incomes(world, case) == 1 and attached_detail(world, case)["figure_confirmed"] is True


def test_a_sheet_names_the_row_and_takes_confirm_figures(world, tmp_path):
    cases = [world.household(members=2), world.household(members=2)]
    sheet = tmp_path / "收入.csv"
    sheet.write_text("案件编号,年度,家庭纯收入\n"
                     f"{cases[0]},2019,12000\n{cases[1]},2019,{TYPO}\n", encoding="utf-8-sig")
    refused = cli(world, "vs", "evidence", "import", str(sheet), "--type", "income_assessment")
    assert refused.code != 0 and "第 3 行" in refused.err and "50,000,000,000" in refused.err, refused.err
    assert "--confirm-figures" in refused.err
    assert [incomes(world, c) for c in cases] == [0, 0]          # all or none
    done = cli(world, "vs", "evidence", "import", str(sheet), "--type", "income_assessment", "--confirm-figures")
    assert done.code == 0, done.err
    assert [incomes(world, c) for c in cases] == [1, 1]
    assert attached_detail(world, cases[1])["figure_confirmed"] is True
    assert "figure_confirmed" not in attached_detail(world, cases[0])
