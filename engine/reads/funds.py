"""Fund figures of projects (DOMAIN.md §4 "Fund project", §8; domain-research.md §7.3).

Per project, and rolled up per township and per county, as of a date:

- budget: the planned funds in force (a plan change replaces them from its date);
- allocated (下达): funds allocated to the project;
- disbursed (支出): money actually paid to a contractor or a beneficiary. Transfers to departments or
  townships (`other`) do not count as spent, and quality-retention money (质保金, `retention`) is
  unspent until it is released to the contractor [LOCAL, Chongqing 2019];
- disbursement rate = disbursed ÷ allocated;
- settled (决算): the final cost the project's final accounts settled, once that step is dated on or
  before the date; from then on the project will spend no more than it, so
- to recover (结余待收回) = allocated − settled, what a settled project will never spend (to be recovered
  and re-integrated by the county), and
- carry-over (结转结余, still to be spent) = allocated − disbursed − to recover (retention and transfers
  included in it); before the final accounts, all of allocated − disbursed;
- behind: milestones due before the date and not done by it;
- stage: the stage the project was in on the date (the last procedure done by then: its last step's date);
- entered later (`disbursed_late`, 事后补录): of what was disbursed by the date, the payments recorded in the
  system after that day ended (office time). What the figures said on that day, as they were recorded then,
  is disbursed − disbursed_late: a report of a past date reads today's record, which counts a payment by the
  day it was paid, however late it was typed in.

Amounts are Decimal end to end (SQLAlchemy's Numeric(14, 2)); rates are quantized to 0.0001. Every
figure comes from set-based SQL: one GROUP BY per table for all projects, then one GROUP BY per
level over that, never a query per project.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from sqlalchemy import Numeric, and_, case, cast, func, literal, or_, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import BadInput
from engine.services.org import require_reader
from engine.domain.regions import check_code, highest, level_of, prefix
from engine.reads.case_lists import region_range

SPENT_KINDS = ("contractor", "beneficiary")     # only these count as spent
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
AMOUNTS = ("budget", "allocated", "disbursed", "retention", "other", "carry_over", "to_recover")
REPORTED = AMOUNTS + ("disbursed_late",)        # the report's: with what was recorded after its date


def money(value: Any) -> Decimal:
    """An amount as an exact Decimal with two places (None: zero)."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):           # never expected: amounts come back as Decimal
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def rate(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(RATE, rounding=ROUND_HALF_UP) if whole else None


# --- the building blocks: one aggregate per table, for every project at once ---------------------

def _funds(as_of: date | None):
    """case_id, budget, allocated: the rows in force on `as_of` (None: in force now)."""
    f = t.project_funds
    if as_of is None:
        in_force = f.c.superseded_on.is_(None)
    else:
        in_force = and_(f.c.on_date <= as_of, or_(f.c.superseded_on.is_(None), f.c.superseded_on > as_of))
    return (select(f.c.case_id,
                   func.sum(case((f.c.kind == "budget", f.c.amount), else_=literal(0, f.c.amount.type))).label("budget"),
                   func.sum(case((f.c.kind == "allocated", f.c.amount), else_=literal(0, f.c.amount.type)))
                   .label("allocated"))
            .where(in_force).group_by(f.c.case_id).subquery("funds"))


def _paid(as_of: date | None, recorded_by: datetime | None = None):
    """case_id, disbursed (contractor + beneficiary), retention held, other transfers, committed (all),
    and disbursed_late: what of the disbursed was recorded at or after `recorded_by` (None: nothing)."""
    d = t.disbursements
    zero = literal(0, d.c.amount.type)
    spent = d.c.payee_kind.in_(SPENT_KINDS)
    late = zero if recorded_by is None else case((and_(spent, d.c.recorded_at >= recorded_by), d.c.amount), else_=zero)
    q = select(d.c.case_id,
               func.sum(case((spent, d.c.amount), else_=zero)).label("disbursed"),
               func.sum(late).label("disbursed_late"),
               func.sum(case((d.c.payee_kind == "retention", d.c.amount), else_=zero)).label("retention"),
               func.sum(case((d.c.payee_kind == "other", d.c.amount), else_=zero)).label("other"),
               func.sum(d.c.amount).label("committed")).group_by(d.c.case_id)
    if as_of is not None:
        q = q.where(d.c.paid_on <= as_of)
    return q.subquery("paid")


def _milestones(as_of: date):
    """case_id, milestones, done by `as_of`, behind (due before `as_of` and not done by it)."""
    m = t.project_milestones
    done = and_(m.c.done_on.is_not(None), m.c.done_on <= as_of)
    return (select(m.c.case_id, func.count().label("milestones"),
                   func.sum(case((done, 1), else_=0)).label("done"),
                   func.sum(case((and_(m.c.due_date < as_of, ~done), 1), else_=0)).label("behind"))
            .group_by(m.c.case_id).subquery("ms"))


def _stage_on(as_of: date):
    """The stage each project was in on `as_of`: the one the last procedure completed by then (its last
    step's date, as the step says it, not when it was typed in) moved it to, else the one its first
    procedure started from, else its own. A project's procedures and their steps, read by their indexes."""
    c, s = t.cases, t.steps
    moved, first = t.procedures.alias("moved"), t.procedures.alias("first_started")
    done_on = (select(func.max(s.c.effective_date)).where(s.c.procedure_id == moved.c.id, s.c.voided_at.is_(None))
               .scalar_subquery())
    then = (select(moved.c.to_stage).where(moved.c.case_id == c.c.id, moved.c.status == "completed",
                                           moved.c.to_stage.is_not(None), done_on <= as_of)
            .order_by(done_on.desc(), moved.c.id.desc()).limit(1).scalar_subquery())
    started = select(first.c.from_stage).where(first.c.case_id == c.c.id).order_by(first.c.id).limit(1).scalar_subquery()
    return func.coalesce(then, started, c.c.stage)


def _settled(as_of: date):
    """A project's settled final cost (决算) as of `as_of`: its newest final accounts dated by then, read by
    the steps' case index; NULL before them."""
    s, c = t.steps, t.cases
    return (select(cast(s.c.data["final_cost"].as_string(), Numeric(14, 2)))
            .where(s.c.case_id == c.c.id, s.c.step_key == "final_accounts", s.c.voided_at.is_(None),
                   s.c.effective_date <= as_of)
            .order_by(s.c.id.desc()).limit(1).scalar_subquery())


def _projects(as_of: date, region: str | None = None, case_ids: Iterable[int] | None = None,
              recorded_by: datetime | None = None):
    """One row per project: its figures as of `as_of` (a select, used as is or rolled up); with
    `recorded_by`, what of its disbursed was recorded from then on (disbursed_late)."""
    c = t.cases
    funds, paid, ms = _funds(as_of), _paid(as_of, recorded_by), _milestones(as_of)
    allocated = func.coalesce(funds.c.allocated, 0)
    disbursed = func.coalesce(paid.c.disbursed, 0)
    settled = _settled(as_of)
    zero = literal(0, t.project_funds.c.amount.type)
    # what a settled project will never spend: its allocation above its settled cost
    to_recover = case((and_(settled.is_not(None), allocated > settled), allocated - settled), else_=zero)
    q = (select(c.c.id, c.c.title, c.c.region_code, _stage_on(as_of).label("stage"), c.c.attrs,
                func.substr(c.c.region_code, 1, 9).label("township"),
                func.substr(c.c.region_code, 1, 6).label("county"),
                c.c.attrs["category"].as_string().label("category"),
                func.coalesce(funds.c.budget, 0).label("budget"), allocated.label("allocated"),
                disbursed.label("disbursed"), func.coalesce(paid.c.retention, 0).label("retention"),
                func.coalesce(paid.c.other, 0).label("other"), (allocated - disbursed - to_recover).label("carry_over"),
                to_recover.label("to_recover"), settled.label("settled"),
                func.coalesce(paid.c.disbursed_late, 0).label("disbursed_late"),
                func.coalesce(ms.c.milestones, 0).label("milestones"), func.coalesce(ms.c.done, 0).label("done"),
                func.coalesce(ms.c.behind, 0).label("behind"))
         .select_from(c.outerjoin(funds, funds.c.case_id == c.c.id).outerjoin(paid, paid.c.case_id == c.c.id)
                      .outerjoin(ms, ms.c.case_id == c.c.id))
         .where(c.c.kind == "project",
                # a project registered (proposed) after the date is not in the figures of that date
                c.c.attrs["proposed_on"].as_string() <= as_of.isoformat()))
    if region is not None and prefix(region):
        q = q.where(region_range(region, c.c.region_code))
    if case_ids is not None:
        q = q.where(c.c.id.in_(list(case_ids)))
    return q


def _amounts(row, keys: tuple[str, ...] = AMOUNTS) -> dict[str, Any]:
    values = {k: money(getattr(row, k)) for k in keys}
    values["rate"] = rate(values["disbursed"], values["allocated"])
    return values


def day_ended(app: App, day: date) -> datetime:
    """The instant `day` ended on the office's clock (its next midnight there), in UTC: a time recorded
    before it was recorded on or before that day."""
    from engine.domain.calendar import office_time
    from engine.domain.deadline_rules import office_zone
    return office_time(day + timedelta(days=1), time(0), office_zone(app.config))


def project_figures(conn: Connection, case_ids: Iterable[int], as_of: date) -> dict[int, dict[str, Any]]:
    """case id -> its figures as of `as_of` (one statement for all of them)."""
    return {r.id: {**_amounts(r), "settled": None if r.settled is None else money(r.settled), "milestones": int(r.milestones), "milestones_done": int(r.done),
                   "milestones_behind": int(r.behind)}
            for r in conn.execute(_projects(as_of, case_ids=list(case_ids)))}


def totals_now(conn: Connection, case_id: int) -> dict[str, Decimal]:
    """A project's money in force now, whatever the dates: allocated, budget, and what was paid by kind."""
    funds, paid = _funds(None), _paid(None)
    row = conn.execute(select(
        func.coalesce(funds.c.budget, 0).label("budget"), func.coalesce(funds.c.allocated, 0).label("allocated"),
        func.coalesce(paid.c.disbursed, 0).label("disbursed"), func.coalesce(paid.c.retention, 0).label("retention"),
        func.coalesce(paid.c.other, 0).label("other"), func.coalesce(paid.c.committed, 0).label("committed"))
        .select_from(t.cases.outerjoin(funds, funds.c.case_id == t.cases.c.id)
                     .outerjoin(paid, paid.c.case_id == t.cases.c.id))
        .where(t.cases.c.id == case_id)).one()
    result = {k: money(getattr(row, k)) for k in ("budget", "allocated", "disbursed", "retention", "other", "committed")}
    result["carry_over"] = result["allocated"] - result["disbursed"]
    result["available"] = result["allocated"] - result["committed"]
    return result


# --- the report ---------------------------------------------------------------------------------

def _rollup(conn: Connection, projects, level: str, keys: tuple[str, ...] = AMOUNTS) -> list[dict[str, Any]]:
    p = projects.subquery("p")
    key = {"township": p.c.township, "county": p.c.county, "category": p.c.category}[level]
    rows = conn.execute(
        select(key.label("code"), func.count().label("projects"),
               *(func.sum(getattr(p.c, k)).label(k) for k in keys),
               func.sum(case((p.c.behind > 0, 1), else_=0)).label("projects_behind"),
               func.sum(p.c.behind).label("milestones_behind"))
        .group_by(key).order_by(key)).all()
    width = {"township": 9, "county": 6}.get(level)
    return [{"code": str(r.code)[:width].ljust(12, "0") if width else r.code, "level": level, "projects": int(r.projects),
             **_amounts(r, keys), "projects_behind": int(r.projects_behind or 0),
             "milestones_behind": int(r.milestones_behind or 0)} for r in rows]


def _scope(app: App, actor: Actor, region: str | None) -> str:
    if region is not None:
        check_code(region)
        require_reader(app, actor, region)
        return region
    tops = highest(a.region_code for a in actor.assignments)
    if len(tops) != 1:
        raise BadInput("funds.region_needed", regions=", ".join(tops) or "-")
    return tops[0]


def funds_report(app: App, actor: Actor, region: str | None = None, as_of: date | None = None,
                 after: int | None = None, limit: int | None = None) -> dict[str, Any]:
    """Every project under `region` (default: the reader's jurisdiction) with its figures as of
    `as_of` (default today), and the same figures per township and per county; each with what of its
    disbursed was recorded after that day (disbursed_late), and per project category (`categories`, by
    code). `limit`: at most that many projects, those
    numbered above `after` (`next`: the last one's number when more follow, else None); the
    townships, counties and total are of them all."""
    region = _scope(app, actor, region)
    as_of = as_of or app.clock.today()
    projects = _projects(as_of, region, recorded_by=day_ended(app, as_of))
    listed = projects.order_by(t.cases.c.id)
    if after is not None:
        listed = listed.where(t.cases.c.id > after)
    if limit is not None:
        listed = listed.limit(limit + 1)
    with app.engine.connect() as conn:
        rows = conn.execute(listed).all()
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if more else rows
        townships = _rollup(conn, projects, "township", REPORTED)
        counties = _rollup(conn, projects, "county", REPORTED)
        categories = _rollup(conn, projects, "category", REPORTED)
        codes = {region} | {r["code"] for r in townships + counties} | {r.region_code for r in rows}
        names = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(t.regions.c.code.in_(sorted(codes))))
                     .all())
    project_list = [{
        "id": r.id, "title": r.title, "region": r.region_code, "region_name": names.get(r.region_code),
        "township": str(r.township).ljust(12, "0"), "stage": r.stage, "category": r.category,
        "settled": None if r.settled is None else money(r.settled),
        "complete_by": (r.attrs or {}).get("complete_by"), **_amounts(r, REPORTED), "milestones": int(r.milestones),
        "milestones_done": int(r.done), "milestones_behind": int(r.behind)} for r in rows]
    for level in townships + counties:
        level["name"] = names.get(level["code"])
    total = {k: sum((c[k] for c in counties), Decimal("0.00")) for k in REPORTED}
    total["rate"] = rate(total["disbursed"], total["allocated"])
    total["projects"] = sum(c["projects"] for c in counties)
    total["projects_behind"] = sum(c["projects_behind"] for c in counties)
    return {"region": region, "region_name": names.get(region), "level": level_of(region),
            "as_of": as_of.isoformat(), "projects": project_list, "townships": townships, "counties": counties, "categories": categories,
            "total": total, "next": rows[-1].id if more else None}
