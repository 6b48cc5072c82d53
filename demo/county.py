"""`jingzhun demo`: one county (宁都县) through the 2019 campaign year, on the real engine.

Every action goes through the same service functions and rules as the CLI, as the person who
would do it, authenticated with their own token. Refusals come from the engine's rules; the
demo only chooses which households it tries them on and counts what it is told.
"""
from __future__ import annotations

import random
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from rich.console import Console
from sqlalchemy import select

from config import Config
from engine.adapters import tables as t
from engine.adapters.app import App, FixedClock
from engine.adapters.private_files import private_dir
from engine.domain.auth import Actor
from engine.services.case_actions import EvidenceItem, attach_evidence_many, file_objection, resolve_objection
from engine.adapters.db import Settings
from engine.domain.errors import BadInput, JingzhunError, RuleViolation
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, add_regions, authenticate
from engine.domain.cases import StepInput
from engine.services.procedures import perform_step
from entrypoints.bootstrap import init_home
from workflows.household import HouseholdInput, register_households
from .people import each_vote, make_household
from .scans import write_scan
from . import tour
from .overdue import overdue_scene
from .summary import Texts, dossiers, figures, print_head, print_overdue, print_summary, run_phases
from .tour import Leads

MARKER = ".jingzhun-demo"
PROVINCE, CITY, COUNTY = "360000000000", "360700000000", "360730000000"
TOWNSHIPS = [("360730100000", "梅江镇"), ("360730101000", "青塘镇")]
VILLAGE_NAMES = ["洋塘村", "石上村", "大沽村", "竹笮村", "黄陂村", "固村", "会同村", "小布村", "东山坝村", "田埠村"]
FATES = [("not_poor", 0.04), ("objection_upheld", 0.005), ("objection_dismissed", 0.01), ("under_line", 0.10),
         ("dropout", 0.02), ("no_confirmation", 0.02), ("normal", 1.0)]


@dataclass
class Village:
    code: str
    name: str
    township: str
    staff: dict[str, Actor] = field(default_factory=dict)
    cases: list[int] = field(default_factory=list)
    fate: dict[int, str] = field(default_factory=dict)
    incomes: dict[int, tuple[float, float]] = field(default_factory=dict)
    sizes: dict[int, int] = field(default_factory=dict)       # members of each household
    heads: dict[int, str] = field(default_factory=dict)       # each household's head's name (its applicant)
    second_cadres: list[str] = field(default_factory=list)
    first_cadres: list[str] = field(default_factory=list)


class Demo:
    def __init__(self, app: App, clock: FixedClock, rng: random.Random, console: Console, lang: str):
        self.app, self.clock, self.rng, self.console, self.lang = app, clock, rng, console, lang
        self.refusals: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.wrong_exit_problem: int | None = None
        self.wrong_exit_cases: list[int] = []
        self.sample: dict | None = None               # the evaluators' sample check (demo/tour.py)
        self.actors: dict[str, Actor] = {}
        self.tokens: dict[str, str] = {}
        self.villages: list[Village] = []
        self.poor_village: Village | None = None      # demo/tour.py: the poor village, its case, the project
        self.village_case: int | None = None
        self.project: int | None = None
        self.leads = Leads()                          # what the inspector should find
        self.preassessed: set[int] = set()            # households whose 2019 income is already assessed
        self.renovating: set[int] = set()             # households whose plan holds a dangerous-housing renovation
        self.held_back: dict[str, int] = {}           # village -> a household left out of its approval list

    # --- helpers ---
    def on(self, day: date) -> None:
        self.clock.at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)  # 10:00 in China

    def refused(self, exc: JingzhunError) -> None:
        self.refusals[exc.code] += 1
        self.examples.setdefault(exc.code, exc.render(self.app.config, self.lang))

    def try_each(self, action: Callable[[int], object], cases: list[int]) -> list[int]:
        """Run `action` per case; cases the engine refuses are counted and left out."""
        passed = []
        for c in cases:
            try:
                action(c)
                passed.append(c)
            except RuleViolation as exc:
                self.refused(exc)
        return passed

    def batch_step(self, who: Actor, procedure: str, step: str, cases: list[int], **inputs) -> list[int]:
        """One step for a village's list; a case the rules refuse is taken out and the rest retried."""
        cases = list(cases)
        while cases:
            try:
                perform_step(self.app, who, procedure, step, cases, StepInput(**inputs))
                return cases
            except RuleViolation as exc:
                self.refused(exc)
                bad = exc.params.get("case")
                if bad not in cases:
                    raise
                cases.remove(bad)
        return cases

    def minutes(self, v: Village, procedure: str) -> Path:
        """The signed minutes of the village's appraisal meeting of the day, one file for every household
        it decided: a small PDF, as the demo's other scans."""
        day = self.clock.today()
        path = private_dir(self.app.settings.home / "appraisal-minutes") / f"{v.code}-{procedure}-{day}.pdf"
        return path if path.exists() else write_scan(path, "民主评议会议记录", f"{v.name}村民代表会议（{day}）",
                                                     "到会代表签字：（扫描件）")

    # --- the organisation ---
    def build_org(self, admin: Actor, households: int) -> None:
        regions = [(PROVINCE, "江西省"), (CITY, "赣州市"), (COUNTY, "宁都县")]
        villages_per_township = 5
        for ti, (tcode, tname) in enumerate(TOWNSHIPS):
            regions.append((tcode, tname))
            for vi in range(villages_per_township):
                code = tcode[:9] + f"{201 + vi:03d}"
                name = VILLAGE_NAMES[ti * villages_per_township + vi]
                regions.append((code, name))
                self.villages.append(Village(code, name, tcode))
        add_regions(self.app, admin, regions)
        people: list[NewPerson] = [
            NewPerson("county_secretary", "县委书记 刘志强", (("county_secretary", COUNTY),)),
            NewPerson("county_head", "县长 陈建国", (("county_head", COUNTY),)),
            NewPerson("county_director", "扶贫办主任 黄海军", (("county_office_director", COUNTY),)),
            NewPerson("county_staff", "扶贫办干部 周丽娟", (("county_office_staff", COUNTY),)),
            NewPerson("city_staff", "市扶贫办 吴卫东", (("city_office_staff", CITY),)),
            NewPerson("unit_head", "县农业局局长 马永福", (("unit_head", COUNTY),), unit="宁都县农业农村局"),
            NewPerson("inspector", "县纪委监委 郑德胜", (("inspector", COUNTY),)),
            NewPerson("auditor", "县审计局 孙秀英", (("auditor", COUNTY),)),
            NewPerson("evaluator", "第三方评估 林文斌", (("evaluator", COUNTY),)),
            NewPerson("discipline_officer", "县纪委监委案管 蔡文静", (("discipline_officer", COUNTY),)),
        ]
        for ti, (tcode, tname) in enumerate(TOWNSHIPS):
            t_ = f"t{ti + 1}"
            people += [NewPerson(f"{t_}_head", f"{tname}镇长", (("township_head", tcode),)),
                       NewPerson(f"{t_}_secretary", f"{tname}党委书记", (("township_secretary", tcode),)),
                       NewPerson(f"{t_}_leader", f"包{tname}县领导", (("county_leader_for_township", tcode),))]
            people += [NewPerson(f"{t_}_staff{i}", f"{tname}干部{i}", (("township_staff", tcode),)) for i in range(1, 6)]
        per_village = max(1, households // len(self.villages))
        cadres: list[NewPerson] = []
        for vi, v in enumerate(self.villages):
            p = f"v{vi + 1:02d}"
            people += [NewPerson(f"{p}_secretary", f"{v.name}支书", (("village_secretary", v.code),)),
                       NewPerson(f"{p}_director", f"{v.name}主任", (("village_director", v.code),)),
                       NewPerson(f"{p}_first", f"{v.name}第一书记", (("first_secretary", v.code),)),
                       NewPerson(f"{p}_leader", f"{v.name}工作队长", (("resident_team_leader", v.code),)),
                       NewPerson(f"{p}_member", f"{v.name}工作队员", (("resident_team_member", v.code),))]
            # Pairing cadres act through the village; they get a login when they need one.
            v.first_cadres = [f"{p}_pc{i:03d}" for i in range(1, per_village + 1)]
            v.second_cadres = [f"{p}_pc2_{i:02d}" for i in range(1, per_village // 5 + 2)]
            made = [NewPerson(c, f"{v.name}帮扶干部{c[-3:]}", (("pairing_cadre", v.code),), False)
                    for c in v.first_cadres + v.second_cadres]
            if vi == 0:     # the first village's first pairing cadre signs in (its token, the sign-in summary)
                people.append(NewPerson(made[0].code, made[0].name, made[0].roles))
                made = made[1:]
            cadres += made
        self.tokens = activate_all(self.app, add_persons(self.app, admin, people))
        add_persons(self.app, admin, cadres)
        self.actors = {c: authenticate(self.app, c, token) for c, token in self.tokens.items()}
        for vi, v in enumerate(self.villages):
            p = f"v{vi + 1:02d}"
            v.staff = {k: self.actors[f"{p}_{k}"] for k in ("secretary", "director", "first", "leader", "member")}

    def who(self, code: str) -> Actor:
        return self.actors[code]

    def township_of(self, v: Village) -> str:
        return f"t{[c for c, _ in TOWNSHIPS].index(v.township) + 1}"

    # --- the year ---
    def register(self, households: int) -> None:
        self.on(date(2019, 1, 8))
        seen: set[str] = set()
        lines = {y: self.app.config.policy.income_line("36", y)[0] for y in (2018, 2019)}
        per_village = max(1, households // len(self.villages))
        for v in self.villages:
            made = []
            for _ in range(per_village):
                roll = self.rng.random()
                fate = next(f for f, p in FATES if (roll := roll - p) < 0)
                made.append(make_household(self.rng, seen, fate, lines))
            # The village's list is registered at once, as a village imports its survey.
            v.cases = register_households(self.app, v.staff["secretary"], v.code,
                                          [HouseholdInput(h.members, h.causes) for h in made])
            for cid, hh in zip(v.cases, made):
                v.fate[cid] = hh.fate
                v.incomes[cid] = (hh.income_2018, hh.income_2019)
                v.sizes[cid] = len(hh.members)
                v.heads[cid] = next(m.name for m in hh.members if m.relation == "head")

    def identify(self) -> None:
        start = date(2019, 2, 18)
        self.on(start)
        for v in self.villages:
            attach_evidence_many(self.app, v.staff["secretary"], [
                item for c in v.cases for item in (
                    EvidenceItem(c, "application", {"applicant": v.heads[c], "applied_on": "2019-01-08"}),
                    EvidenceItem(c, "income_check", {"year": 2018, "net_income": v.incomes[c][0]}))])
            cases = self.batch_step(v.staff["secretary"], "identification", "application", v.cases)
            # Households over the line are refused by the identification standard at the appraisal.
            suspects = [c for c in cases if v.fate[c] == "not_poor"]
            minutes = self.minutes(v, "identification")        # one meeting decides the village's list
            self.try_each(lambda c: perform_step(self.app, v.staff["director"], "identification", "appraisal", [c],
                                                 StepInput(attendance=41, votes_for=36, votes_against=2,
                                                           minutes=minutes)), suspects)
            # Refused, the village holds the vote on the facts and it fails: the procedure ends rejected.
            if suspects:
                perform_step(self.app, v.staff["director"], "identification", "appraisal", suspects,
                             StepInput(attendance=41, votes=each_vote(suspects, 3, 35, failed=True), minutes=minutes))
            cases = [c for c in cases if c not in suspects]
            cases = self.batch_step(v.staff["director"], "identification", "appraisal", cases,
                                    attendance=41, votes=each_vote(cases, 36, 2), minutes=minutes)
            cases = self.batch_step(v.staff["leader"], "identification", "village_verification", cases,
                                    decision="approve", verifiers=(v.staff["member"].code,))
            cases = self.batch_step(v.staff["first"], "identification", "first_notice", cases)
            cases = self.objections(v, cases, "identification", date(2019, 2, 21), date(2019, 2, 25))
            v.cases = cases
        self.on(date(2019, 2, 26))
        self.advance_notice_steps("identification", "township_review", "second_notice", staff=(1, 2))
        self.on(date(2019, 3, 6))
        for v in self.villages:
            v.cases = self.batch_step(self.who("county_director"), "identification", "county_approval", v.cases,
                                      decision="approve")
            v.cases = self.batch_step(self.who("county_staff"), "identification", "announcement", v.cases)

    def objections(self, v: Village, cases: list[int], procedure: str, day: date, notice_end: date) -> list[int]:
        """Villagers object during the notice; the township upholds or dismisses after checking."""
        keep = list(cases)
        with self.app.engine.connect() as conn:
            notice_of = dict(conn.execute(select(t.notice_cases.c.case_id, t.notice_cases.c.notice_id).where(
                t.notice_cases.c.case_id.in_(cases))).all())
        saved = self.clock.at
        t_ = self.township_of(v)
        for c in cases:
            fate = v.fate[c]
            if fate not in ("objection_upheld", "objection_dismissed") or c not in notice_of:
                continue
            self.on(day)
            oid = file_objection(self.app, v.staff["secretary"], notice_of[c], c, "村民代表 王某",
                                 "该户家中有小轿车一辆、在县城有商品房" if fate == "objection_upheld" else "对收入数字有疑问")
            # When the notice has run, the next step is still refused while the objection is open.
            self.on(notice_end)
            try:
                perform_step(self.app, self.who(f"{t_}_staff1"), procedure, "township_review", [c],
                             StepInput(decision="approve"))
            except RuleViolation as exc:
                self.refused(exc)
            resolve_objection(self.app, self.who(f"{t_}_head"), oid, fate == "objection_upheld",
                              "经乡镇入户核实，情况属实" if fate == "objection_upheld" else "经核实收入数据无误")
            if fate == "objection_upheld":
                keep.remove(c)
                self.refusals["objection.upheld"] += 1
        self.clock.at = saved
        return keep

    def advance_notice_steps(self, procedure: str, review: str, second: str | None, staff: tuple[int, int]) -> None:
        for v in self.villages:
            t_ = self.township_of(v)
            v.cases = self.batch_step(self.who(f"{t_}_staff{staff[0]}"), procedure, review, v.cases, decision="approve")
            if second:
                v.cases = self.batch_step(self.who(f"{t_}_staff{staff[1]}"), procedure, second, v.cases)

    def assist(self) -> None:
        self.on(date(2019, 3, 20))
        categories = [("industry", "发展脐橙种植2亩，提供种苗和技术指导"), ("employment", "推荐到县工业园区务工"),
                      ("education", "落实教育资助"), ("health", "家庭医生签约服务，落实慢病卡"),
                      ("housing", "危房改造补助"), ("social_security", "纳入低保兜底")]
        for v in self.villages:
            t_ = self.township_of(v)
            # The township's pairing plan for the village: one list, each household its own cadres.
            plan = {c: (v.first_cadres[i], v.second_cadres[i // 5]) for i, c in enumerate(v.cases)}
            v.cases = self.batch_step(self.who(f"{t_}_staff3"), "assistance", "pairing", v.cases, pairings=plan)
            by_plan: dict[tuple, list[int]] = defaultdict(list)
            for c in v.cases:
                by_plan[tuple(self.rng.sample(categories, k=self.rng.choice((1, 2, 2, 3))))].append(c)
            for measures, group in by_plan.items():
                self.batch_step(v.staff["first"], "assistance", "plan", group, measures=measures)
                if any(category == "housing" for category, _ in measures):
                    self.renovating.update(group)
        self.on(date(2019, 3, 28))
        for v in self.villages:
            v.cases = self.batch_step(self.who(f"{self.township_of(v)}_head"), "assistance", "plan_approval",
                                      v.cases, decision="approve")

    def exit(self, confirmation: Path) -> None:
        self.on(date(2019, 11, 20))
        for v in self.villages:
            items = []
            suspects = [c for c in v.cases if v.fate[c] in ("under_line", "dropout")]
            for c in v.cases:
                if c not in self.preassessed:
                    items.append(EvidenceItem(c, "income_assessment", {"year": 2019, "net_income": v.incomes[c][1]}))
                # a renovation the plan holds is accepted before the household exits (its deadline closes
                # done); a household not ready to exit has its renovation still under way (overdue by 2020)
                renovated = c in self.renovating and c not in suspects
                items += [EvidenceItem(c, "two_assurances", {"food": True, "clothing": True}),
                          EvidenceItem(c, "housing_safety", {"grade": "C", "renovated_accepted": True}
                                       if renovated else {"grade": self.rng.choice("AAB")}),
                          EvidenceItem(c, "drinking_water", {"safe": True})]
            attach_evidence_many(self.app, v.staff["secretary"], items)
            minutes = self.minutes(v, "exit")
            self.try_each(lambda c: perform_step(self.app, v.staff["director"], "exit", "proposal", [c],
                                                 StepInput(attendance=38, votes_for=33, votes_against=1,
                                                           minutes=minutes)), suspects)
            cases = self.batch_step(v.staff["director"], "exit", "proposal",
                                    [c for c in v.cases if c not in suspects], attendance=38,
                                    votes=each_vote([c for c in v.cases if c not in suspects], 33, 1), minutes=minutes)
            t_ = self.township_of(v)
            cases = self.batch_step(v.staff["leader"], "exit", "verification", cases,
                                    decision="approve", verifiers=(f"{t_}_staff3", f"{t_}_staff4", f"{t_}_staff5"))
            confirmed = [c for c in cases if v.fate[c] != "no_confirmation"]
            attach_evidence_many(self.app, v.staff["first"], [
                EvidenceItem(c, "household_confirmation", {"signed_on": "2019-11-20"}, confirmation)
                for c in confirmed])
            missing = [c for c in cases if c not in confirmed]
            self.try_each(lambda c: perform_step(self.app, v.staff["first"], "exit", "acknowledgement", [c]), missing)
            cases = self.batch_step(v.staff["first"], "exit", "acknowledgement", confirmed)
            cases = self.batch_step(v.staff["secretary"], "exit", "village_notice", cases)
            v.cases = self.objections(v, cases, "exit", date(2019, 11, 23), date(2019, 11, 27))
        self.on(date(2019, 11, 28))
        try:  # a township cadre who verified a household cannot also review it
            perform_step(self.app, self.who("t1_staff4"), "exit", "township_review", self.villages[0].cases[:1],
                         StepInput(decision="approve"))
        except RuleViolation as exc:
            self.refused(exc)
        self.advance_notice_steps("exit", "township_review", None, staff=(1, 1))
        self.on(date(2019, 12, 5))
        for v in self.villages:
            held = [c for c in v.cases if self.held_back.get(v.code) == c]     # approved later (demo/tour.py)
            listed = self.batch_step(self.who("county_head"), "exit", "county_approval",
                                     [c for c in v.cases if c not in held], decision="approve")
            v.cases = self.batch_step(self.who("county_staff"), "exit", "announcement", listed) + held

    def consolidate(self) -> None:
        self.on(date(2020, 1, 10))
        for v in self.villages:
            t_ = self.township_of(v)
            v.cases = self.batch_step(self.who(f"{t_}_staff2"), "consolidation", "enrolment", v.cases)
            v.cases = self.batch_step(self.who("county_staff"), "consolidation", "county_filing", v.cases,
                                      decision="approve")

    def visits(self) -> None:
        """The first village's pairing cadres visit their households each quarter (四个不摘), each first cadre
        in June and in September 2020; a few stopped after June and a few were never visited, overdue by
        October on /supervise/visits (`household visits --overdue`). A rhythm of its own (the year's draws
        untouched)."""
        from engine.services.case_actions import record_visit
        from engine.services.org import load_actor
        v, rng, p, c = self.villages[0], random.Random(2020), t.pairings.c, t.cases.c
        with self.app.engine.connect() as conn:
            paired = conn.execute(select(p.case_id, p.person_id).join(t.cases, c.id == p.case_id).where(
                c.region_code == v.code, p.kind == "first", p.end_date.is_(None),
                c.stage.in_(("assisted", "exited", "consolidated"))).order_by(p.case_id)).all()
            people = {r.id: load_actor(conn, r) for r in conn.execute(select(t.persons).where(
                t.persons.c.id.in_(sorted({r.person_id for r in paired}))))}
        self.on(date(2020, 9, 10))
        findings = ("户主在家，了解务工收入和脐橙长势，家庭情况稳定", "宣讲教育资助和医保政策，核对帮扶措施落实情况",
                    "查看住房和饮水情况，无异常", "户主外出务工，与家人交谈，收入稳定")
        for case, person in paired:
            fate = rng.random()
            days = [] if fate < 0.05 else [date(2020, 6, rng.randint(5, 25))] if fate < 0.15 else \
                [date(2020, 6, rng.randint(5, 25)), date(2020, 9, rng.randint(1, 9))]
            for day in days:
                try:
                    record_visit(self.app, people[person], case, day, rng.choice(findings))
                except RuleViolation as exc:
                    self.refused(exc)

    def accountability(self) -> None:
        """The next summer: a third-party evaluation finds wrong exits; the township rectifies; outcomes."""
        from engine.services.accountability import OutcomeInput, record_outcome
        from engine.services.case_actions import attach_evidence
        from workflows.problem import ProblemInput, register_problem
        t1, county = TOWNSHIPS[0][0], self.who("county_director")
        exited = [c for v in self.villages if v.township == t1 for c in v.cases][:2]
        if not exited:
            return
        self.on(date(2020, 5, 28))
        found = tour.sample_check(self, t1)
        exited = self.wrong_exit_cases
        self.on(date(2020, 6, 1))
        sham = register_problem(self.app, self.who("county_staff"), ProblemInput(
            self.villages[1].code, "unannounced_visit", "暗访发现帮扶手册填写不实、帮扶措施未落实", date(2020, 5, 30)))
        self.wrong_exit_problem = found
        head, village_secretary = self.who("t1_head"), self.villages[1].staff["secretary"]
        perform_step(self.app, county, "assignment", "assign", [found], StepInput(
            assignee="t1_head", lead_unit="县扶贫办", responsible_unit="梅江镇人民政府", due=date(2020, 7, 1)))
        perform_step(self.app, county, "assignment", "assign", [sham], StepInput(
            assignee=village_secretary.code, lead_unit="梅江镇人民政府", responsible_unit=self.villages[1].name + "村委会",
            due=date(2020, 6, 30)))
        perform_step(self.app, head, "assignment", "receipt", [found])
        perform_step(self.app, village_secretary, "assignment", "receipt", [sham])
        self.on(date(2020, 6, 19))
        for case, who, summary in ((found, head, "两户已重新纳入帮扶，重新核算收入并落实产业帮扶"),
                                   (sham, village_secretary, "已补填帮扶手册")):
            attach_evidence(self.app, who, case, "rectification_report", {"reported_on": "2020-06-19", "summary": summary})
            perform_step(self.app, who, "rectification", "report", [case])
        verifier = self.who("county_staff")
        perform_step(self.app, verifier, "verification", "verify", [found], StepInput(decision="approve"))
        # The village's rectification is only paperwork: sent back twice, it goes to the discipline commission.
        for day in (date(2020, 6, 22), date(2020, 6, 26)):
            self.on(day)
            perform_step(self.app, verifier, "verification", "verify", [sham],
                         StepInput(decision="reject", reason="只补了手册，帮扶措施仍未落实"))
            if day == date(2020, 6, 22):
                self.on(date(2020, 6, 25))         # reported on the day it is dated
                attach_evidence(self.app, village_secretary, sham, "rectification_report",
                                {"reported_on": "2020-06-25", "summary": "再次补填手册"}, replace=True,
                                reason="第二次报告")
                perform_step(self.app, village_secretary, "rectification", "report", [sham])
        self.on(date(2020, 7, 10))
        officer = self.who("discipline_officer")
        record_outcome(self.app, officer, OutcomeInput("诫勉", "对两户错退负有主要领导责任", date(2020, 7, 10),
                                                       person="t1_secretary", problem_id=found))
        record_outcome(self.app, officer, OutcomeInput("通报", "入户核实走过场", date(2020, 7, 10),
                                                       person="t1_staff1", problem_id=found))
        record_outcome(self.app, officer, OutcomeInput("免职", "虚假整改", date(2020, 7, 10),
                                                       person=village_secretary.code, problem_id=sham))

    def wrong_approval_attempts(self) -> None:
        """A few things people try that the rules refuse, so the summary shows them."""
        v = self.villages[0]
        case = v.cases[0] if v.cases else None
        if case is None:
            return
        for actor, procedure, step, inputs in (
                (self.who("inspector"), "monitoring", "clue", StepInput()),
                (self.villages[-1].staff["secretary"], "removal_natural", "finding", StepInput()),
                (v.staff["secretary"], "exit", "proposal", StepInput(attendance=10, votes_for=9, votes_against=0,
                                                                     minutes=self.minutes(v, "exit")))):
            try:
                perform_step(self.app, actor, procedure, step, [case], inputs)
            except (RuleViolation, BadInput) as exc:
                self.refused(exc)


def _prepare_home(settings: Settings) -> None:
    """A new or empty folder is used as it is, and a demo home is wiped and made afresh; any other
    folder (a data home, someone's files) or a file is refused, untouched."""
    home = settings.home
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        if not (home / MARKER).exists():
            raise BadInput("demo.not_demo_home", home=str(home))
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by jingzhun demo; `jingzhun demo` may wipe this folder\n")


def run_demo(settings: Settings, config: Config, households: int = 2000, seed: int = 2019, lang: str = "zh",
             console: Console | None = None) -> dict:
    """A county's year on the real engine, phase by phase (a progress bar on a terminal), then the
    summary, the inspector's flags, the overdue scene; returns the figures it printed."""
    console = console or Console()
    if settings.home == Path("./jingzhun-data").resolve() and settings.db_url.startswith("sqlite"):
        settings = Settings.from_env(str(Path("./jingzhun-demo").resolve()))
    if not settings.db_url.startswith("sqlite"):
        raise BadInput("demo.sqlite_only")
    _prepare_home(settings)
    began = time.perf_counter()
    clock = FixedClock(datetime(2019, 1, 7, 2, 0, tzinfo=timezone.utc))
    app, admin_token = init_home(settings, config=config, clock=clock)
    demo = Demo(app, clock, random.Random(seed), console, lang)
    admin = authenticate(app, "admin", admin_token)
    texts = Texts(app.config, lang)
    console.print(texts("home", home=settings.home))
    run_phases(console, texts, _year(demo, admin, households, settings.home))
    traced = dossiers(app, demo, admin, lang)
    tokens_file = settings.home / "demo-tokens.csv"
    tokens_file.touch(mode=0o600)
    tokens_file.write_text("".join(f"{c},{tok}\n" for c, tok in {"admin": admin_token, **demo.tokens}.items()))
    summary = figures(app, demo, time.perf_counter() - began, tokens_file)
    summary.update(traced)
    summary["village"], summary["project"] = tour.outcome(app, demo)
    summary["inspection"] = tour.flag_measure(app, demo)
    summary["sample_check"], summary["report"] = demo.sample, None
    print_summary(console, app.config, summary, lang)
    summary["overdue"] = overdue_scene(app, demo, admin, console, lang)
    print_overdue(console, app.config, lang, summary["overdue"], tokens_file)
    summary["report"] = tour.write_report(demo, settings.home, lang, COUNTY)    # the assessment, as one HTML page
    console.print(texts("report", path=summary["report"]))
    summary["head"] = final_head(app, admin) or summary["head"]
    print_head(console, app.config, lang, summary["head"])
    summary["seconds_total"] = round(time.perf_counter() - began, 1)
    app.close()
    summary["settings"] = settings
    (settings.home / "demo-clock").write_text(clock.now().isoformat())   # where `demo --serve` starts its clock
    return summary


def final_head(app: App, admin: Actor) -> str | None:
    """The log sealed once more at the very end: the head printed is the head of all the demo wrote."""
    from engine.reads.audit_seal import seal
    sealed = seal(app, admin)
    return f"{sealed['upto_seq']}:{sealed['hash']}" if sealed else None


def _year(demo: Demo, admin: Actor, households: int, home: Path) -> list[tuple[str, Callable[[], None]]]:
    """The county's year, in date order: each phase's clock runs on from the one before."""
    confirmation = write_scan(home / "exit-confirmation-scan.pdf", "脱贫确认书", "本户同意脱贫退出。",
                              "户主签字：（扫描件）")

    def each(*steps: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            for done in steps:
                done()
        return run
    return [("organisation", lambda: demo.build_org(admin, households)),
            ("registration", lambda: demo.register(households)),
            ("poor_village", lambda: tour.identify_village(demo)),
            ("identification", demo.identify),
            ("assistance", demo.assist),
            ("project", lambda: tour.project_to_completion(demo)),
            ("exit", each(lambda: tour.plant_raised_income(demo), lambda: tour.hold_back_for_backdating(demo),
                          lambda: demo.exit(confirmation))),
            ("village_exit", each(lambda: tour.hand_over(demo), lambda: tour.exit_village(demo),
                                  lambda: tour.approve_backdated(demo))),
            ("consolidation", each(demo.consolidate, lambda: tour.consolidate_village(demo))),
            ("accountability", each(demo.wrong_approval_attempts, demo.accountability,
                                    lambda: tour.reveal_relative(demo))),
            ("visits", demo.visits)]
