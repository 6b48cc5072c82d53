"""A fund project's people and money identities (audit a13): the unit head heads the project's unit,
a contractor's unified social credit code names one contractor, every payment carries its voucher,
and a code list's refusal names the codes a user may type."""
from __future__ import annotations

from engine.domain.errors import BadInput
from tests.helpers.projects import add_project, households, refused


def test_a_wrong_code_is_refused_naming_each_code_with_its_label(world):
    """`--asset public:…` or `--fund lottery:…`: the refusal says which codes may be typed, not only
    their labels (README's examples type `operating`, `household`)."""
    from workflows.project_base import ASSET_CLASSES, checked_code
    beneficiaries = households(world)
    error = refused(world, BadInput, "project.bad_code",
                    lambda: add_project(world, beneficiaries, budget=(("lottery", "5000", None),)))
    zh, en = error.render(world.app.config, "zh"), error.render(world.app.config, "en")
    assert "中央财政（central）" in zh and "统筹整合资金（integrated）" in zh, zh
    assert "(central)" in en and "(integrated)" in en, en
    try:
        checked_code("public", ASSET_CLASSES, "asset_class")
    except BadInput as asset:
        said = asset.render(world.app.config, "zh")
    assert "经营性资产（operating）、公益性资产（public_welfare）、到户类资产（household）" in said, said


def second_project_naming_the_first_contractors_code(world) -> tuple[int, int]:
    """(first, second): the first funded, its contractor 宁都县农建公司 under CODES; the second allocated,
    its contractor notice's contract naming 宁都县路桥公司 under that same code."""
    from tests.helpers.projects import CODES
    from tests.test_contract_amount import allocated
    from tests.test_project_figures import ok
    from tests.test_project_money_rules import funded
    first, _ = funded(world)
    second = allocated(world)
    ok(world, "ts1", "evidence", "add", second, "contractor_selection", "--field", "contractor=宁都县路桥公司",
       "--field", f"credit_code={CODES['宁都县农建公司']}", "--field", "method=公开招标",
       "--field", "selected_on=2019-04-25", "--field", "contract_amount=280000")
    return first, second


def test_a_credit_code_on_record_for_another_contractor_is_refused_naming_it_and_its_project(world):
    """A county traces money by the contractor's credit code: one code for two firms would merge them. The
    contractor notice is refused, naming the contractor that holds the code and its project; the same
    firm under the name on record passes."""
    from tests.helpers.projects import CODES
    from tests.test_project_contractor import refused_cli
    from tests.test_project_figures import ok, run
    first, second = second_project_naming_the_first_contractors_code(world)
    notice = ("step", "funding", "contractor_notice", second, "--date", "2019-04-26")
    err = refused_cli(world, "ts1", "check.contractor_identified", *notice)
    code = CODES["宁都县农建公司"]
    assert f"统一社会信用代码 {code} 已登记为“宁都县农建公司”的代码（项目 {first} 洋塘村脐橙基地）" in err, err
    assert "与本合同的施工单位“宁都县路桥公司”名称不同" in err, err
    english = run(world, "ts1", "--lang", "en", *notice)[2]
    assert f"already on record as the code of '宁都县农建公司' (project {first} " in english, english
    # the same firm, its name as on record (spaces and full-width brackets aside): accepted
    ok(world, "ts1", "evidence", "add", second, "contractor_selection", "--field", "contractor=宁都县 农建公司",
       "--field", f"credit_code={code}", "--field", "method=公开招标", "--field", "selected_on=2019-04-25",
       "--field", "contract_amount=280000", "--replace", "--reason", "更正施工单位名称")
    ok(world, "ts1", *notice)


def test_a_unit_head_of_another_unit_is_refused_and_his_own_unit_accepted(world):
    """The agriculture bureau's head is not the water bureau's: a project naming him for 县水利局 is refused
    naming the unit he heads; a unit head whose unit is not on record is refused until `person unit`
    records it; his own unit (spaces and full-width characters aside) is accepted."""
    from datetime import date

    from engine.domain.errors import RuleViolation
    from engine.services.accounts import activate_all
    from engine.services.org import NewPerson, add_persons, authenticate
    from tests.test_project_figures import ok, run
    from tests.world import COUNTY, VILLAGE
    beneficiaries = households(world)
    world.on(date(2019, 4, 1))
    base = ["project", "add", "--site", VILLAGE, "--name", "洋塘村水渠", "--category", "基础设施", "--leader", "ts3",
            "--target", "灌溉农田200亩", "--fund", "county:80000", "--beneficiary", beneficiaries[0],
            "--complete-by", "2019-10-31", "--proposed-on", "2019-04-01"]
    status, _, err = run(world, "vs", *base, "--unit", "县水利局", "--unit-head", "uh")
    assert status != 0 and "是“县农业农村局”的单位一把手，不是“县水利局”的" in err and "Traceback" not in err, err
    english = run(world, "vs", "--lang", "en", *base, "--unit", "县水利局", "--unit-head", "uh")[2]
    assert "heads '县农业农村局', not '县水利局'" in english, english
    # a unit head whose unit nobody recorded: refused until it is
    tokens = activate_all(world.app, add_persons(world.app, world["admin"],
                                                 [NewPerson("uh2", "县水利局 局长", (("unit_head", COUNTY),))]))
    world.tokens["uh2"] = tokens["uh2"]
    world.actors["uh2"] = authenticate(world.app, "uh2", tokens["uh2"])
    refused(world, RuleViolation, "project.unit_head_unit_unknown",
            lambda: _register(world, beneficiaries, "县水利局", "uh2"))
    assert "已登记 uh2 的工作单位：县水利局" in ok(world, "admin", "person", "unit", "uh2", "县水利局")
    case = int(ok(world, "vs", *base, "--unit", "县 水利局", "--unit-head", "uh2").strip().splitlines()[-1])
    shown = ok(world, "insp", "project", "show", case)
    assert "县 水利局（县水利局 局长（uh2））" in shown, shown
    # the agriculture bureau's head for his own bureau
    ok(world, "vs", *base, "--unit", "县农业农村局", "--unit-head", "uh")


def _register(world, beneficiaries, unit: str, head: str) -> int:
    from datetime import date

    from workflows.project import ProjectInput, register_project
    return register_project(world.app, world["vs"], ProjectInput(
        "洋塘村水渠", "infrastructure", "360730100201", unit, head, "ts3", (("county", "80000", None),), beneficiaries,
        ("灌溉农田200亩",), date(2019, 10, 31), date(2019, 4, 1)))


def test_money_paid_out_needs_its_voucher_and_retention_held_says_why_it_has_none(world):
    """An inspector traces every payment to the books by its voucher (凭证号): a payment out without one is
    refused in words and nothing is written; retention money held pays nobody, and the trace says so
    instead of 未填."""
    from datetime import date

    from engine.reads.money_words import disbursement_lines
    from tests.test_project_contractor import refused_cli
    from tests.test_project_figures import ok, run
    from tests.test_project_money_rules import funded
    case, beneficiaries = funded(world)
    world.on(date(2019, 5, 10))
    pay = ("project", "pay", case, "--amount", "1000", "--payee-kind", "contractor", "--payee", "宁都县农建公司",
           "--date", "2019-05-10")
    err = refused_cli(world, "cs", "project.no_reference", *pay)
    assert "支付款项（施工单位）须填写凭证号（`--reference`" in err, err
    assert "needs its voucher number (`--reference`" in run(world, "cs", "--lang", "en", *pay)[2]
    ok(world, "cs", *pay, "--reference", "记-2019-051")
    ok(world, "cs", "project", "pay", case, "--amount", "900", "--payee-kind", "retention", "--payee", "宁都县农建公司",
       "--date", "2019-05-10")
    zh = disbursement_lines(world.app.config, {"payee_kind": "retention", "amount": "900", "payee": "宁都县农建公司",
                                               "paid_on": "2019-05-10"}, "zh")[0]
    assert "凭证号 无（留存不付款；释放时登记付款凭证）" in zh and "未填" not in zh, zh
