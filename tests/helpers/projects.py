"""What the fund project tests share: households to benefit, a project registered, taken into
the library, funded and paid, and its figures."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.services.case_actions import attach_evidence
from engine.domain.errors import JingzhunError
from engine.reads.funds import project_figures
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, authenticate
from tests.world import COUNTY, VILLAGE, VILLAGE2, World
from workflows.project import PaymentInput, ProjectInput, record_disbursement, register_project


D = Decimal


# --- helpers ----------------------------------------------------------------------------------

def unit_head(world: World) -> str:
    """A head of a county unit (县农业农村局局长): the subject responsibility of the projects."""
    if "uh" not in world.actors:
        tokens = activate_all(world.app, add_persons(world.app, world["admin"],
                             [NewPerson("uh", "县农业农村局 局长", (("unit_head", COUNTY),), unit="县农业农村局")]))
        world.tokens["uh"] = tokens["uh"]
        world.actors["uh"] = authenticate(world.app, "uh", tokens["uh"])
    return "uh"


def households(world: World, n: int = 2, village: str = VILLAGE) -> list[int]:
    """Registered poor households (identified) of a village: the beneficiaries."""
    unit_head(world)
    by = "vs2" if village == VILLAGE2 else "vs"
    cases = [world.household(village=village, by=by) for _ in range(n)]
    if village == VILLAGE:
        world.identify(cases)
    else:   # the second township's village: its own village secretary, the county for the rest
        with world.app.engine.begin() as conn:   # a test shortcut: registered poor without the procedure
            conn.execute(t.cases.update().where(t.cases.c.id.in_(cases)).values(stage="identified"))
    return cases


def add_project(world: World, beneficiaries: list[int], site: str = VILLAGE, by: str = "vs", leader: str = "ts3",
                budget=(("county", "200000", "宁财农〔2019〕12号"), ("integrated", "100000", None)),
                targets=("带动2户贫困户年均增收2000元",), complete_by: date = date(2019, 10, 31),
                proposed_on: date = date(2019, 4, 1), name: str = "洋塘村脐橙基地") -> int:
    world.on(proposed_on)
    return register_project(world.app, world[by], ProjectInput(
        name, "industry", site, "县农业农村局", unit_head(world), leader, budget, beneficiaries, targets,
        complete_by, proposed_on))


LIBRARY = [   # (day, who, step, inputs) for a project sited in VILLAGE
    (date(2019, 4, 1), "vs", "submission", {}),
    (date(2019, 4, 1), "fs", "village_notice", {}),
    (date(2019, 4, 8), "ts1", "township_review", {"decision": "approve"}),
    (date(2019, 4, 8), "ts2", "township_notice", {}),
    (date(2019, 4, 15), "cd", "county_approval", {"decision": "approve"}),
]


def enter_library(world: World, case: int, plan=LIBRARY) -> None:
    for day, who, step, inputs in plan:
        world.on(day)
        world.step(who, "library_entry", step, case, **inputs)


# the contractors' unified social credit codes (统一社会信用代码), as their business licences give them
CODES = {"宁都县农建公司": "91360730MA35F0QX13", "赣州市路桥公司": "91360700MA35G7RB38", "赣南光伏公司": "91360730MA35H2KY4Y",
         "第三建筑公司": "91360730MA35J5TA16"}


def fund(world: World, case: int, allocation=(("county", "200000", "宁财农〔2019〕30号"), ("integrated", "100000", None)),
         leader: str = "ts3", notice_by: str = "fs",
         milestones=(("基础完工", "2019-06-30"), ("主体完工", "-30"), ("竣工", "-0")), contract: str | None = None) -> None:
    """Funded, its contractor chosen under a contract of `contract` yuan (default: the whole allocation)."""
    world.on(date(2019, 4, 16))
    world.step("cs", "funding", "allocation", case, funds=allocation)
    world.step(notice_by, "funding", "allocation_notice", case)
    world.on(date(2019, 4, 26))
    attach_evidence(world.app, world["ts1"], case, "contractor_selection",
                    {"contractor": "宁都县农建公司", "credit_code": CODES["宁都县农建公司"], "method": "公开招标", "selected_on": "2019-04-25",
                     "contract_amount": contract or str(sum(D(amount) for _, amount, _ in allocation))})
    world.step("ts1", "funding", "contractor_notice", case)
    world.on(date(2019, 5, 3))
    world.step(leader, "funding", "schedule", case, milestones=milestones)


def objected_allocation(world: World) -> tuple[int, int, int]:
    """(case, notice, objection): a project of two households taken into the library, 300,000 allocated on
    16 April 2019 and posted, and a villager's objection to the allocation notice filed on 18 April."""
    from engine.services.case_actions import file_objection
    case = add_project(world, households(world, 2))
    enter_library(world, case)
    world.on(date(2019, 4, 16))
    world.step("cs", "funding", "allocation", case, funds=(("county", "300000", "宁财农〔2019〕30号"),))
    notice = world.step("fs", "funding", "allocation_notice", case)[0].notice_id
    world.on(date(2019, 4, 18))
    return case, notice, file_objection(world.app, world["vs"], notice, case, "村民甲", "资金用途与公示不符", date(2019, 4, 18))


def pay(world: World, case: int, amount: str, kind: str = "contractor", on: date = date(2019, 5, 10),
        who: str = "cs", payee: str = "宁都县农建公司", **options) -> int:
    world.on(max(on, world.today()))
    options.setdefault("reference", "记-2019-001")       # money paid out names its voucher (凭证号)
    return record_disbursement(world.app, world[who], case, PaymentInput(amount, kind, payee, on, **options))


def figures_of(world: World, case: int, as_of: date) -> dict:
    with world.app.engine.connect() as conn:
        return project_figures(conn, [case], as_of)[case]


def count(world: World, table) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def snapshot(world: World) -> tuple:
    return tuple(count(world, table) for table in (
        t.cases, t.audit_events, t.project_funds, t.project_beneficiaries, t.project_milestones, t.disbursements,
        t.project_assets, t.steps, t.procedures, t.notices))


def refused(world: World, error_type, code: str, action) -> JingzhunError:
    """`action` is refused with `code`, with text in both languages, and writes nothing."""
    before = snapshot(world)
    with pytest.raises(JingzhunError) as info:
        action()
    error = info.value
    assert isinstance(error, error_type), f"{type(error).__name__} {error.code} {error.params}"
    assert error.code == code, f"{error.code} {error.params}"
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert zh != en and not zh.startswith(code) and "{" not in zh + en, (zh, en)
    assert snapshot(world) == before, "the refusal wrote something"
    return error
