"""A small real world for tests: one county, two townships, a village in each, a person per role."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from stdnum.cn import ric

from demo.scans import write_scan
from engine.adapters.app import App, FixedClock
from engine.domain.auth import Actor
from engine.services.case_actions import attach_evidence
from engine.adapters.db import Settings
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, add_regions, authenticate
from engine.domain.cases import StepInput
from engine.services.procedures import perform_step
from entrypoints.bootstrap import init_home
from workflows.household import MemberInput, register_household

PROVINCE, CITY, COUNTY = "360000000000", "360700000000", "360730000000"
TOWNSHIP, VILLAGE = "360730100000", "360730100201"
TOWNSHIP2, VILLAGE2 = "360730101000", "360730101201"

ROLES = {
    "vs": ("village_secretary", VILLAGE), "vd": ("village_director", VILLAGE), "fs": ("first_secretary", VILLAGE),
    "tl": ("resident_team_leader", VILLAGE), "tm": ("resident_team_member", VILLAGE),
    "tm2": ("resident_team_member", VILLAGE),
    "ts1": ("township_staff", TOWNSHIP), "ts2": ("township_staff", TOWNSHIP), "ts3": ("township_staff", TOWNSHIP),
    "ts4": ("township_staff", TOWNSHIP), "th": ("township_head", TOWNSHIP),
    "cd": ("county_office_director", COUNTY), "cs": ("county_office_staff", COUNTY), "ch": ("county_head", COUNTY),
    "csec": ("county_secretary", COUNTY), "tsec": ("township_secretary", TOWNSHIP),
    "cl": ("county_leader_for_township", TOWNSHIP), "do": ("discipline_officer", COUNTY),
    "pc1": ("pairing_cadre", VILLAGE), "pc2": ("pairing_cadre", VILLAGE), "pc3": ("pairing_cadre", VILLAGE),
    "insp": ("inspector", COUNTY), "aud": ("auditor", COUNTY),
    "vs2": ("village_secretary", VILLAGE2), "ts_other": ("township_staff", TOWNSHIP2),
}


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def scan_file(path: Path, text: str = "signed") -> Path:
    """A one-page PDF at `path`, as a scanner or a phone's scan app writes a signed form."""
    return write_scan(path, "扫描件", text)


def photo(text: str = "a photo", kind: str = "jpeg") -> bytes:
    """A photo's bytes, as small as may be but whole (engine.domain.scans: begun and ended as its format
    is), holding `text` in a comment: a JPEG, or kind "png", "webp" or "gif"."""
    import struct
    import zlib
    data = text.encode()
    if kind == "png":
        chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                + chunk(b"tEXt", b"Comment\x00" + data) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
                + chunk(b"IEND", b""))
    if kind == "webp":
        body = b"WEBPVP8 " + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
        return b"RIFF" + struct.pack("<I", len(body)) + body
    if kind == "gif":
        return b"GIF89a\x01\x00\x01\x00\x00\x00\x00" + b"\x21\xfe" + bytes([len(data[:255])]) + data[:255] + b"\x00;"
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            + b"\xff\xfe" + struct.pack(">H", len(data) + 2) + data
            + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x12\x34\x56" + b"\xff\xd9")


def member_ids(n: int, seed: int) -> list[str]:
    """n valid, distinct ID numbers of adults born in Ningdu before 1998."""
    return [id_number(f"3621311960{(seed % 12) + 1:02d}{(i % 28) + 1:02d}{(seed * 7 + i) % 1000:03d}")
            for i in range(n)]


@dataclass
class World:
    app: App
    clock: FixedClock
    tokens: dict[str, str]
    actors: dict[str, Actor] = field(default_factory=dict)
    _seq: int = 0

    def __getitem__(self, code: str) -> Actor:
        return self.actors[code]

    def on(self, day: date) -> None:
        self.clock.at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)

    def today(self) -> date:
        return self.clock.today()

    def household(self, members: int = 2, income_2018: float = 4000.0, village: str = VILLAGE,
                  by: str = "vs", school_age_child: str | None = None) -> int:
        """Register a household with application and income evidence (2018 household income)."""
        self._seq += 1
        ids = member_ids(members, self._seq)
        people = [MemberInput(f"成员{self._seq}-{i}", n, "head" if i == 0 else "spouse" if i == 1 else "parent")
                  for i, n in enumerate(ids)]
        if school_age_child:
            people.append(MemberInput(f"孩子{self._seq}", id_number(f"36073020100605{self._seq % 1000:03d}"),
                                      "child", "none", "healthy",
                                      None if school_age_child == "not_recorded" else school_age_child))
        for m in people:                # insured, as recorded (not given, it is asked for at exit)
            m.insured_basic = m.insured_critical = True
        case = register_household(self.app, self[by], village, people, ["illness"])
        attach_evidence(self.app, self[by], case, "application", {"applicant": people[0].name, "applied_on": "2019-01-10"})
        attach_evidence(self.app, self[by], case, "income_check", {"year": 2018, "net_income": income_2018})
        return case

    def step(self, who: str, procedure: str, step: str, case: int | list[int], **inputs):
        """The step on the case or list; an appraisal comes with its meeting's minutes unless `minutes`
        is given (None: without them), a list's votes given as `votes_for`/`votes_against` as each
        household's own."""
        cases = case if isinstance(case, list) else [case]
        if "minutes" not in inputs and self.is_appraisal(procedure, step):
            inputs["minutes"] = self.minutes()
        if len(set(cases)) > 1 and "votes_for" in inputs and "votes" not in inputs:    # a list: each household's own
            inputs.update(self.votes(cases, inputs.pop("votes_for"), inputs.pop("votes_against", None)))
        return perform_step(self.app, self[who], procedure, step, cases, StepInput(**inputs))

    @staticmethod
    def votes(cases: list[int], votes_for: int, votes_against: int | None) -> dict:
        """A list's appraisal votes, each household's own (`votes`: one count given for a list of
        households is refused), as a test gives them: the same counts for each."""
        return {"votes": {c: (votes_for, votes_against) for c in dict.fromkeys(cases)}}

    def is_appraisal(self, procedure: str, step: str) -> bool:
        proc = self.app.config.workflows["household"].procedures.get(procedure)
        return proc is not None and any(s.key == step and s.type == "appraisal" for s in proc.steps)

    def minutes(self, name: str = "评议会议记录.pdf") -> Path:
        """A signed meeting's minutes, as a phone's scan app makes of them (one file, kept in the home)."""
        path = Path(self.app.settings.home) / name
        return path if path.exists() else scan_file(path, "民主评议会议记录 到会代表签字")

    def paired_staff_household(self, tmp) -> int:
        """A household whose first pairing cadre `pc_ts` is also township staff, ready for its exit steps."""
        tokens = activate_all(self.app, add_persons(self.app, self["admin"], [NewPerson(
            "pc_ts", "帮扶兼乡镇干部", (("pairing_cadre", VILLAGE), ("township_staff", TOWNSHIP)))]))
        self.actors["pc_ts"] = authenticate(self.app, "pc_ts", tokens["pc_ts"])
        case = self.household()
        self.identify(case)
        self.assist(case, first="pc_ts")
        self.exit_evidence(case, tmp=tmp)
        return case

    def up_to_first_notice(self, case: int | list[int], applied: bool = False) -> None:
        """Application (unless `applied` already), appraisal, village verification and the first notice
        posted, on today's date."""
        if not applied:
            self.step("vs", "identification", "application", case)
        self.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
        self.step("tl", "identification", "village_verification", case, decision="approve", verifiers=("tm",))
        self.step("fs", "identification", "first_notice", case)

    def up_to_county_approval(self, case: int | list[int], applied: bool = False) -> None:
        """The identification, live, up to the county's approval: the first notice posted 1 March, the
        township's review and the second notice on 8 March."""
        self.on(date(2019, 3, 1))
        self.up_to_first_notice(case, applied)
        self.on(date(2019, 3, 8))
        self.step("ts1", "identification", "township_review", case, decision="approve")
        self.step("ts2", "identification", "second_notice", case)

    def identify(self, case: int | list[int], applied: bool = False) -> None:
        """Walk the identification procedure through, dates in order, notices run in full (from the
        appraisal if `applied` already)."""
        self.up_to_county_approval(case, applied)
        self.on(date(2019, 3, 15))
        self.step("cd", "identification", "county_approval", case, decision="approve")
        self.step("cs", "identification", "announcement", case)

    def assist(self, case: int, first: str = "pc1", second: str | None = "pc2") -> None:
        self.on(date(2019, 3, 20))
        self.step("ts1", "assistance", "pairing", case, first_cadre=first, second_cadre=second)
        self.step("fs", "assistance", "plan", case, measures=(("industry", "种植脐橙"),))
        self.step("th", "assistance", "plan_approval", case, decision="approve")

    def exit_evidence(self, case: int, income_2019: float = 10000.0, grade: str = "A", confirm: bool = True,
                      tmp: Path | None = None, year: int = 2019) -> None:
        """The evidence of an exit at the end of `year`, on that year's income (`income_2019`)."""
        self.on(date(year, 11, 20))
        attach_evidence(self.app, self["vs"], case, "income_assessment", {"year": year, "net_income": income_2019})
        attach_evidence(self.app, self["vs"], case, "two_assurances", {"food": True, "clothing": True})
        attach_evidence(self.app, self["vs"], case, "housing_safety", {"grade": grade})
        attach_evidence(self.app, self["vs"], case, "drinking_water", {"safe": True})
        if confirm:
            scan = scan_file((tmp or Path(self.app.settings.home)) / f"confirmation-{case}.pdf",
                             f"household {case} confirms its exit")
            attach_evidence(self.app, self["pc1"], case, "household_confirmation", {"signed_on": f"{year}-11-20"}, scan)

    EXIT_STEPS = (
        (date(2019, 11, 20), "vd", "proposal", dict(attendance=38, votes_for=33, votes_against=1)),
        (date(2019, 11, 20), "tl", "verification", dict(decision="approve", verifiers=("ts2", "ts3", "ts4"))),
        (date(2019, 11, 20), "fs", "acknowledgement", {}),
        (date(2019, 11, 20), "vs", "village_notice", {}),
        (date(2019, 11, 28), "ts1", "township_review", dict(decision="approve")),
        (date(2019, 11, 28), "ch", "county_approval", dict(decision="approve")),
        (date(2019, 11, 28), "cs", "announcement", {}),
    )

    def exit(self, case: int, through: str = "announcement") -> None:
        """Walk the exit procedure up to and including the step `through`."""
        for day, who, step, inputs in self.EXIT_STEPS:
            self.on(day)
            self.step(who, "exit", step, case, **inputs)
            if step == through:
                return


def build_world(home: Path, db_url: str | None = None) -> World:
    clock = FixedClock(datetime(2019, 1, 10, 2, 0, tzinfo=timezone.utc))
    app, admin_token = init_home(Settings.from_env(str(home), db_url), clock=clock)
    admin = authenticate(app, "admin", admin_token)
    add_regions(app, admin, [(PROVINCE, "江西省"), (CITY, "赣州市"), (COUNTY, "宁都县"), (TOWNSHIP, "梅江镇"),
                             (VILLAGE, "洋塘村"), (TOWNSHIP2, "青塘镇"), (VILLAGE2, "石上村")])
    tokens = activate_all(app, add_persons(app, admin, [NewPerson(code, f"{role}-{code}", ((role, region),))
                                      for code, (role, region) in ROLES.items()]))
    tokens["admin"] = admin_token
    world = World(app, clock, tokens)
    world.actors = {code: authenticate(app, code, tok) for code, tok in tokens.items()}
    return world
