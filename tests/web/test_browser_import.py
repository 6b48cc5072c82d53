"""In a real browser, on a phone: a village cadre imports a list of households from a file, with
one bad row skipped, and downloads that row with its reason."""
from __future__ import annotations

from tests.web.bulk_world import VILLAGE, core, demo_home, live_server, web  # noqa: F401
from tests.web.test_import_web import csv_bytes, households, ids


def test_a_cadre_on_a_phone_imports_a_list_skips_its_bad_row_and_downloads_it(phone, core, demo_home, tmp_path):  # noqa: F811
    good, bad = ids(51, 2), ids(52, 1)
    listing = tmp_path / "洋塘村名单.csv"
    listing.write_bytes(csv_bytes([("PH-001", "手机甲", good[0], "户主", "健康", "因病"),
                                   ("PH-001", "手机乙", good[1], "配偶", "健康", "因病"),
                                   ("PH-002", "手机丙", bad[0], "表哥", "健康", "因病")]))
    code, password = demo_home[1]["cadre"]
    page = phone.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    phone.sign_in(code, password)
    page.click("#village-lists")
    page.click("#import-link")
    page.wait_for_selector("#import-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.set_input_files('input[name="file"]', str(listing))
    page.select_option('select[name="village"]', VILLAGE)
    page.check('input[name="skip_bad"]')
    # Sent once: on submit the button is disabled and says it is working (seen here with the sending
    # itself prevented; then the page is sent for real).
    state = page.evaluate("""() => {
        const form = document.querySelector('#import-form'), button = form.querySelector('button');
        const hold = e => e.preventDefault();
        form.addEventListener('submit', hold);
        form.requestSubmit();
        form.removeEventListener('submit', hold);
        const seen = [button.disabled, button.textContent];
        button.disabled = false;
        return seen;
    }""")
    assert state == [True, "正在导入，请稍候…"]
    page.click('#import-form button[type="submit"]')
    result = page.wait_for_selector("#import-result")
    assert "已导入 1 户、2 人" in result.inner_text()
    assert set(households(core, ["PH-001", "PH-002"])) == {"PH-001"}
    with page.expect_download() as download:
        page.click("#import-downloads a")
    saved = tmp_path / "bad.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "洋塘村名单.bad-rows.xlsx"
    import openpyxl
    text = " ".join(str(c.value) for r in openpyxl.load_workbook(saved).active.iter_rows() for c in r)
    assert "手机丙" in text and "表哥" in text and "手机甲" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    phone.shot("import-phone")
