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
