"""Import and export of a registry against the raw driver in the same run (issue 12's benchmark).

Writes a county's registry of N households (3 members each, valid ID numbers, villages of 1,000
households, the national system's Chinese headers with its village column 村编码) as a CSV file and
as an XLSX workbook (openpyxl, write-only), then, each on a fresh data home (SQLite, or with --pg a
new PostgreSQL database on the server of JINGZHUN_TEST_PG_URL):
  - `jingzhun household import FILE` by the county office director, in a child process (its wall
    time and peak resident memory: the target is under 300 MB at 1,000,000 households), against a
    raw `executemany` of the same member rows read from the same file with the fastest reader (csv;
    for XLSX python-calamine, where the CLI streams every .xlsx with entrypoints/cli/workbook.py) into a table of the same shape
    on the same database (target ratio raw/ours ≥ 0.4);
  - the database's floor for the CSV import: the rows our import wrote (cases, members, first
    events), read back and written with the bare driver's executemany (COPY on PostgreSQL, as the
    import does) into a fresh data home of the same schema — what the engine's rows cost the
    database alone, before any reading, checking or hashing; raw/floor is the best ratio any
    import writing these rows could reach;
  - the CSV import from a cadre's machine, `jingzhun --server URL household import FILE` against
    `jingzhun serve` on another fresh home (the file streamed up): its wall time, and the peak
    memory of the client and of the server;
  - `jingzhun export members --csv` of the CSV import's households (the whole county), in a child
    process, against a raw SELECT of the same rows (the same join and order) written with csv;
  - the CSV uploaded again with one household added at its end (a village's list kept and re-sent):
    every registered household compared with its case and passed over, the new one imported.

    python bench/import_export.py [--households 10000] [--formats csv xlsx] [--pg] [--json]
"""
from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import (COUNTY, Raw, at_least, backend_of, county_regions, figure, make_home,  # noqa: E402
                           pg_database, print_json, run_cli, run_database, run_main, village)
from bench.step_cost import distinct_id  # noqa: E402

HEADERS = ("村编码", "户编号", "姓名", "身份证号", "与户主关系", "健康状况", "致贫原因")
PER_VILLAGE = 1000
SHEET_ROWS = 999_999          # whole households (3 rows each) a sheet, within Excel's 1,048,576
IMPORT_TARGET, PEAK_TARGET_MB = 0.4, 300
RAW_TABLE = ("CREATE TABLE bench_raw_members (id {key}, region_code TEXT, household TEXT, name TEXT, "
             "id_number TEXT UNIQUE, relation TEXT, health TEXT)")
RAW_INSERT = ("INSERT INTO bench_raw_members (region_code, household, name, id_number, relation, health) "
              "VALUES (?, ?, ?, ?, ?, ?)")


def members_query(pg: bool) -> str:
    """The rows `export members` writes, read by the bare driver: each member with its household's
    village, code, stage, causes and type, a household's rows together."""
    causes, kind = (("c.attrs -> 'causes'", "c.attrs ->> 'household_type'") if pg else
                    ("json_extract(c.attrs, '$.causes')", "json_extract(c.attrs, '$.household_type')"))
    return ("SELECT m.case_id, c.region_code, c.external_code, c.stage, m.name, m.id_number, m.relation, m.labour_ability, "
            f"m.health, m.school_enrolment, m.insured_basic, m.insured_critical, m.phone, m.bank_account, {causes}, "
            f"{kind}, m.active FROM household_members m JOIN cases c ON c.id = m.case_id ORDER BY m.case_id, m.id")


def rows(households: int, per_village: int) -> Iterator[tuple]:
    """Each member's row: village, household code, name, ID number, relation, health, cause."""
    for h in range(households):
        for m, relation in enumerate(("户主", "配偶", "子女")):
            yield (village(h // per_village), f"H{h:08d}", f"成员{h}-{m}", distinct_id(3 * h + m), relation, "健康",
                   "因病" if m == 0 else "")


def write_csv(path: Path, households: int, per_village: int = PER_VILLAGE) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows(households, per_village))
    return path


def write_xlsx(path: Path, households: int, per_village: int = PER_VILLAGE) -> Path:
    """The registry as a workbook, a new sheet (with its header) every SHEET_ROWS members: Excel's
    limit is 1,048,576 rows a sheet."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    for i, row in enumerate(rows(households, per_village)):
        if i % SHEET_ROWS == 0:
            sheet = book.create_sheet(f"名单{i // SHEET_ROWS + 1}")
            sheet.append(HEADERS)
        sheet.append(row)
    book.save(path)
    return path


def read_file(path: Path) -> Iterator[tuple]:
    """The file's rows after the header, with the reader the CLI uses for its format."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as fh:
            found = csv.reader(fh)
            next(found)
            yield from found
        return
    yield from _xlsx_rows(path)


def _xlsx_rows(path: Path) -> Iterator[tuple]:
    """The fastest reader there is (python-calamine, a sheet at a time, whatever the workbook's size;
    the CLI streams a large workbook with entrypoints/cli/workbook.py instead, to keep its memory flat)."""
    import python_calamine
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        for name in book.sheet_names:
            yield from (row for row in book.get_sheet_by_name(name).iter_rows() if row[0] != HEADERS[0])
    finally:
        book.close()


def time_raw_import(db_url: str, path: Path) -> tuple[float, float]:
    """Seconds and CPU seconds (this process's) of the raw import."""
    raw = Raw(db_url)
    raw.run(RAW_TABLE.format(key="bigserial PRIMARY KEY" if raw.pg else "INTEGER PRIMARY KEY"))
    started, cpu = time.perf_counter(), time.process_time()
    raw.run("BEGIN")
    raw.many(RAW_INSERT, (tuple(r[:6]) for r in read_file(path)))
    raw.run("COMMIT")
    took = time.perf_counter() - started, time.process_time() - cpu
    raw.close()
    return took


FLOOR_TABLES = (("cases", " ORDER BY id"), ("household_members", " ORDER BY id"),
                ("audit_events", " WHERE case_id IS NOT NULL ORDER BY seq"))


def time_floor(source_url: str, target_url: str) -> float:
    """Seconds to write the rows the import wrote into `target_url`'s empty tables, driver alone."""
    source, target = Raw(source_url), Raw(target_url)
    columns = {name: [c for c in _columns(source, name)] for name, _where in FLOOR_TABLES}
    started = time.perf_counter()
    target.run("BEGIN")
    for name, where in FLOOR_TABLES:
        listed = ", ".join(f"{c}::text" if target.pg else c for c in columns[name])   # COPY parses text
        select = f"SELECT {listed} FROM {name}{where}"
        if target.pg:
            with target.conn.cursor().copy(f"COPY {name} ({', '.join(columns[name])}) FROM STDIN") as copy:
                for row in source.stream(select):
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns[name]))
            target.many(f"INSERT INTO {name} ({', '.join(columns[name])}) VALUES ({marks})", source.stream(select))
    target.run("COMMIT")
    took = time.perf_counter() - started
    source.close()
    target.close()
    return took


def _columns(raw: Raw, table: str) -> list[str]:
    if raw.pg:
        return [r[0] for r in raw.run("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                      "ORDER BY ordinal_position", (table,))]
    return [r[1] for r in raw.run(f"PRAGMA table_info({table})")]


def time_raw_export(db_url: str, out: Path) -> float:
    raw = Raw(db_url)
    started = time.perf_counter()
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(raw.stream(members_query(raw.pg)))
    took = time.perf_counter() - started
    raw.close()
    return took


class Home:
    """A fresh data home of a county of `villages` villages, where the county office director imports
    (SQLite, or a new PostgreSQL database)."""

    def __init__(self, work: Path, name: str, pg: bool, villages: int):
        from engine.services.org import NewPerson
        self.folder, self.db_name = work / name, run_database(f"import_{name}") if pg else None
        self.db_url = pg_database(self.db_name) if pg else None
        try:
            app, tokens = make_home(self.folder, self.db_url, county_regions(villages),
                                    [NewPerson("cd", "扶贫办主任", (("county_office_director", COUNTY),))])
        except BaseException:
            self.drop()
            raise
        self.url, self.token = app.settings.db_url, tokens["cd"]
        app.close()

    def cli(self, *argv: str) -> tuple[float, float, float]:
        return run_cli(["--home", str(self.folder), "--as", "cd", *argv], self.token, self.db_url,
                       self.folder / "child.json")

    def raw_url(self) -> str:
        """Where the raw baseline writes: the same PostgreSQL database, or a SQLite file beside ours."""
        return self.url if self.db_url else f"sqlite:///{self.folder / 'raw.db'}"

    def drop(self) -> None:
        if self.db_name:
            pg_database(self.db_name, drop=True)


def measure(work: Path, households: int, formats: list[str], pg: bool) -> list[dict]:
    backend, found = backend_of("postgresql" if pg else None), []
    for fmt in formats:
        listing = (write_csv if fmt == "csv" else write_xlsx)(work / f"名单.{fmt}", households)
        home = Home(work, fmt, pg, -(-households // PER_VILLAGE))
        try:
            raw_s, raw_cpu = time_raw_import(home.raw_url(), listing)
            ours_s, peak, cpu = home.cli("household", "import", str(listing))
            found.append(figure(f"import {fmt.upper()}", backend, households, ours_s, raw_s, IMPORT_TARGET, peak,
                                target_mb=PEAK_TARGET_MB, members=households * 3, cpu_s=cpu,
                                raw_cpu_s=round(raw_cpu, 2)))
            if fmt == "csv":
                floor_home = Home(work, "floor", pg, -(-households // PER_VILLAGE))
                try:
                    floor_s = time_floor(home.url, floor_home.url)
                finally:
                    floor_home.drop()
                found.append(figure("its rows, driver alone", backend, households, floor_s, raw_s, None, None,
                                    members=households * 3))
                found.append(time_via_server(work, listing, households, pg, raw_s))
                raw_out = time_raw_export(home.url, work / "raw.csv")
                ours_out, peak, cpu = home.cli("export", "members", "--csv", str(work / "成员.csv"))
                found.append(figure("export members CSV", backend, households, ours_out, raw_out, None, peak,
                                    members=households * 3, cpu_s=cpu))
                found.append(time_again(home, listing, households, raw_s))
        finally:
            home.drop()
    return found


def time_again(home: "Home", listing: Path, households: int, raw_s: float) -> dict:
    """The registry uploaded again with one household added at its end: every registered household
    compared with its case and passed over, the new one imported (a village's list kept and re-sent)."""
    h = 3 * households + 10
    with open(listing, "a", encoding="utf-8", newline="") as out:
        csv.writer(out).writerow((village(0), f"H{h:08d}", "新户主", distinct_id(h), "户主", "健康", "因病"))
    ours_s, peak, cpu = home.cli("household", "import", str(listing))
    return figure("import CSV again, 1 added", backend_of(home.db_url), households, ours_s, raw_s, None, peak,
                  members=households * 3, cpu_s=cpu)


def time_via_server(work: Path, listing: Path, households: int, pg: bool, raw_s: float) -> dict:
    """The same import from a cadre's machine: `jingzhun --server URL household import FILE` against
    `jingzhun serve` on a fresh home (the file streamed up); the client's and the server's peak memory."""
    from engine.adapters.db import Settings
    from bench.step_cost import served_process
    home = Home(work, "served", pg, -(-households // PER_VILLAGE))
    try:
        with served_process(Settings.from_env(str(home.folder), home.db_url)) as (base, server):
            ours_s, client_mb, cpu = run_cli(["--server", base, "--as", "cd", "household", "import", str(listing)],
                                             home.token, None, home.folder / "child.json")
            server_mb = vm_hwm_mb(server.pid)
    finally:
        home.drop()
    return figure("import CSV via server", backend_of("postgresql" if pg else None), households, ours_s, raw_s,
                  IMPORT_TARGET, max(client_mb, server_mb), target_mb=PEAK_TARGET_MB, members=households * 3,
                  client_mb=client_mb, server_mb=round(server_mb, 1), client_cpu_s=cpu)


def vm_hwm_mb(pid: int) -> float:
    """A live process's peak resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def print_human(found: list[dict]) -> None:
    print(f"{found[0]['n']:,} households, {found[0]['members']:,} members ({found[0]['backend']}, "
          f"peak RSS of each command in its own process)")
    print(f"{'':24}{'ours s':>9}{'raw s':>9}{'members/s':>12}{'raw/ours':>10}{'peak MB':>9}{'CPU s':>7}")
    for f in found:
        print(f"{f['figure']:24}{f['ours_s']:9.2f}{f['raw_s']:9.2f}{f['members'] / f['ours_s']:12,.0f}"
              f"{f['ratio']:10.2f}{f['peak_mb']:9.0f}{f.get('cpu_s', 0):7.1f}")
    print(f"targets: import raw/ours ≥ {IMPORT_TARGET}, peak under {PEAK_TARGET_MB} MB at 1,000,000 households")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=at_least(1), default=10_000)
    parser.add_argument("--formats", nargs="+", choices=("csv", "xlsx"), default=["csv", "xlsx"])
    parser.add_argument("--pg", action="store_true", help="On PostgreSQL (JINGZHUN_TEST_PG_URL).")
    parser.add_argument("--json", action="store_true", help="One JSON object per figure.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jz-bench-import-"))
    try:
        found = measure(work, args.households, args.formats, args.pg)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_json(found) if args.json else print_human(found)


if __name__ == "__main__":
    run_main(main)
