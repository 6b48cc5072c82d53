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


def _second_project_naming_the_first_contractors_code(world) -> tuple[int, int]:
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
    first, second = _second_project_naming_the_first_contractors_code(world)
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
