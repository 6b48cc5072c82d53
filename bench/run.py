"""The benchmark suite (issue 12): every bench script, each figure beside its raw baseline, in one table.

Runs each script with --json as a subprocess, on SQLite and, when JINGZHUN_TEST_PG_URL names a
PostgreSQL server, on PostgreSQL too (a new database per script), and prints one table: figure,
backend, n, ours s, raw s, ratio (raw/ours), target, met/missed, peak MB.

    python bench/run.py            # full: 1,000,000 households / events / deadlines (hours)
    python bench/run.py --quick    # CI-sized: a few minutes on 2 cores
    python bench/run.py --only import_export sweep --save figures.json
    python bench/run.py --n 100000 # every script at one size (households / cases / deadlines / events)
    python bench/run.py --show a.json b.json   # one table of figures saved by earlier runs (--save)

Exit 0 when every script ran (a missed target is reported, not an error); 1 when a script crashed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MILLION = "1000000"

# name: (quick arguments, full arguments, backends it runs on)
SCRIPTS = {
    "import_export": (["--households", "2000"], ["--households", MILLION], ("sqlite", "postgresql")),
    "step_cost": (["--sizes", "10000", "--steps", "200", "--list", "200", "--rounds", "1", "--cli-runs", "2"],
                  ["--sizes", "100000", MILLION], ("sqlite", "postgresql")),
    "sweep": (["--sizes", "20000", "--due", "2000"], ["--sizes", MILLION], ("sqlite", "postgresql")),
    "audit_verify": (["--events", "50000"], ["--events", MILLION], ("sqlite", "postgresql")),
    "pg_scale": (["--households", "4000", "--steps", "60"], ["--households", MILLION], ("postgresql",)),
}
# name: its arguments for one size n
SIZED = {
    "import_export": lambda n: ["--households", str(n)],
    "step_cost": lambda n: ["--sizes", str(n)],
    "sweep": lambda n: ["--sizes", str(n), "--due", str(min(10_000, n // 10))],
    "audit_verify": lambda n: ["--events", str(n)],
    "pg_scale": lambda n: ["--households", str(n), "--steps", str(min(300, n // 200))],
}
COLUMNS = ("figure", "backend", "n", "ours s", "raw s", "ratio", "target", "met/missed", "peak MB")


def run_script(name: str, argv: list[str], backend: str) -> tuple[list[dict], str | None]:
    """The figures a script printed, and what went wrong when it crashed (else None)."""
    command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--json", *argv]
    command += ["--pg"] if backend == "postgresql" else []
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode:
        return found, f"exit {done.returncode}: {done.stderr.strip()[-1500:] or done.stdout.strip()[-1500:]}"
    return found, None if found else "printed no figure"


def target_text(f: dict) -> str:
    parts = [f"≥{f['target']:g}" if f.get("target") is not None else "",
             f"≤{f['target_s']:g}s" if f.get("target_s") is not None else "",
             f"<{f['target_mb']:g}MB" if f.get("target_mb") is not None else ""]
    return " ".join(p for p in parts if p) or "—"


def verdict(f: dict) -> str:
    checks = []
    if f.get("target") is not None:
        checks.append(f.get("ratio") is not None and f["ratio"] >= f["target"])
    if f.get("target_s") is not None:
        checks.append(f["ours_s"] <= f["target_s"])
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized (a few minutes) instead of 1,000,000.")
    parser.add_argument("--n", type=int, help="Every script at this one size instead.")
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
    figures, crashed = [], []
    for name in args.only or SCRIPTS:
        quick, full, runs_on = SCRIPTS[name]
        for backend in [b for b in backends if b in runs_on]:
            began = time.perf_counter()
            print(f"{name} on {backend}…", end=" ", file=sys.stderr, flush=True)
            argv = SIZED[name](args.n) if args.n else quick if args.quick else full
            found, problem = run_script(name, argv, backend)
            print(f"{time.perf_counter() - began:.0f} s{', CRASHED' if problem else ''}", file=sys.stderr, flush=True)
            figures += found
            if problem:
                crashed.append(f"{name} ({backend}) {problem}")
    print(table(figures))
    if args.save:
        args.save.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for problem in crashed:
        print(f"\ncrashed: {problem}", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
