"""A command, option or setting the catalogue names between backticks (`jingzhun audit verify`,
`JINGZHUN_BACKUP_DIR`) shows on a page as code, not as typed with its backticks: in what the templates
say (`t`), in a refusal and in a stored message. Everything else of the text stays escaped (a typed value
is never markup); the API's JSON and the command line keep the backticks (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from config import CONFIG_DIR

TEMPLATES = Path(__file__).resolve().parents[2] / "entrypoints" / "web" / "templates"


def test_a_setting_the_backup_page_names_shows_as_code(world, world_clients, monkeypatch, tmp_path):
    """Before: 没有设置每晚自动备份：请在服务的环境文件中设置 `JINGZHUN_BACKUP_DIR`… with its backticks."""
    page, _api = world_clients
    monkeypatch.delenv("JINGZHUN_BACKUP_DIR", raising=False)
    admin = page("admin")
    shown = admin.get("/admin/backups").text
    plan = shown[shown.index('id="backup-plan"'):]
    plan = plan[:plan.index("</p>")]
    assert "设置 <code>JINGZHUN_BACKUP_DIR</code>" in plan and "`" not in plan
    admin.cookies.set("lang", "en")
    english = admin.get("/admin/backups").text
    assert "<code>JINGZHUN_BACKUP_DIR</code>" in english and "`JINGZHUN_BACKUP_DIR`" not in english
    (tmp_path / "backups").mkdir()
    monkeypatch.setenv("JINGZHUN_BACKUP_DIR", str(tmp_path / "backups"))      # planned; no scheduler runs here
    unscheduled = admin.get("/admin/backups").text
    assert "<code>--no-scheduler</code>" in unscheduled and "`--no-scheduler`" not in unscheduled
    assert _backticked_in_attributes() == []


def _backticked_in_attributes() -> list[tuple[str, str]]:
    """The templates' texts said in an attribute (a placeholder, a title, a card's column name) that hold
    backticks: an attribute cannot hold <code>, so the catalogue keeps backticks out of those texts."""
    ticked = set()
    for path in (CONFIG_DIR / "locale").glob("*/LC_MESSAGES/*.po"):
        with open(path, "rb") as fh:
            ticked |= {str(m.id) for m in read_po(fh) if m.id and "`" in str(m.string)}
    in_attribute = re.compile(r"""[\w-]+="[^"<>]*\{\{[^}]*\bt\(\s*'([\w.]+)'""")
    return [(p.name, key) for p in TEMPLATES.glob("*.html") for key in in_attribute.findall(p.read_text("utf-8"))
            if key in ticked]


def test_a_refusal_on_a_page_shows_its_example_as_code_and_what_was_typed_escaped(world, world_clients):
    """A refusal (error_text) said on a page: its examples as code; the code typed, quoted in it and kept
    in its box, escaped (never markup)."""
    page, api = world_clients
    admin = page("admin")
    typed = "<i>x</i>"
    refused = admin.post("/admin/people/new", data={"csrf": admin.csrf, "code": typed, "name": "测试编号",
                                                    "role": "pairing_cadre", "region": "360730100201"})
    assert refused.status_code == 400
    said = re.search(r'<p class="refusal" role="alert" id="refusal">(.*?)</p>', refused.text).group(1)
    assert "<code>v03_secretary</code>" in said and "<code>zhang_san</code>" in said and "`" not in said
    assert "「&lt;i&gt;x&lt;/i&gt;」" in said and typed not in refused.text
    # the same catalogue's texts in the API's JSON: as written, backticks and all, no markup
    answer = api("insp").post("/api/v1/audit/verify")
    assert answer.status_code == 422 and "`{}`" in answer.json()["message"]
    assert "<code>" not in answer.text
