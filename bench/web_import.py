"""A county's registry imported on the web page against the CLI, each on a fresh data home.

The same CSV (N households, 3 members each, the national system's Chinese headers, a village column)
is imported by the county office director twice: with `jingzhun household import FILE` in a child
process (wall time, peak memory), and uploaded to `/imports` as a browser sends it (multipart, signed
in, in-process through Starlette's test client; the page answers as it goes past 10 s). Both run the
same command; the web's figure includes the upload and the page.

    python bench/web_import.py [N] [--pg] [--json]      # default 20,000 households (at least 1)

It prints one human line, or with --json one figure (bench/run.py reads it): the page's seconds as
"ours s" beside the CLI's as "raw s" (no target), peak memory of this process (the page and the test
client in one). The CLI command is the baseline, not the driver alone (import_export.py's "import CSV"
row has that): both run the same import, so the ratio is what the web adds to it (the upload parsed
as multipart, the session, the page's answer), which is the question this script asks (at a few
households the CLI's start-up, about half a second, weighs on "raw s" and the ratio is above 1). An import that
does not import every household is an error, not a figure. --pg runs both on new databases of the
PostgreSQL server of JINGZHUN_TEST_PG_URL. Its temporary folder and databases are removed at the end,
on an error, Ctrl-C, SIGTERM or SIGHUP.
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
from bench.figures import (COUNTY, at_least, backend_of, county_regions, figure, make_home, pg_database,  # noqa: E402
                           print_json, run_cli, run_database, run_main)
from engine.services.org import NewPerson, authenticate  # noqa: E402
from engine.services.accounts import set_password  # noqa: E402


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("households", nargs="?", type=at_least(1), default=20_000, help="Households in the CSV.")
    parser.add_argument("--pg", action="store_true", help="On PostgreSQL (JINGZHUN_TEST_PG_URL).")
    parser.add_argument("--json", action="store_true", help="One JSON object per figure.")
    return parser.parse_args(argv)


def main() -> None:
    args = arguments()
    work = Path(tempfile.mkdtemp(prefix="jz-bench-web-import-"))
    names = [run_database(f"web_import_{how}") for how in ("cli", "web")] if args.pg else []
    try:
        found = measure(work, args.households, [pg_database(name) for name in names] or [None, None])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for name in names:
            pg_database(name, drop=True)
    if args.json:
        print_json([found])
    else:
        print(f"{found['n']} households, {found['file_mb']:.1f} MB: CLI {found['raw_s']:.1f} s (peak "
              f"{found['cli_mb']:.0f} MB) | web page {found['ours_s']:.1f} s, status 200, streamed "
              f"{found['streamed']}, imported True, this process peak {found['peak_mb']:.0f} MB")


def measure(work: Path, n: int, db_urls: list[str | None]) -> dict:
    """The same file imported with the CLI (on the first database) and on the page (on the second)."""
    listing = ie.write_csv(work / "名单.csv", n)
    villages = -(-n // ie.PER_VILLAGE)
    director = [NewPerson("cd", "扶贫办主任", (("county_office_director", COUNTY),))]
    cli_url, web_url = db_urls
    # CLI
    app, tokens = make_home(work / "cli", cli_url, county_regions(villages), director)
    app.close()
    cli_s, cli_peak, cli_cpu = run_cli(["--home", str(work / "cli"), "--as", "cd", "household", "import",
                                        str(listing)], tokens["cd"], cli_url, work / "c.json")
    # web
    app, tokens = make_home(work / "web", web_url, county_regions(villages), director)
    set_password(app, authenticate(app, "cd", tokens["cd"]), "Ningdu-2026-pass")
    app.close()
    from entrypoints.bootstrap import make_app
    from engine.adapters.db import Settings
    from entrypoints.web.app import create_app
    from fastapi.testclient import TestClient
    from engine.services.accounts import session_of
    core = make_app(Settings.from_env(str(work / "web"), web_url))
    try:
        client = TestClient(create_app(core), follow_redirects=False)
        page = client.get("/signin").text
        pre = re.search(r'name="pre" value="([^"]+)"', page).group(1)
        assert client.post("/signin", data={"person": "cd", "password": "Ningdu-2026-pass", "pre": pre,
                                            "next": "/"}).status_code == 303
        csrf = session_of(core, client.cookies.get("jz_session")).csrf
        began = time.perf_counter()
        with open(listing, "rb") as fh:
            answer = client.post("/imports", data={"csrf": csrf, "what": "households"},
                                 files={"file": ("名单.csv", fh, "text/csv")})
        web_s = time.perf_counter() - began
    finally:
        core.close()
    if answer.status_code != 200 or f"已导入 {n} 户" not in answer.text:
        raise SystemExit(f"the page did not import the {n} households: status {answer.status_code}\n"
                         f"{answer.text[-1500:]}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figure("import CSV on the web page", backend_of(web_url), n, web_s, cli_s, None, peak,
                  members=3 * n, file_mb=round(listing.stat().st_size / 1e6, 1), cli_mb=round(cli_peak, 1),
                  cli_cpu_s=cli_cpu, streamed='id="import-running"' in answer.text)


if __name__ == "__main__":
    run_main(main)
