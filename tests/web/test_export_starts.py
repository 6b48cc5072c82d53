"""A large workbook download starts at once: a county's steps took 5.6 s to build (2,000 households)
with nothing shown in the browser meanwhile. Now the download begins, named, while the workbook is
still being written, and its bytes follow once it is whole; a CSV streams as it always did."""
from __future__ import annotations

import threading

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
    assert rows[0][5] == "姓名" and len(rows) > 2
    assert not list((core.settings.home / "work").glob("*.xlsx"))        # its work file removed once sent
