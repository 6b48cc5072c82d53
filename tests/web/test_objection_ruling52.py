"""A ruling on an objection (a7 finding 7): the inspector's summary of who proposed, checked and approved
names who ruled an upheld objection that ended the procedure; the ruling keeps the registry checks
behind it as a file, hashed, on the notice page and the trace; filing an objection starts a deadline
for the township to rule, closed by the ruling."""
from __future__ import annotations

import re
from datetime import date

from engine.services.case_actions import file_objection, resolve_objection
from tests.test_notices import private_households, to_first_notice


def _objection(world) -> tuple[list[int], int, int]:
    cases, _ = private_households(world)
    notice = to_first_notice(world, cases)
    world.on(date(2019, 3, 4))
    oid = file_objection(world.app, world["vs"], notice, cases[0], "村民王某", "该户有轿车未申报", date(2019, 3, 4))
    world.on(date(2019, 3, 6))
    return cases, notice, oid


def _summary_row(html: str, procedure_label: str) -> str:
    chain = html[html.index('<section id="chain">'):html.index("</section>", html.index('<section id="chain">'))]
    row = next(r for r in chain.split("<tr>") if procedure_label in r)
    return re.sub(r"\s+", " ", row)


def test_the_inspectors_summary_names_who_ruled_the_upheld_objection_that_ended_the_procedure(world, world_clients):
    page, _api = world_clients
    cases, _notice, oid = _objection(world)
    resolve_objection(world.app, world["ts2"], oid, True, "经车辆登记查询，该户有轿车一辆", date(2019, 3, 6))
    shown = page("insp").get(f"/inspect/trace/case/{cases[0]}")
    assert shown.status_code == 200
    row = _summary_row(shown.text, "贫困识别")
    approved = row.split('data-label="审批"')[1]
    assert "township_staff-ts2" in approved and f"裁定异议 {oid} 成立" in approved, approved
    english = page("insp")
    english.cookies.set("lang", "en")
    row = _summary_row(english.get(f"/inspect/trace/case/{cases[0]}").text, "identification")
    assert f"upheld objection {oid}" in row, row


def test_a_ruling_keeps_the_registry_checks_behind_it_as_a_hashed_file_on_the_notice_and_the_trace(
        world, world_clients, tmp_path):
    import hashlib
    import json
    from demo.scans import scan_pdf
    from engine.reads.audit_verify import verify
    from tests.helpers.notifications import cli
    page, api = world_clients
    cases, notice, oid = _objection(world)
    scan = tmp_path / "车辆登记查询.pdf"
    scan.write_bytes(scan_pdf(["车辆登记查询结果 该户名下轿车一辆"]))
    said = cli(world, "ts2", "notice", "resolve", str(oid), "--uphold", "--reason", "经车辆登记查询，该户有轿车一辆",
               "--file", str(scan))
    assert said.code == 0, said.out + said.err
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    shown = page("vs").get(f"/notices/{notice}").text       # the notice page: the file, its hash, a link to it
    ruling = shown[shown.index(f'data-objection="{oid}"'):]
    ruling = ruling[:ruling.index("</li>")]
    assert "车辆登记查询.pdf" in ruling and sha[:16] in ruling, ruling
    link = re.search(r'href="(/evidence/\d+/file)"', ruling).group(1)
    assert page("insp").get(link).content == scan.read_bytes()
    trace = page("insp").get(f"/inspect/trace/case/{cases[0]}").text
    assert "车辆登记查询.pdf" in trace and sha[:16] in trace
    text = cli(world, "insp", "trace", str(cases[0]))
    assert f"车辆登记查询.pdf，哈希 {sha[:16]}" in text.out, text.out
    english = cli(world, "insp", "--lang", "en", "notice", "show", str(notice))
    assert f"车辆登记查询.pdf, hash {sha[:16]}" in english.out, english.out + english.err
    case_page = page("vs").get(f"/cases/{cases[0]}")         # the case page lists it among its evidence
    assert case_page.status_code == 200 and "车辆登记查询.pdf" in case_page.text
    shown_case = cli(world, "vs", "case", "show", str(cases[0]))
    assert shown_case.code == 0 and f"车辆登记查询.pdf，哈希 {sha[:16]}" in shown_case.out, shown_case.out
    assert verify(world.app, processes=1).intact

    # the web form and the API take the file too; a file that is no scan is refused, nothing ruled
    world.on(date(2019, 3, 4))
    other = file_objection(world.app, world["vs"], notice, cases[1], "村民李某", "该户有商品房", date(2019, 3, 4))
    third = file_objection(world.app, world["vs"], notice, cases[1], "村民张某", "该户有商品房", date(2019, 3, 4))
    world.on(date(2019, 3, 6))
    township = page("ts2")
    form = {"csrf": township.csrf, "outcome": "dismissed", "reason": "经房产登记查询，无商品房", "ruled_on": "2019-03-06"}
    bad = township.post(f"/objections/{other}/resolve", data=form, files={"file": ("查询.txt", b"not a scan", "text/plain")})
    assert bad.status_code in (400, 409, 422) and "不是照片或扫描件" in bad.text, bad.text[:500]
    done = township.post(f"/objections/{other}/resolve", data=form,
                         files={"file": ("房产查询.pdf", scan_pdf(["房产登记查询 无记录"]), "application/pdf")})
    assert done.status_code == 200 and "房产查询.pdf" in done.text, done.text[:500]
    answer = api("ts2").post(f"/api/v1/objections/{third}/resolve", data={"resolution": json.dumps(
        {"upheld": False, "reason": "经房产登记查询，无商品房", "ruled_on": "2019-03-06"})},
        files={"file": ("房产查询2.pdf", scan_pdf(["房产登记查询 无记录 2"]), "application/pdf")})
    assert answer.status_code == 200 and answer.json()["outcome"] == "dismissed", answer.text
    shown = api("insp").get(f"/api/v1/notices/{notice}").json()
    files = {o["id"]: (o.get("file") or {}).get("name") for o in shown["objections"]}
    assert files == {oid: "车辆登记查询.pdf", other: "房产查询.pdf", third: "房产查询2.pdf"}, shown["objections"]
