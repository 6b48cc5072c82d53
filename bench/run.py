"""The benchmark suite (issue 12): every bench script, each figure beside its raw baseline, in one table.

Runs each script with --json as a subprocess, on SQLite and, when JINGZHUN_TEST_PG_URL names a
PostgreSQL server, on PostgreSQL too (a new database per script), and prints one table: figure,
backend, n, ours s, raw s, ratio (raw/ours), target, met/missed, peak MB.

    python bench/run.py            # full: 1,000,000 households / events / deadlines (hours)
    python bench/run.py --quick    # CI-sized: a few minutes on 2 cores
    python bench/run.py --only import_export sweep --save figures.json
    python bench/run.py --n 100000 # every script at one size (households / cases / deadlines / events);
                                   # at least 6,000 with step_cost, 2,900 with pg_scale, 2,000 with
                                   # web_latency (MINIMUM below)
    python bench/run.py --show a.json b.json   # one table of figures saved by earlier runs (--save)

Exit 0 when every script ran (a missed target is reported, not an error); 1 when a script crashed;
2 for a usage error; 130 when interrupted (Ctrl-C, SIGTERM, SIGHUP: the script running is given time to
remove its folder and database, and the figures measured so far are printed and saved).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import at_least, stop_on_signals  # noqa: E402

MILLION = "1000000"

# name: (quick arguments, full arguments, backends it runs on)
SCRIPTS = {
    "import_export": (["--households", "2000"], ["--households", MILLION], ("sqlite", "postgresql")),
    "step_cost": (["--sizes", "10000", "--steps", "200", "--list", "200", "--rounds", "1", "--cli-runs", "2"],
                  ["--sizes", "100000", MILLION], ("sqlite", "postgresql")),
    "sweep": (["--sizes", "20000", "--due", "2000"], ["--sizes", MILLION], ("sqlite", "postgresql")),
    "audit_verify": (["--events", "50000"], ["--events", MILLION], ("sqlite", "postgresql")),
    "pg_scale": (["--households", "4000", "--steps", "60"], ["--households", MILLION], ("postgresql",)),
    "web_latency": (["--households", "2000", "--rounds", "20"], ["--households", MILLION], ("sqlite", "postgresql")),
    "web_import": (["2000"], [MILLION], ("sqlite", "postgresql")),
}
# name: its arguments for one size n
SIZED = {
    "import_export": lambda n: ["--households", str(n)],
    "step_cost": lambda n: ["--sizes", str(n)],
    "sweep": lambda n: ["--sizes", str(n), "--due", str(min(10_000, n // 10))],
    "audit_verify": lambda n: ["--events", str(n)],
    "pg_scale": lambda n: ["--households", str(n), "--steps", str(min(300, n // 200))],
    "web_latency": lambda n: ["--households", str(n)],
    "web_import": lambda n: [str(n)],
}
# name: the smallest n its SIZED arguments take (step_cost: 3 rounds of 1,000 steps and a list of 1,000;
# sweep: a due deadline; audit_verify: one case's 20 events; pg_scale: two townships and a village for
# each of its 9 writers; web_latency: one whole township of 20 villages of 100; tests/test_bench.py checks these
# against each script's own refusals)
MINIMUM = {"import_export": 1, "step_cost": 6_000, "sweep": 10, "audit_verify": 20, "pg_scale": 2_900,
           "web_latency": 2_000, "web_import": 1}
STOP_WAIT_S = 10       # after Ctrl-C, the seconds a script is given to remove its folder and database
COLUMNS = ("figure", "backend", "n", "ours s", "raw s", "ratio", "target", "met/missed", "peak MB")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, SIGHUP) while a script ran: the figures it had printed."""

    def __init__(self, found: list[dict]):
        super().__init__()
        self.found = found


def run_script(name: str, argv: list[str], backend: str) -> tuple[list[dict], str | None]:
    """The figures a script printed, and what went wrong when it crashed (else None). The script runs in
    a session of its own: Ctrl-C reaches run.py alone, which stops the script as stop() says."""
    command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--json", *argv]
    command += ["--pg"] if backend == "postgresql" else []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, text=True, start_new_session=True)
        try:
            code = child.wait()
        except KeyboardInterrupt:
            stop(child, name)
            raise Interrupted(figures_in(said(out))) from None
        stdout, stderr = said(out), said(err)
    found = figures_in(stdout)
    if code:
        return found, f"exit {code}: {stderr.strip()[-1500:] or stdout.strip()[-1500:]}"
    return found, None if found else "printed no figure"


def said(file) -> str:
    file.seek(0)
    return file.read()


def figures_in(stdout: str) -> list[dict]:
    """The figures among what a script printed (a line cut short by an interrupt left out)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{") and line.endswith("}")]


def stop(child: subprocess.Popen, name: str) -> None:
    """Ctrl-C for the script: SIGINT, STOP_WAIT_S seconds to remove its folder and database, then SIGTERM,
    then SIGKILL (another Ctrl-C meanwhile is ignored: it would cut that cleaning short)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(f"\ninterrupted: stopping {name} (up to {STOP_WAIT_S} s while it removes its folder and database)…",
          file=sys.stderr, flush=True)
    for signum, wait in ((signal.SIGINT, STOP_WAIT_S), (signal.SIGTERM, 5)):
        if child.poll() is not None:
            return
        child.send_signal(signum)
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            pass
    child.kill()
    child.wait()


def target_text(f: dict) -> str:
    at = f" at {f['target_at'] / 1e6:g}M" if f.get("target_at") else ""     # judged at a size the run extrapolates to
    parts = [f"≥{f['target']:g}" if f.get("target") is not None else "",
             f"≤{f['target_s']:g}s{at}" if f.get("target_s") is not None else "",
             f"<{f['target_mb']:g}MB" if f.get("target_mb") is not None else ""]
    return " ".join(p for p in parts if p) or "—"


def verdict(f: dict) -> str:
    checks = []
    if f.get("target") is not None:
        checks.append(f.get("ratio") is not None and f["ratio"] >= f["target"])
    if f.get("target_s") is not None:     # audit verify: at this run's rate, the time for target_at events
        checks.append(f.get("projected_s", f["ours_s"]) <= f["target_s"])
    if f.get("target_mb") is not None:
        checks.append(f.get("peak_mb") is not None and f["peak_mb"] < f["target_mb"])
    return "—" if not checks else "met" if all(checks) else "MISSED"


def cells(f: dict) -> tuple[str, ...]:
    def num(v, fmt):
        return "—" if v is None else format(v, fmt)
    return (f["figure"], f["backend"], f"{f['n']:,}", num(f["ours_s"], ".4g"), num(f.get("raw_s"), ".4g"),
            num(f.get("ratio"), ".3g"), target_text(f), verdict(f), num(f.get("peak_mb"), ".0f"))


def table(figures: list[dict]) -> str:
    rows = [COLUMNS] + [cells(f) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [" | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


def save_problem(path: Path) -> str | None:
    """Why `path` cannot be written (checked before a run that may take an hour), else None."""
    existed = path.exists()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    if not existed:
        path.unlink()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="CI-sized (a few minutes) instead of 1,000,000.")
    size.add_argument("--n", type=at_least(1), help="Every script at this one size instead (at least 6,000 with "
                      "step_cost, 2,900 with pg_scale, 2,000 with web_latency).")
    parser.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="Only these scripts.")
    parser.add_argument("--save", type=Path, help="Also write every figure to this file (JSON).")
    parser.add_argument("--show", type=Path, nargs="+", metavar="FILE",
                        help="Run nothing: print one table of the figures these --save files hold.")
    args = parser.parse_args()
    if args.show:
        try:
            print(table([f for file in args.show for f in json.loads(file.read_text(encoding="utf-8"))]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            parser.error(f"--show: {exc.__class__.__name__}: a file written by --save is needed ({exc})")
        return 0
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("JINGZHUN_TEST_PG_URL") else [])
    runs = [(name, backend) for name in args.only or SCRIPTS for backend in backends if backend in SCRIPTS[name][2]]
    if not runs:
        parser.error(f"--only {' '.join(args.only)}: it runs on PostgreSQL only, and JINGZHUN_TEST_PG_URL is not set")
    if "postgresql" not in backends:
        print("PostgreSQL rows left out: JINGZHUN_TEST_PG_URL is not set (the URL of a server the scripts may make "
              f"their databases on){'; pg_scale, PostgreSQL only, is not run' if 'pg_scale' in (args.only or SCRIPTS) else ''}",
              file=sys.stderr)
    small = {name: MINIMUM[name] for name, _ in runs if args.n and args.n < MINIMUM[name]}
    if small:
        parser.error(f"--n {args.n:,} is too small for " + ", ".join(f"{k} (at least {v:,})" for k, v in small.items())
                     + f": the smallest --n for these scripts is {max(MINIMUM[name] for name, _ in runs):,}")
    if args.save and (problem := save_problem(args.save)):
        parser.error(f"--save {args.save}: cannot be written ({problem})")
    stop_on_signals()
    figures, crashed, interrupted = [], [], False
    try:
        for name, backend in runs:
            quick, full, _runs_on = SCRIPTS[name]
            began = time.perf_counter()
            print(f"{name} on {backend}…", end=" ", file=sys.stderr, flush=True)
            argv = SIZED[name](args.n) if args.n else quick if args.quick else full
            found, problem = run_script(name, argv, backend)
            print(f"{time.perf_counter() - began:.0f} s{', CRASHED' if problem else ''}", file=sys.stderr, flush=True)
            figures += found
            if problem:
                crashed.append(f"{name} ({backend}) {problem}")
    except KeyboardInterrupt as stopped:
        figures += getattr(stopped, "found", [])
        interrupted = True
    print(table(figures))
    if args.save:
        try:
            args.save.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            crashed.append(f"--save {args.save}: {exc.strerror or exc}")
    for problem in crashed:
        print(f"\ncrashed: {problem}", file=sys.stderr)
    if interrupted:
        print(f"\ninterrupted: the table holds the {len(figures)} figures measured before"
              f"{' (saved)' if args.save else ''}", file=sys.stderr)
        return 130
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
