"""A request's body is bounded as it arrives: past its route's limit the server answers 413 with a
message in the reader's language, without reading the rest (uvicorn on loopback, real HTTP)."""
from __future__ import annotations

import json
import re
import socket

import httpx

from entrypoints.web.api_cli import CLI_BODY_MAX
from entrypoints.web.api_common import BODY_MAX, UPLOAD_BODY_MAX, UPLOAD_MAX

MB = 1024 * 1024


def _stream(total: int, chunk: int = MB):
    sent = 0
    while sent < total:
        piece = min(chunk, total - sent)
        sent += piece
        yield b"a" * piece


def _headers_only(base: str, path: str, length: int, extra: str = "") -> tuple[bytes, bytes]:
    """(status line and headers, body) of the answer to a POST that declares `length` bytes and
    sends none of them."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{extra}"
                      f"Content-Length: {length}\r\n\r\n").encode())
        answer = conn.recv(65536)
        head, _, body = answer.partition(b"\r\n\r\n")
        size = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
        while len(body) < size:
            body += conn.recv(65536)
    return head, body


def _token(demo_home, person: str) -> str:
    settings, _ = demo_home
    lines = (settings.home / "demo-tokens.csv").read_text().splitlines()
    return dict(line.split(",", 1) for line in lines if line.strip())[person]


def test_a_cli_command_streamed_past_its_limit_is_413_as_it_arrives(live_server, demo_home):
    # no Content-Length (chunked): refused once the bytes read pass the limit (the token known first)
    token = _token(demo_home, "v01_secretary")
    answer = httpx.post(f"{live_server}/api/v1/cli", content=_stream(CLI_BODY_MAX + 4 * MB), timeout=60,
                        headers={"Content-Type": "application/json", "Accept-Language": "en",
                                 "X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {token}"})
    assert answer.status_code == 413
    assert answer.json()["error"] == "web.body_too_big"
    assert f"at most {CLI_BODY_MAX // MB} MB" in answer.json()["message"]


def test_a_declared_length_past_the_limit_is_answered_before_any_byte_is_read(live_server):
    head, body = _headers_only(live_server, "/api/v1/cli", CLI_BODY_MAX + 1)
    assert head.startswith(b"HTTP/1.1 413")
    refusal = json.loads(body)
    assert refusal["error"] == "web.body_too_big" and f"最多 {CLI_BODY_MAX // MB} MB" in refusal["message"]
    head, body = _headers_only(live_server, "/api/v1/cases", BODY_MAX + 1, "Accept-Language: en\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"x-content-type-options: nosniff" in head.lower()
    assert f"at most {BODY_MAX // MB} MB" in json.loads(body)["message"]


def test_a_page_form_past_the_limit_is_413_on_the_error_page_in_chinese(signed_in):
    client = signed_in("cadre")
    answer = client.post("/cases/2/evidence", data={"type": "appraisal_minutes", "csrf": client.csrf},
                         files={"file": ("评议.mp4", b"x" * (UPLOAD_BODY_MAX + MB), "video/mp4")})
    assert answer.status_code == 413 and "text/html" in answer.headers["content-type"]
    assert "请求太大" in answer.text and f"最多 {UPLOAD_BODY_MAX // MB} MB" in answer.text
    assert 'class="who" href="/account"' in answer.text and "/signin" not in answer.text   # still signed in
    partial = client.post("/cases/2/evidence", data={"type": "appraisal_minutes", "csrf": client.csrf},
                          files={"file": ("评议.mp4", b"x" * (UPLOAD_BODY_MAX + MB), "video/mp4")},
                          headers={"HX-Request": "true"})
    assert partial.status_code == 413 and "<html" not in partial.text and "请求太大" in partial.text


def test_a_file_over_its_own_limit_but_within_the_body_s_is_named_as_before(signed_in):
    client = signed_in("cadre")
    answer = client.post("/cases/2/evidence", data={"type": "appraisal_minutes", "csrf": client.csrf},
                         files={"file": ("评议.pdf", b"x" * (UPLOAD_MAX + MB), "application/pdf")})
    assert answer.status_code == 413 and f"文件 评议.pdf 超过 {UPLOAD_MAX // MB} MB：请压缩照片" in answer.text


def test_a_body_within_the_limit_is_answered_as_before(live_server):
    answer = httpx.post(f"{live_server}/api/v1/cli", content=b'{"argv": ["case", "list"]}' + b" " * MB,
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 401       # read whole, then refused for want of a token


def test_a_route_that_reads_no_body_does_nothing_when_the_declared_body_is_too_big(live_server, demo_home):
    token = _token(demo_home, "v01_secretary")
    auth = f"X-Jingzhun-Person: v01_secretary\r\nAuthorization: Bearer {token}\r\n"
    head, body = _headers_only(live_server, "/api/v1/me/token", BODY_MAX + 1, auth)
    assert head.startswith(b"HTTP/1.1 413") and json.loads(body)["error"] == "web.body_too_big"
    kept = httpx.get(f"{live_server}/api/v1/cases?limit=1", timeout=30,
                     headers={"X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {token}"})
    assert kept.status_code == 200       # no new token was made: the old one still signs in


def test_a_cli_command_s_body_is_not_read_before_its_token_is_known(live_server):
    """Declared but never sent: without a good token the answer comes at once (the body was never
    waited for), so nobody can make the server read and parse a large JSON document."""
    head, body = _headers_only(live_server, "/api/v1/cli", 10 * MB,
                               "X-Jingzhun-Person: v01_secretary\r\nAuthorization: Bearer wrong\r\n")
    assert head.startswith(b"HTTP/1.1 401") and json.loads(body)["error"] == "auth.bad_token"


def test_a_step_s_json_body_is_held_to_a_json_body_s_limit_though_its_route_takes_a_file(live_server, demo_home):
    """The step routes take an appraisal's minutes in multipart (UPLOAD_BODY_MAX); a JSON body, or a
    form with no file, is held to BODY_MAX: declared past it, or sent past it without its length."""
    head, body = _headers_only(live_server, "/api/v1/steps", BODY_MAX + 1, "Accept-Language: en\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert f"at most {BODY_MAX // MB} MB" in json.loads(body)["message"]
    head, _ = _headers_only(live_server, "/cases/1/step", BODY_MAX + 1)
    assert head.startswith(b"HTTP/1.1 413")
    token = _token(demo_home, "v01_secretary")
    answer = httpx.post(f"{live_server}/api/v1/steps", content=_stream(BODY_MAX + 2 * MB), timeout=60,
                        headers={"Content-Type": "application/json", "Accept-Language": "en",
                                 "X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {token}"})
    assert answer.status_code == 413 and f"at most {BODY_MAX // MB} MB" in answer.json()["message"]
