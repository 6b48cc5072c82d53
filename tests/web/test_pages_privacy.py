"""What every reader may rely on: pages in Chinese by default and English on request, and no personal
data or hash in any error page or log line, even when the server fails."""
from __future__ import annotations

import logging
import re

from fastapi.testclient import TestClient

ID_RUN = re.compile(r"\d{15,}")
HEX_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def test_the_language_switch_turns_the_pages_into_english_and_back(signed_in):
    client = signed_in("cadre")
    assert "我的工作" in client.get("/work").text
    client.get("/lang/en?next=/work")
    english = client.get("/work").text
    assert "My work" in english and "我的工作" not in english
    client.get("/lang/zh?next=/work")
    assert "我的工作" in client.get("/work").text


def test_the_language_switch_keeps_the_reader_where_they_were(signed_in):
    """A village's list of one step: switching language comes back to that step, not the chooser."""
    import html
    client = signed_in("cadre")
    where = "/work?filter=ready&page=2"
    link = re.search(r'href="(/lang/en\?next=[^"]+)"', client.get(where).text).group(1)
    answer = client.get(html.unescape(link), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == where


def test_a_language_switch_never_sends_the_reader_to_another_site(signed_in):
    client = signed_in("cadre")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = client.get(f"/lang/en?next={target}")
        assert answer.headers["location"] == "/"


def test_a_failing_server_shows_and_logs_no_personal_data(web, signed_in, monkeypatch, caplog):
    from entrypoints.web import routes_cadre
    secret = "张三 360730196901011234 13912345678 " + "ab" * 32

    def broken(*args, **kwargs):
        raise RuntimeError(secret)

    monkeypatch.setattr(routes_cadre, "case_detail", broken)
    client = TestClient(web, raise_server_exceptions=False, cookies=signed_in("cadre").cookies)
    with caplog.at_level(logging.DEBUG):
        answer = client.get("/cases/1")
    assert answer.status_code == 500
    assert "服务器出错" in answer.text
    for text in (answer.text, caplog.text):
        assert "张三" not in text and not ID_RUN.search(text) and not HEX_HASH.search(text)
        assert "Traceback" not in text


def test_refusals_and_bad_input_pages_hold_no_personal_data(signed_in):
    client = signed_in("cadre")
    answers = [client.get("/cases/abc"), client.get("/cases/99999999"), client.get("/nowhere"),
               client.post("/cases/1/evidence", data={"csrf": client.csrf, "type": "income_check",
                                                      "f_year": "20x", "f_net_income": "360730196901011234"},
                           headers={"HX-Request": "true"})]
    for answer in answers:
        assert 400 <= answer.status_code < 500
        assert not ID_RUN.search(answer.text), answer.text[-500:]
    # sent without HTMX: the case page, its form holding what was typed; the refusal itself quotes none of it
    plain = client.post("/cases/1/evidence", data={"csrf": client.csrf, "type": "income_check", "f_year": "20x",
                                                   "f_net_income": "360730196901011234"})
    refusal = re.search(r'<p class="refusal" role="alert" data-code[^>]*>[^<]*</p>', plain.text)
    assert plain.status_code == 400 and refusal and not ID_RUN.search(refusal.group(0))
