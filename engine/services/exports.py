"""A jurisdiction's table taken out of the system (`export`, the web's downloads), recorded.

Who took which table (members hold ID numbers, phones and bank accounts) of which regions, in which
format, is an organisation event, recorded when the rows leave. A download the web streams leaves as
it is read: it is recorded and committed before the first row is read (`export_table`); one cut
short has still been asked for and answered. A file written here (the CLI's `export`, on this machine
or for a `--server` client, whose file then leaves in the answer) leaves once it is whole: it is
recorded then, before the file takes its name (`table_to_file`); one the disk refused, or cut short by
Ctrl-C, was never there to leave and is not recorded. The inspectors read these events in the activity
log (engine.reads.oversight.activity)."""
from __future__ import annotations

from typing import Callable, Iterator

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.regions import common_ancestor, covers, highest
from engine.reads import exports
from engine.reads.dashboard import OverdueFilter


def export_table(app: App, actor: Actor, table: str, region: str | None, fmt: str, status: str = "all",
                 overdue: OverdueFilter | None = None, evidence_type: str | None = None,
                 replaced: bool = False, person: str | None = None) -> tuple[tuple[str, ...], Iterator[tuple]]:
    """The columns of `table` and its rows in the reader's jurisdiction (or `region` within it),
    streamed, the deadlines of `status` only (or those the overdue page lists with the filter
    `overdue`), the evidence items in force (`replaced`: every one) of `evidence_type` only; the
    export recorded first, as the web's streamed downloads are (the status, the filter, the type and
    the replaced items with it; an overdue list narrowed to a township recorded as that township's; one
    person's steps or responsibilities with the person's code).
    The table, region, status, filter, type and jurisdiction are checked (and refused) before anything
    is recorded."""
    columns, rows, record = table_to_file(app, actor, table, region, fmt, status, overdue, evidence_type, replaced,
                                          person)
    record()
    return columns, rows


def table_to_file(app: App, actor: Actor, table: str, region: str | None, fmt: str, status: str = "all",
                  overdue: OverdueFilter | None = None, evidence_type: str | None = None,
                  replaced: bool = False,
                  person: str | None = None) -> tuple[tuple[str, ...], Iterator[tuple], Callable[[], None]]:
    """`export_table`'s columns and rows, checked as it checks them, not yet recorded: with the
    recording, for the writer of a file to call once the file is whole, before it takes its name."""
    columns, rows = exports.export_table(app, actor, table, region, status, overdue, evidence_type, replaced, person)
    status = "overdue" if overdue is not None else status
    narrowed = {k: v for k, v in vars(overdue).items() if v is not None} if overdue is not None else {}
    # what left the system: the region asked for, else the township the overdue list was narrowed to
    # (within the jurisdiction: checked above), else the reader's whole jurisdiction
    township = narrowed.get("township")
    scope = [region] if region else [township] if township else highest(a.region_code for a in actor.assignments)

    def record() -> None:
        if scope:
            _recorded(app, actor, common_ancestor(scope), scope[0], table=table, format=fmt,
                      regions=scope, **({} if status == "all" else {"status": status}),
                      **({"filter": narrowed} if narrowed else {}),
                      **({"type": evidence_type} if evidence_type else {}),
                      **({"mode": "with_replaced"} if replaced else {}),
                      **({"person": person} if person else {}))
    return columns, rows, record


def record_report(app: App, actor: Actor, region: str, period: int, fmt: str) -> None:
    """An assessment's files taken out of the system (`report --csv/--xlsx/--html`, the assessment's
    downloads): its overdue work by person names the region's cadres. Recorded, as a table's export
    is, as the table `assessment` of `region` for the year `period`: by the CLI once its files are all
    whole, before they take their names; by the web before a download is sent."""
    _recorded(app, actor, region, region, table="assessment", format=fmt, regions=[region], period=str(period))


def record_funds(app: App, actor: Actor, region: str, as_of: str, fmt: str) -> None:
    """The fund figures of a region's projects taken out (the fund page's downloads): recorded, as a
    table's export is, as the table `funds` of `region` as of the day `as_of`, before it is sent."""
    _recorded(app, actor, region, region, table="funds", format=fmt, regions=[region], as_of=as_of)


def record_handbooks(app: App, actor: Actor, village: str, fmt: str) -> None:
    """A village's handbooks taken out of the system (`household handbook --village`, the village's page to
    print): every registered household's members, health and measures. Recorded as the table `handbooks`
    of the village, as a table's export is (the CLI once the file is whole, the web before it is sent)."""
    _recorded(app, actor, village, village, table="handbooks", format=fmt, regions=[village])


def record_sample_sheet(app: App, actor: Actor, region: str, draw_id: int, fmt: str) -> None:
    """A sample check's sheet for the visits taken out (`sample sheet`, its page to print): the drawn
    households' heads, villages, incomes and pairing cadres. Recorded as the table `sample_sheet` of the
    draw's region, as a table's export is (the CLI once the file is whole, the web before it is sent)."""
    _recorded(app, actor, region, region, table="sample_sheet", format=fmt, regions=[region], draw=str(draw_id))


def record_visits(app: App, actor: Actor, region: str, fmt: str, overdue: bool = False) -> None:
    """Who has not visited taken out (/supervise/visits' downloads): each pairing cadre's households and their
    last visits. Recorded as the table `visits` of the region (`status` overdue when narrowed to those), as a
    table's export is, before it is sent."""
    _recorded(app, actor, region, region, table="visits", format=fmt, regions=[region],
              **({"status": "overdue"} if overdue else {}))


def _recorded(app: App, actor: Actor, where: str, region: str, **detail) -> None:
    """What left the system, an `exported` event filed at `where`, in the reader's post over `region`."""
    used = next((a for a in actor.assignments if covers(a.region_code, region)), None)
    with app.unit_of_work() as uow:
        uow.append_org_event(actor, "exported", used.role if used else None, where, **detail)
