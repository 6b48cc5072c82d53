"""A large workbook download starts at once: a county's steps took 5.6 s to build (2,000 households)
with nothing shown in the browser meanwhile. Now the download begins, named, while the workbook is
still being written, and its bytes follow once it is whole; a CSV streams as it always did."""
from __future__ import annotations

import threading

import pytest

from tests.web.test_export_web import cadres_village


def test_a_workbook_still_being_written_is_already_a_download_in_the_browser(phone, demo_home, core, tmp_path,
                                                                            monkeypatch):
    from openpyxl import load_workbook
    from entrypoints.web import routes_export
    written = routes_export.write_xlsx
    release = threading.Event()

    def slow(*args, **kwargs):          # a large county's workbook: still being written
        release.wait(20)
        return written(*args, **kwargs)

    monkeypatch.setattr(routes_export, "write_xlsx", slow)
    phone.sign_in(*demo_home[1]["cadre"])
    phone.go(f"/villages/{cadres_village(core)}/list")
    try:
        with phone.page.expect_download(timeout=5000) as download:     # before the workbook is whole
            phone.page.click("#exports li[data-table=members] a:text('Excel')")
        assert download.value.suggested_filename.endswith(".xlsx") and "家庭成员" in download.value.suggested_filename
    finally:
        release.set()
    saved = tmp_path / "members.xlsx"
    download.value.save_as(saved)
    rows = list(load_workbook(saved, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][7] == "姓名" and len(rows) > 2
    assert not list((core.settings.home / "work").glob("*.xlsx"))        # its work file removed once sent


def test_a_workbook_that_fails_after_its_download_began_is_cut_off_not_sent_as_a_file(demo_home, core, live_server,
                                                                                     monkeypatch):
    """A disk that fills while a large workbook is written, its download already begun: the browser
    must see a failed download, never a file that looks whole; nothing is recorded as taken."""
    import errno
    import httpx
    from entrypoints.web import routes_export
    release = threading.Event()

    def full(*args, **kwargs):
        release.wait(20)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(routes_export, "write_xlsx", full)
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    headers = {"X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {tokens['v01_secretary']}"}
    before = _downloads(core)
    with httpx.Client(base_url=live_server, timeout=30) as client:
        with client.stream("GET", "/export/members.xlsx", headers=headers) as answer:
            assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
            release.set()
            with pytest.raises(httpx.HTTPError):        # cut off: no end to its body
                answer.read()
    assert _downloads(core) == before
    assert not list((core.settings.home / "work").glob("*.xlsx"))


def _downloads(core) -> int:
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_events).where(
            t.audit_events.c.action == "exported")).scalar()
