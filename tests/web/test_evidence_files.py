"""Evidence files on the case page and the JSON API: a file that is no photo or scan a browser shows
is refused naming it and saying what is accepted (400, nothing saved); one that is is served to be
viewed as what its content is, whatever its name says (walk of 2026-12-05, finding 7)."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_evidence_files import HEIC, JPEG, NOT_SCANS, cut_short_files, too_big_photo
from tests.web.test_cli_client import as_person, run  # noqa: F401  (fixture)
from tests.world import COUNTY

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def _files(world, case: int) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.evidence.c.id, t.evidence.c.file_name).where(
            t.evidence.c.case_id == case, t.evidence.c.file_sha256.is_not(None))).all()


def test_the_case_page_refuses_a_file_that_is_no_scan_and_shows_a_photo_named_anyhow(world, world_clients):
    page, _api = world_clients
    case = world.household()
    cadre = page("vs")
    form = {"csrf": cadre.csrf, "type": "appraisal_minutes"}
    for name in ("xss.svg", "scan.html", "收入核算表.exe"):
        refused = cadre.post(f"/cases/{case}/evidence", headers=HX, data=form, files={"file": (name, NOT_SCANS[name], "image/svg+xml")})
        assert refused.status_code == 400, refused.text
        assert f"文件 {name} 不是照片或扫描件" in refused.text and "JPG、PNG、WEBP、GIF 图片或 PDF" in refused.text
    iphone = cadre.post(f"/cases/{case}/evidence", headers=HX, data=form, files={"file": ("IMG_0001.HEIC", HEIC, "image/heic")})
    assert iphone.status_code == 400 and "请导出为 JPG 后再附上" in iphone.text
    assert _files(world, case) == []
    done = cadre.post(f"/cases/{case}/evidence", headers=HX, data=form, files={"file": ("照片.exe", JPEG, "application/octet-stream")})
    assert done.status_code == 200, done.text
    [(evidence, name)] = _files(world, case)
    shown = page("ts1").get(f"/evidence/{evidence}/file")
    assert shown.status_code == 200 and shown.content == JPEG
    assert shown.headers["content-type"] == "image/jpeg" and shown.headers["content-disposition"].startswith("inline;")
    assert name == "照片.exe" and shown.headers["x-content-type-options"] == "nosniff"


def test_the_api_refuses_a_file_that_is_no_scan_in_the_readers_language(world, world_clients):
    _page, api = world_clients
    case = world.household()
    answer = api("vs", "en").post(f"/api/v1/cases/{case}/evidence", data={"type": "appraisal_minutes", "fields": "{}"},
                                  files={"file": ("收入核算表.docx", NOT_SCANS["收入核算表.docx"], "application/msword")})
    assert answer.status_code == 400 and answer.json()["error"] == "evidence.not_a_scan"
    assert answer.json()["message"].startswith("the file 收入核算表.docx is not a photo or a scan")
    assert _files(world, case) == []
    sent = api("vs").post(f"/api/v1/cases/{case}/evidence", data={"type": "appraisal_minutes", "fields": "{}"},
                          files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert sent.status_code == 201, sent.text


def test_a_file_kept_before_evidence_had_to_be_a_scan_is_still_downloaded(world, world_clients, tmp_path):
    """A text file attached by an older version (put in the store here as it was then) is served as a
    download, never shown, as before."""
    import hashlib
    from sqlalchemy import update
    page, _api = world_clients
    case = world.household()
    data = "脱贫确认书（旧版本存入的文本）".encode()
    digest = hashlib.sha256(data).hexdigest()
    world.app.evidence.path_for(digest).parent.mkdir(parents=True, exist_ok=True)
    world.app.evidence.path_for(digest).write_bytes(data)
    evidence = attach_with_file(world, case, tmp_path)
    with world.app.engine.begin() as conn:
        conn.execute(update(t.evidence).where(t.evidence.c.id == evidence).values(file_sha256=digest,
                                                                                   file_name="确认书.txt"))
    answer = page("ts1").get(f"/evidence/{evidence}/file")
    assert answer.status_code == 200 and answer.content == data
    assert answer.headers["content-type"].startswith("text/plain") and answer.headers["content-disposition"].startswith(
        "attachment;")


def attach_with_file(world, case: int, tmp_path) -> int:
    from engine.services.case_actions import attach_evidence
    from tests.world import scan_file
    return attach_evidence(world.app, world["vs"], case, "appraisal_minutes", {}, scan_file(tmp_path / "记录.pdf"))


def test_a_photo_cut_short_is_refused_on_the_case_page_and_the_api_in_words(world, world_clients):
    """Only its first bytes were looked at: a PNG's first 30 bytes were kept, and the evidence count went up."""
    page, api = world_clients
    case = world.household()
    cut = cut_short_files()["评议.png"]
    cadre = page("vs")
    refused = cadre.post(f"/cases/{case}/evidence", headers=HX, data={"csrf": cadre.csrf, "type": "appraisal_minutes"},
                         files={"file": ("评议.png", cut, "image/png")})
    assert refused.status_code == 400 and "文件 评议.png 不完整，似乎在传送或复制时被截断了" in refused.text
    answer = api("vs", "en").post(f"/api/v1/cases/{case}/evidence", data={"type": "appraisal_minutes", "fields": "{}"},
                                  files={"file": ("评议.png", cut, "image/png")})
    assert answer.status_code == 400 and answer.json()["error"] == "evidence.cut_short"
    assert "seems cut short" in answer.json()["message"]
    assert _files(world, case) == []


def test_a_file_too_big_or_cut_short_sent_through_a_server_is_refused_as_directly(
        live_server, demo_home, as_person, capsys, tmp_path):  # noqa: F811
    """`evidence add --file` and `problem add --file` kept a 25 MB photo, and one cut short: both send the
    file to the server, whose command stores it as the direct one does (a problem item, unlike a case's
    evidence, is refused by nothing else the demo's record may hold)."""
    settings, _ = demo_home
    who = as_person("county_director")
    big, cut = too_big_photo(tmp_path / "房屋.png"), tmp_path / "评议.png"
    cut.write_bytes(cut_short_files()["评议.png"])
    for path, words in ((big, "文件 房屋.png 超过 20 MB：请压缩照片"), (cut, "文件 评议.png 不完整")):
        command = ["--as", who, "problem", "add", "--region", COUNTY, "--source", "考核", "--description", "错退",
                   "--file", str(path)]
        remote = run(capsys, "--server", live_server, *command)
        assert remote[0] == 2 and words in remote[2], remote
        assert remote == run(capsys, "--home", str(settings.home), *command)
