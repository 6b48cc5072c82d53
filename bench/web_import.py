"""A county's registry imported on the web page against the CLI, each on a fresh SQLite data home.

The same CSV (N households, 3 members each, the national system's Chinese headers, a village column)
is imported by the county office director twice: with `jingzhun household import FILE` in a child
process (wall time, peak memory), and uploaded to `/imports` as a browser sends it (multipart, signed
in, in-process through Starlette's test client; the page answers as it goes past 10 s). Both run the
same command; the web's figure includes the upload and the page.

    python bench/web_import.py [N]      # default 20,000 households (at least 1)

It prints one human line (no --json; bench/run.py does not run it). Its temporary folder is removed
at the end, on an error, Ctrl-C, SIGTERM or SIGHUP.
"""
import argparse
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import import_export as ie  # noqa: E402
from bench.figures import COUNTY, at_least, county_regions, make_home, run_cli, run_main  # noqa: E402
from engine.services.org import NewPerson, authenticate  # noqa: E402
from engine.services.accounts import set_password  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("households", nargs="?", type=at_least(1), default=20_000, help="Households in the CSV.")
    n = parser.parse_args().households
    work = Path(tempfile.mkdtemp(prefix="jz-bench-web-import-"))
    try:
        measure(work, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, n: int) -> None:
    listing = ie.write_csv(work / "名单.csv", n)
    villages = -(-n // ie.PER_VILLAGE)
    director = [NewPerson("cd", "扶贫办主任", (("county_office_director", COUNTY),))]
    # CLI
    app, tokens = make_home(work / "cli", None, county_regions(villages), director)
    app.close()
    cli_s, cli_peak, cli_cpu = run_cli(["--home", str(work / "cli"), "--as", "cd", "household", "import", str(listing)], tokens["cd"], None, work / "c.json")
    # web
    app, tokens = make_home(work / "web", None, county_regions(villages), director)
    set_password(app, authenticate(app, "cd", tokens["cd"]), "Ningdu-2026-pass")
    app.close()
    from entrypoints.bootstrap import make_app
    from engine.adapters.db import Settings
    from entrypoints.web.app import create_app
    from fastapi.testclient import TestClient
    from engine.services.accounts import session_of
    core = make_app(Settings.from_env(str(work / "web")))
    client = TestClient(create_app(core), follow_redirects=False)
    page = client.get("/signin").text
    pre = re.search(r'name="pre" value="([^"]+)"', page).group(1)
    assert client.post("/signin", data={"person": "cd", "password": "Ningdu-2026-pass", "pre": pre, "next": "/"}).status_code == 303
    csrf = session_of(core, client.cookies.get("jz_session")).csrf
    began = time.perf_counter()
    with open(listing, "rb") as fh:
        answer = client.post("/imports", data={"csrf": csrf, "what": "households"}, files={"file": ("名单.csv", fh, "text/csv")})
    web_s = time.perf_counter() - began
    ok = f"已导入 {n} 户" in answer.text
    streamed = 'id="import-running"' in answer.text
    print(f"{n} households, {listing.stat().st_size/1e6:.1f} MB: CLI {cli_s:.1f} s (peak {cli_peak:.0f} MB) | web page {web_s:.1f} s, status {answer.status_code}, streamed {streamed}, imported {ok}, this process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")
    core.close()


if __name__ == "__main__":
    run_main(main)
