"""The top-level names the card keeps (config, workflows, notifications, migrations, demo) must be ours."""
import types

import pytest

from engine.domain.errors import SchemaOutdated
from entrypoints.bootstrap import OWN_TOP_LEVEL, check_own_modules


def test_our_own_top_level_modules_pass_the_check():
    check_own_modules()


@pytest.mark.parametrize("name", OWN_TOP_LEVEL)
def test_a_module_of_another_distribution_under_one_of_our_names_is_refused(name, monkeypatch, tmp_path):
    stranger = types.ModuleType(name)
    stranger.__file__ = str(tmp_path / "site-packages" / name / "__init__.py")
    monkeypatch.setitem(__import__("sys").modules, name, stranger)
    with pytest.raises(SchemaOutdated) as refused:
        check_own_modules()
    assert refused.value.code == "install.clash" and refused.value.params["module"] == name
