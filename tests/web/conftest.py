"""The server under test: a small demo county (built once per session), sign-ins for each kind of
user, an in-process client (`signed_in`), a real uvicorn server on a loopback port (`live_server`)
and Debian's Chromium driven by Playwright (`browser`, `phone`, `desktop`)."""
from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from engine.adapters.app import ShiftedClock
from engine.adapters.db import Settings
from entrypoints.cli.serve import KEEP_ALIVE

DEMO_HOUSEHOLDS = 40
CHROMIUM = os.environ.get("JINGZHUN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("JINGZHUN_SCREENSHOTS", "screenshots"))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """(home, {kind: (person code, password)}) of a demo county of 40 households, built once per session
    (a minute) and never opened again: each user of it works on a copy (`demo_copy`)."""
    from config import load_config
    from demo.county import run_demo
    from demo.sign_ins import demo_sign_ins
    from rich.console import Console
    home = tmp_path_factory.mktemp("demo-template") / "jingzhun-demo"
    settings = Settings.from_env(str(home))
    run_demo(settings, load_config(), households=DEMO_HOUSEHOLDS, seed=2019, console=Console(file=open(os.devnull, "w")))
    sign_ins = {kind: (code, password) for kind, code, _name, password in demo_sign_ins(settings)[0]}
    return home, sign_ins


def demo_copy(template, into: Path):
    """(settings, sign-ins) of a copy of the demo template at `into` (its files' modes kept)."""
    home, sign_ins = template
    shutil.copytree(home, into, symlinks=True)
    return Settings.from_env(str(into)), dict(sign_ins)


@pytest.fixture(scope="session")
def demo_home(demo_template, tmp_path_factory):
    """(settings, {kind: (person code, password)}) of the session's demo county of 40 households."""
    return demo_copy(demo_template, tmp_path_factory.mktemp("web") / "jingzhun-demo")


@pytest.fixture(scope="session")
def core(demo_home):
    from entrypoints.bootstrap import make_app
    settings, _ = demo_home
    app = make_app(settings, clock=ShiftedClock(datetime.fromisoformat((settings.home / "demo-clock").read_text())))
    yield app
    app.close()


@pytest.fixture(scope="session")
def web(core):
    from entrypoints.web.app import create_app
    return create_app(core)


def pre_token(client, path: str = "/signin") -> str:
    page = client.get(path)
    return re.search(r'name="pre" value="([^"]+)"', page.text).group(1)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def signed_in(web, demo_home):
    """signed_in(kind) -> a TestClient with that kind's session (kinds: cadre, township, supervisor,
    county, inspector, admin); `.csrf` holds the session's form token."""
    from fastapi.testclient import TestClient
    _, sign_ins = demo_home
    clients = []

    def make(kind: str):
        client = TestClient(web, follow_redirects=False)
        code, password = sign_ins[kind]
        answer = client.post("/signin", data={"person": code, "password": password, "pre": pre_token(client),
                                              "next": "/"})
        assert answer.status_code == 303, answer.text
        from engine.services.accounts import session_of
        client.csrf = session_of(web.state.core, client.cookies.get("jz_session")).csrf
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def world_clients(world):
    """(page, api) over the `world` fixture's home (SQLite and PostgreSQL): page(code) -> a client
    signed in on the pages as that person (.csrf: its form token); api(code, lang) -> a client
    sending that person's API token."""
    from fastapi.testclient import TestClient
    from engine.services.accounts import open_session
    from entrypoints.web.app import create_app
    web, made = create_app(world.app), []

    def page(code: str):
        secret, csrf = open_session(world.app, world[code])
        client = TestClient(web, follow_redirects=False)
        client.cookies.set("jz_session", secret)
        client.csrf = csrf
        made.append(client)
        return client

    def api(code: str, lang: str = "zh"):
        client = TestClient(web, headers={"X-Jingzhun-Person": code, "Authorization": f"Bearer {world.tokens[code]}",
                                          "Accept-Language": lang})
        made.append(client)
        return client
    yield page, api
    for client in made:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(web) -> Iterator[str]:
    """`web` served by uvicorn in a thread on a loopback port, for as long as the block runs; its URL."""
    import uvicorn
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           timeout_keep_alive=KEEP_ALIVE))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(web):
    """The application served by uvicorn on a loopback port; yields its base URL."""
    with serving(web) as url:
        yield url


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Chromium is needed for the browser tests: install Debian's chromium ({CHROMIUM})")
    from playwright.sync_api import expect, sync_playwright
    # the suite runs on every core (pytest-xdist): a page's answer may wait behind another worker's
    # work, so an assertion waits up to 15 s for what the page shows (Playwright's own default is 5 s)
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Tab:
    """A browser page that records console errors and failed requests, and signs in like a person."""

    def __init__(self, page, base: str):
        self.page, self.base, self.errors, self.expected = page, base, [], set()
        page.on("console", lambda m: self._console(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, text: str) -> None:
        # A refusal is answered 4xx by design; Chromium logs every 4xx answer as a console error.
        # A test that provokes a refusal says which status it expects (`expect_status`).
        found = re.search(r"status of (\d{3})", text)
        if not (found and int(found.group(1)) in self.expected):
            self.errors.append(text)

    def expect_status(self, *statuses: int) -> None:
        self.expected.update(statuses)

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def sign_in(self, code: str, password: str):
        self.go("/signin")
        self.page.fill("input[name=person]", code)
        self.page.fill("input[name=password]", password)
        self.page.click("button.primary")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _tab(browser, live_server, width: int, height: int, mobile: bool):
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile,
                                  has_touch=mobile, locale="zh-CN", device_scale_factor=1)
    tab = Tab(context.new_page(), live_server)
    yield tab
    context.close()
    assert tab.errors == [], f"console errors: {tab.errors}"


@pytest.fixture
def phone(browser, live_server):
    """A 360 x 740 phone screen."""
    yield from _tab(browser, live_server, 360, 740, True)


@pytest.fixture
def desktop(browser, live_server):
    """A 1280 x 800 desktop screen."""
    yield from _tab(browser, live_server, 1280, 800, False)
