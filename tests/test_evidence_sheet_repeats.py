"""An evidence sheet imported again: a repeat is what would record the same thing again — the same
sheet, of the same type, with the same files, adding or replacing alike — not the same file alone (a
national 两不愁三保障 form, whose columns are several types', is imported once a type; a sheet is
imported again with corrected scans, or to replace what it added). The refusal says what that import
recorded, and its audit event names the type, the way and the files; the columns of another type are
told with the --type that takes them. The repeat is told only to a reader who may write there: an
inspector is refused as read-only, another village's cadre finds no such household."""
from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_evidence_sheet_report import held_items

HEADER = ("案件编号", "不愁吃", "不愁穿", "住房等级", "饮水安全")


def _sheet(path, cases: list[int]) -> str:
    rows = [HEADER, *[(c, "是", "是", "B", "是") for c in cases]]
    path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def _events(home) -> list[dict]:  # noqa: F811
    with sqlite3.connect(home.db) as conn:
        return [json.loads(d) for (d,) in conn.execute(
            "SELECT detail FROM audit_events WHERE action = 'evidence_imported' ORDER BY seq")]


def test_a_national_form_is_imported_once_a_type_and_a_repeat_says_what_it_recorded(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=120 + i, evidence=False) for i in range(2)]
    sheet = _sheet(tmp_path / "两不愁三保障.csv", cases)
    first = home("vs", "evidence", "import", sheet, "--type", "two_assurances")
    assert first.code == 0, first.err
    # the other types' columns: told with the --type that takes them, not as unknown
    assert "住房等级属于住房安全鉴定，请用 --type housing_safety 再导入这个文件" in first.err, first.err
    assert "饮水安全属于饮水安全核查，请用 --type drinking_water 再导入这个文件" in first.err
    assert "本系统不认识" not in first.err
    for etype in ("housing_safety", "drinking_water"):
        again = home("vs", "evidence", "import", sheet, "--type", etype)
        assert again.code == 0 and "imported_before" not in again.err, again.err
    assert held_items(home, cases[0], "housing_safety") == [{"grade": "B"}]
    assert held_items(home, cases[1], "drinking_water") == [{"safe": True}]

    before = home.snapshot()
    repeat = home("vs", "evidence", "import", sheet, "--type", "housing_safety")
    assert repeat.code == 2 and home.snapshot() == before
    refusal = repeat.err.splitlines()[-1]
    assert "[sheets.imported_before]" in refusal and "按住房安全鉴定导入过" in refusal, refusal
    assert "当时为 2 户录入了住房安全鉴定" in refusal and "各行材料已录入" not in refusal
    # the entry named as the inspector's activity log numbers it (#place), its audit seq beside it: the
    # refusal gave the seq alone (82715), which the activity log (#2725) never shows
    logged = next(e for e in home.ok("insp", "inspect", "activity", "--action", "evidence_imported").out.splitlines()
                  if "住房安全鉴定" in e)
    assert f"（操作日志 {logged.split()[0]}，审计序号 " in refusal, (logged, refusal)
    english = home("vs", "evidence", "import", sheet, "--type", "housing_safety", lang="en")
    assert "it recorded housing safety appraisal for 2 households then" in english.err, english.err

    events = _events(home)
    assert [(e["type"], e["mode"], e["items"], e["files"]) for e in events] == [
        ("two_assurances", "add", 2, None), ("housing_safety", "add", 2, None), ("drinking_water", "add", 2, None)]
    shown = home("insp", "inspect", "activity", "--action", "evidence_imported", "--limit", "1")
    assert "材料类型：饮水安全核查 · 方式：新增 · 录入条数：2" in shown.out, shown.out


def test_replacing_with_the_same_sheet_or_new_scans_is_no_repeat(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=130 + i, evidence=False) for i in range(2)]
    sheet = _sheet(tmp_path / "两不愁.csv", cases)
    assert home("vs", "evidence", "import", sheet, "--type", "two_assurances").code == 0
    replaced = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--replace", "--reason", "复核")
    assert replaced.code == 0, replaced.err
    assert _events(home)[-1] | {"sha256": ""} == _events(home)[-1] | {
        "sha256": "", "type": "two_assurances", "mode": "replace", "reason": "复核", "items": 2}
    again = home("vs", "evidence", "import", sheet, "--type", "two_assurances", "--replace", "--reason", "复核")
    assert again.code == 2 and "[sheets.replaced_before]" in again.err and "当时替换了 2 户的不愁吃不愁穿核查" in again.err

    # a confirmation sheet with its scans, then the same sheet with corrected scans, replacing
    (tmp_path / "conf.csv").write_text(f"案件编号,签字日期,文件\n{cases[0]},2019-01-05,a.pdf\n", encoding="utf-8")
    for name, body in (("扫描件.zip", b"%PDF-1.4 wrong page\n%%EOF"), ("更正.zip", b"%PDF-1.4 the signed page\n%%EOF")):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("a.pdf", body)
    conf = str(tmp_path / "conf.csv")
    assert home("vs", "evidence", "import", conf, "--type", "household_confirmation", "--files",
                str(tmp_path / "扫描件.zip")).code == 0
    corrected = home("vs", "evidence", "import", conf, "--type", "household_confirmation", "--files",
                     str(tmp_path / "更正.zip"), "--replace", "--reason", "扫描件放错")
    assert corrected.code == 0, corrected.err
    files = [e["files"] for e in _events(home)[-2:]]
    assert None not in files and files[0] != files[1]


@pytest.mark.parametrize("who, said", [("insp", "[auth.read_only]"), ("vs2", "找不到这一户")])
def test_a_repeat_is_not_told_to_a_reader_who_may_not_write_there(home, tmp_path, who, said):  # noqa: F811
    cases = [home.register(seed=140, evidence=False)]
    sheet = _sheet(tmp_path / "两不愁.csv", cases)
    assert home("vs", "evidence", "import", sheet, "--type", "two_assurances").code == 0
    before = home.snapshot()
    other = home(who, "evidence", "import", sheet, "--type", "two_assurances")
    assert other.code != 0 and said in other.err, other.err
    assert "导入过" not in other.err and "vs" not in other.err.replace(who, "") and home.snapshot() == before


def test_the_repeat_is_judged_by_type_files_and_mode_on_either_database(world):
    """The service on SQLite and PostgreSQL: an import on record is a repeat for the same sheet of the
    same type, files and mode, for a reader who may attach there."""
    from engine.domain.errors import AuthError, BadInput
    from engine.services.case_actions import EvidenceItem, attach_evidence_many
    from engine.services.evidence_sheet import refuse_sheet_imported_before
    case = world.household()
    source = {"file": "两不愁.csv", "sha256": "ab" * 32, "skipped_rows": 0, "type": "two_assurances",
              "files": None, "mode": "add"}
    attach_evidence_many(world.app, world["vs"], [EvidenceItem(case, "two_assurances", {"food": "是", "clothing": "是"})],
                         source=source)
    with pytest.raises(BadInput) as refused:
        refuse_sheet_imported_before(world.app, world["ts1"], source)        # the township's cadre: within reach
    assert refused.value.code == "sheets.imported_before" and refused.value.params["count"] == 1
    assert refused.value.params["type"] == "two_assurances"
    for other in ({"type": "housing_safety"}, {"files": "cd" * 32}, {"mode": "replace"}, {"sha256": "ef" * 32}):
        refuse_sheet_imported_before(world.app, world["vs"], source | other)     # no repeat
    refuse_sheet_imported_before(world.app, world["vs2"], source)               # another village's: not told
    with pytest.raises(AuthError) as read_only:
        refuse_sheet_imported_before(world.app, world["insp"], source)
    assert read_only.value.code == "auth.read_only"


@pytest.mark.parametrize("who, said", [("insp", "[auth.read_only]"), ("admin", "[auth.no_evidence_post]")])
def test_a_person_who_may_attach_nowhere_is_refused_before_the_sheet_is_read(home, tmp_path, who, said):  # noqa: F811
    """An inspector's (or an administrator's) evidence import read the sheet and told what it found (its
    columns not read, its rows with nothing to enter) before refusing; person and region import refuse
    before reading. One refusal now, nothing said of the file, nothing written."""
    cases = [home.register(seed=141, evidence=False)]
    sheet = tmp_path / "两不愁.csv"
    sheet.write_text("案件编号,备注,不愁吃,不愁穿\n" + f"{cases[0]},x,是,是\n{cases[0] + 1},,,\n", encoding="utf-8")
    before = home.snapshot()
    refused = home(who, "evidence", "import", str(sheet), "--type", "two_assurances")
    assert refused.code == 1 and said in refused.err, refused.err
    assert len(refused.err.splitlines()) == 1 and "备注" not in refused.err and home.snapshot() == before
    if who == "admin":
        assert "未读取文件" in refused.err and "村党支部书记" in refused.err, refused.err
