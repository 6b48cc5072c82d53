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
