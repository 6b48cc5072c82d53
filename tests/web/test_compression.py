"""A weak phone signal: pages come compressed to a browser that takes gzip, the vendored scripts (whose
names carry their version) are kept by the browser, the app's own files are checked again before use."""
from __future__ import annotations

import gzip

import httpx


def test_a_page_comes_gzip_encoded_and_static_files_carry_their_caching(signed_in, live_server):
    client = signed_in("cadre")
    cookies = {"jz_session": client.cookies.get("jz_session")}
    with httpx.Client(base_url=live_server, cookies=cookies) as browser:
        raw = browser.get("/work", headers={"Accept-Encoding": "gzip"})
        assert raw.status_code == 200 and raw.headers["content-encoding"] == "gzip"
        assert raw.headers["cache-control"] == "no-store"
        with browser.stream("GET", "/work", headers={"Accept-Encoding": "gzip"}) as sent:
            body = b"".join(sent.iter_raw())
        assert len(body) < len(raw.content) * 0.7 and b"</html>" in gzip.decompress(body)
        htmx = browser.get("/static/vendor/htmx-2.0.11.min.js", headers={"Accept-Encoding": "gzip"})
        assert htmx.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert htmx.headers["content-encoding"] == "gzip"
        own = browser.get("/static/app.css")
        assert own.headers["cache-control"] == "no-cache" and own.headers.get("etag")
        small = browser.get("/static/favicon.svg", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in small.headers or len(small.content) >= 1024


def test_a_page_carries_its_form_token_masked_afresh_so_its_compressed_size_tells_nothing(signed_in, core):
    """Pages are compressed and may echo what was typed (a search): the session's form token is never in
    a page as it is, but masked with fresh random bytes each time (BREACH); either form is accepted."""
    import re
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.services.accounts import csrf_ok
    client = signed_in("admin")
    first, second = (re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/people/new").text).group(1)
                     for _ in range(2))
    with core.engine.connect() as conn:
        tokens = set(conn.execute(select(t.web_sessions.c.csrf)).scalars())
    assert first != second and not {first, second} & tokens
    assert any(csrf_ok(s, first) and csrf_ok(s, second) for s in tokens)
    assert not any(csrf_ok(s, first[:-2] + ("AA" if first[-2:] != "AA" else "BB")) for s in tokens)
    added = client.post("/admin/people/new", data={"csrf": second, "code": "mask_ok", "name": "掩码测试",
                                                   "role": "pairing_cadre", "region": "360730100201"})
    assert added.status_code in (200, 303)
