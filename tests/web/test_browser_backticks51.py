"""A setting the catalogue names between backticks, read on a phone: shown as code (no backticks), the
page no wider than the screen."""
from __future__ import annotations


def test_the_administrator_reads_the_backup_setting_as_code_on_a_phone(phone, demo_home, monkeypatch):
    monkeypatch.delenv("JINGZHUN_BACKUP_DIR", raising=False)
    code, password = demo_home[1]["admin"]
    phone.sign_in(code, password)
    page = phone.go("/admin/backups")
    plan = page.locator("#backup-plan")
    assert plan.locator("code").first.inner_text() == "JINGZHUN_BACKUP_DIR" and plan.locator("code").first.is_visible()
    assert "`" not in plan.inner_text()
    family = page.evaluate("getComputedStyle(document.querySelector('#backup-plan code')).fontFamily")
    assert "monospace" in family
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]
    phone.shot("backup-setting-code-360")
