"""A township cadre rules on an objection on a phone, in a real browser, attaching the registry's answer
the ruling rests on (a7 finding 7): the form sends it (multipart, through HTMX), and the notice page
shows it kept, with its hash and a link to the file."""
from __future__ import annotations

import hashlib

from demo.scans import scan_pdf
from sqlalchemy import select

from engine.adapters import tables as t
from tests.web.bulk_world import township_list
from tests.web.test_objection_ruling_pages import notice_of


def test_a_ruling_with_its_checks_attached_on_a_phone(phone, core, demo_home, tmp_path):
    listed = township_list(core, 2)
    notice = notice_of(core, listed.objected)
    with core.engine.connect() as conn:
        objection = conn.execute(select(t.objections).where(t.objections.c.case_id == listed.objected)).first()
    scan = tmp_path / "车辆登记查询.pdf"
    scan.write_bytes(scan_pdf(["车辆登记查询结果 该户名下无车辆"]))
    phone.sign_in(*demo_home[1]["supervisor"])
    page = phone.go(f"/notices/{notice.id}")
    form = page.locator(f'li[data-objection="{objection.id}"] form')
    form.locator("input[name=reason]").fill("经车辆登记查询，该户名下无车辆")
    form.locator("input[name=file]").set_input_files(str(scan))
    form.locator("button").click()
    ruling = page.locator(f'li[data-objection="{objection.id}"] .ruling-file')
    ruling.wait_for()
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert "车辆登记查询.pdf" in ruling.inner_text() and sha[:16] in ruling.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360      # nothing wider than the phone
    with core.engine.connect() as conn:
        row = conn.execute(select(t.objections).where(t.objections.c.id == objection.id)).first()
        kept = conn.execute(select(t.evidence).where(t.evidence.c.id == row.resolution_evidence_id)).first()
    assert row.resolution == "dismissed" and kept.file_sha256 == sha and kept.type == "objection_ruling"
