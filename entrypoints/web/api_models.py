"""Request and answer models of the JSON API (they document it in /api/v1/openapi.json).

Codes, not labels: a kind, stage, procedure, step or evidence type is its code (`household`,
`consolidation`, `exit`, `proposal`, `income_assessment`); dates are ISO (`2020-10-20`). Reads whose
shape follows the rules in force (a case's record, a trace, a report) are typed at their top level
and carry the rest as the same JSON as the CLI's `--json`.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from workflows.household import MemberInput     # a member is what `household add` takes, as it is

# A case id as a client gives it: a whole number, never a boolean or a numeric string (true was taken
# as case 1), within the database's integers.
CaseId = Annotated[StrictInt, Field(ge=1, le=2 ** 63 - 1)]


class Open(BaseModel):
    """A read whose inner shape follows the rules in force: its other keys are as in `--json`."""
    model_config = ConfigDict(extra="allow")


class Sent(BaseModel):
    """What a client sends: a field this API does not know is refused (a misspelt `vote_for` had
    vanished, and the step was done without it)."""
    model_config = ConfigDict(extra="forbid")


class CaseRow(BaseModel):
    id: int
    kind: str
    title: str
    region: str
    stage: str
    standing: str = Field(description="The stage as the figures count it: `not_identified` for a household "
                                      "whose identification was rejected, with nothing open (`stage` filters by it).")
    version: int
    pending_procedure: str | None
    pending_step: str | None
    ended: dict[str, Any] | None = Field(None, description=(
        "Of a household not identified: how its last identification ended (`procedure`, `ended_at`, and "
        "`reason` as stored: a failed vote, an upheld objection)."))


class RegistrationDue(BaseModel):
    """A sample check's wrong exit waiting for the county office to register its problem item."""
    case: int
    title: str
    region: str
    kind: str
    stage: str
    due_on: dt.date
    rule: str
    owner: str | None = Field(description="The person code of the deadline's owner.")
    owner_name: str | None
    owner_role: str | None
    mine: bool = Field(description="The deadline is the reader's own (false: a colleague's, theirs to register too).")
    draws: list[int] = Field(description="The sample draws it was found in.")


class CaseList(BaseModel):
    cases: list[CaseRow]
    next_after: int | None = Field(None, description="Give it as `after` for the next page; null at the end.")
    registrations_due: list[RegistrationDue] = Field(default_factory=list, description=(
        "With `waiting`, on the first page: the sample checks' wrong exits waiting for the reader's office to "
        "register their problem item (`problem add --finding wrong_exit`), which the reader may register, "
        "whoever's deadline it is (`owner`, `mine`), earliest due first."))


class FoundMember(BaseModel):
    name: str
    relation: str
    id_number: str = Field(description="Its middle hidden, as every page shows it.")
    active: bool = Field(description="Still in the household (false: left it).")


class FoundCase(BaseModel):
    id: int
    kind: str
    title: str
    region: str
    region_name: str
    stage: str
    standing: str
    household_code: str | None = Field(None, description="户编号, for a household that has one.")
    members: list[FoundMember] = Field(description="The members the query matched (by name or ID number).")


class Found(BaseModel):
    by: str = Field(description="How the query was read: `case` (a case number), `id_number`, `household_code` "
                                "(户编号) or `name` (a member's name, exactly).")
    query: str = Field(description="The value looked for (an ID number with its middle hidden).")
    cases: list[FoundCase] = Field(description="Newest first, within my jurisdiction, at most 20.")
    more: bool = Field(description="More cases matched than are listed: narrow the query.")


class DeadlineList(BaseModel):
    deadlines: list[Open] = Field(description="Oldest due first; each as in `deadline list --json`.")
    next_after: str | None = Field(None, description="Give it as `after` for the next page; null at the end.")


class Handbook(Open):
    """A household's handbook: `basics` (members, dates), `causes`, `pairings`, `plans`, `measures` and
    `results` (incomes per year against the line, checks, exits), as `household handbook` prints them."""
    id: int
    title: str
    region: str
    basics: dict[str, Any]
    results: dict[str, Any]


class CaseDetail(Open):
    id: int
    kind: str
    title: str
    region: str
    stage: str
    version: int
    integrity: dict[str, Any] = Field(description="Whether the case's record is as it was written (`intact`); when "
                                      "not, it was altered in the database: `damage` says what was found (in the "
                                      "asked language), `damaged_events` the case's event numbers. Run "
                                      "`jingzhun audit verify`.")
    monitoring: dict[str, Any] | None = Field(None, description="A household's monitoring (防返贫监测) and transition "
                                              "period (过渡期): `current` {type, since} or null, `history` [{type, "
                                              "since, risk_eliminated_on}], `transition_until`, `transition_over`, and for a household "
                                              "imported as exited with only its exit year `transition_from_year` (the "
                                              "period reckoned to the end of the year it ends in); "
                                              "null when it has none of them or is not a household.")
    poverty: dict[str, Any] | None = Field(None, description="A household's causes of poverty (致贫原因) and type (贫困户属性), "
                                           "which its plan answers: `causes` (codes), `causes_words`, `household_type` "
                                           "(a code), `household_type_words` (in the asked language); corrected with "
                                           "POST /cases/{id}/causes. Null for other kinds.")
    relatives: list[dict[str, Any]] = Field([], description="Cadres recorded as relatives of the household (they may not "
                                            "sign it off): `person`, `person_name`, `relation` (a kinship code: niece, "
                                            "uncle, sister_in_law…; one recorded as typed before the list, the code its "
                                            "word names, or as typed) and `relation_words` (in the asked language).")


class NextStep(Open):
    case: int
    title: str
    stage: str
    version: int
    next: dict[str, Any] | None = Field(description="The next step, who may do it and what blocks it; null when none.")


class Pairing(Sent):
    case: int
    first: str
    second: str | None = None


class Vote(Sent):
    case: int
    votes_for: int = Field(ge=0, le=100000)
    votes_against: int = Field(ge=0, le=100000)


class Measure(Sent):
    category: str
    description: str


class FundLine(Sent):
    source: str = Field(description="central, provincial, city, county, integrated, other")
    amount: str = Field(description="Yuan, a decimal string: 90000 or 12500.50.")
    document: str | None = None


class Milestone(Sent):
    name: str
    due: str = Field(description="A date, or -DAYS before the completion date.")


class Asset(Sent):
    asset_class: str = Field(alias="class")
    name: str
    value: str
    owner: str
    case: CaseId | None = None


class StepFields(Sent):
    """What the step's type takes (the options of `jingzhun step`); the others are left out."""
    date: dt.date | None = Field(None, description="When it took place (default today).")
    decision: Literal["approve", "reject"] | None = None
    reason: str | None = None
    attendance: int | None = Field(None, ge=0, le=100000)
    votes_for: int | None = Field(None, ge=0, le=100000)
    votes_against: int | None = Field(None, ge=0, le=100000)
    verifiers: list[str] = []
    days: int | None = Field(None, ge=1, le=3650)
    first_cadre: str | None = None
    second_cadre: str | None = None
    pairings: list[Pairing] = Field([], description="Pairing of a list: one per case.")
    votes: list[Vote] = Field([], description="A list's appraisal: each household's own votes (over votes_for/against).")
    measures: list[Measure] = []
    assignee: str | None = None
    lead_unit: str | None = None
    responsible_unit: str | None = None
    due: dt.date | None = None
    funds: list[FundLine] = []
    milestones: list[Milestone] = []
    milestone: str | None = None
    assets: list[Asset] = []
    completion: dt.date | None = None
    add_beneficiaries: list[CaseId] = []
    remove_beneficiaries: list[CaseId] = []
    monitoring_type: str | None = Field(None, max_length=40, description=(
        "A monitoring identification's township review or county decision, with approve and a reason: the "
        "monitoring type corrected (unstable, edge, sudden_hardship, or its label)."))
    expect_version: int | None = Field(None, ge=1, description="Refuse if the case changed since this version.")


class StepRequest(StepFields):
    procedure: str
    step: str


class ListStepRequest(StepRequest):
    case_ids: list[CaseId] = Field(min_length=1, description="The cases, all done or none.")


class EachStepRequest(StepRequest):
    case_ids: list[CaseId] = Field([], description="The cases of the list (with `region`, besides its own).")
    region: str | None = Field(None, max_length=200, description=(
        "A village, township or county of your jurisdiction, by its 12-digit code or its name (梅江镇): every "
        "case of it waiting at the step is on the list, as `step --region` takes them (one list, one batch id, "
        "every case told done or refused); none waiting: an empty answer."))


class StepDone(BaseModel):
    case_id: int
    decision: str
    from_stage: str
    to_stage: str
    procedure_status: str
    notice_id: int | None = None
    version: int | None = Field(None, description="The case's version after the step: the next write's "
                                "`expect_version`")


class Reason(BaseModel):
    error: str = Field(description="The rule or refusal's code.")
    message: str = Field(description="What it says, in the reader's language.")


class Refused(BaseModel):
    case_id: int
    reasons: list[Reason]


def refused_cases(core: Any, result: Any, case_ids: Any, lang: str) -> list[Refused]:
    """The refused cases of a list (a ListResult), in its order, each with its reasons' codes and messages."""
    return [Refused(case_id=c, reasons=[Reason(error=code, message="；".join(said))
                                        for code, said in result.explained(core, c, lang)])
            for c in dict.fromkeys(case_ids) if c in result.refused]


class RefusedGroup(BaseModel):
    """Cases of a list refused for the very same reasons: the reasons once, how many cases, which."""
    reasons: list[Reason]
    count: int
    case_ids: list[int]


def refused_groups(core: Any, result: Any, case_ids: Any, lang: str) -> list[RefusedGroup]:
    """The refused cases of a list (a ListResult) by what refused them, the largest group first."""
    return [RefusedGroup(reasons=[Reason(error=code, message="；".join(said)) for code, said in g.reasons],
                         count=len(g.cases), case_ids=g.cases) for g in result.grouped(core, case_ids, lang)]


class EachDone(BaseModel):
    """A list's step: the cases done (as one act: one meeting, one notice, one batch id) and every other
    case refused with its reasons; and the refused cases again by their reasons, each reason once with
    how many cases it refused (a village refused for one rule: one group)."""
    done: list[StepDone]
    refused: list[Refused]
    refused_groups: list[RefusedGroup] = Field(description="The refused cases grouped by their reasons, the "
                                               "largest group first; each refused case in exactly one group.")


class EvidenceRequest(Sent):
    type: str = Field(description="Evidence type code (income_assessment…).")
    fields: dict[str, Any] = {}
    replace: bool = False
    reason: str | None = None
    void_signoffs: bool = Field(False, description="A step of the open procedure relied on the item this one takes the "
                                "place of (refused as evidence.frozen or evidence.year_relied_on): that step and the "
                                "later ones voided, to be done again.")
    confirm_figure: bool = Field(False, description="An income far past the year's poverty line (refused as "
                                 "evidence.income_implausible) is right as sent: attached, the confirmation recorded.")
    expect_version: int | None = None


class Created(BaseModel):
    id: int


class EvidenceCreated(Created):
    """An evidence item attached; a rate it gave as a bare number (0.5, read as the share 50%) said back as
    read, with how to put it right if 0.5% was meant (in the reader's language), as `evidence add` says it."""
    rates_read: list[str] = []


class PaymentCreated(Created):
    """A payment recorded; dated in the period of a monthly report filed already (补录): that report's date
    and period start and the day the next report's period starts, and the same in the reader's language."""
    late: dict[str, str] | None = None
    entered_late: str | None = None
    # the contractor as its contract names it, when the payee was typed otherwise or found by its code
    recorded_as: str | None = None
    payee_code: str | None = None
    recorded_as_words: str | None = None


class CausesCorrection(Sent):
    """A household's causes of poverty and type corrected (`household causes`): `causes` (codes or words, 因病;
    all of them: they replace those registered; omitted: unchanged), `household_type` (omitted: unchanged), and
    why (`reason`)."""
    causes: list[str] | None = Field(None, min_length=1)
    household_type: str | None = None
    reason: str


class CausesCorrected(Open):
    """The causes and type now (`causes`, `household_type`) and before (`before_causes`, `before_type`), as codes."""
    causes: list[str]
    household_type: str


class CaseAdd(Sent):
    kind: str
    region: str
    title: str
    attrs: dict[str, str] = {}


class Household(Sent):
    members: list[MemberInput] = Field(min_length=1, description="The head first.")
    causes: list[str] = Field([], description="One at least, but none for an ordinary household.")
    household_type: str = "general"
    ordinary: bool = Field(False, description="A farm household never registered poor, entered to be monitored "
                                              "(stage `ordinary`): no causes; not identified as poor.")


class HouseholdAdd(Household):
    village: str


class HouseholdImport(Sent):
    village: str
    households: list[Household] = Field(min_length=1, description="A village's list, all registered or none.")


class CreatedMany(BaseModel):
    ids: list[int]


class Registered(BaseModel):
    """Households registered, and what the cadre should confirm (in the reader's language)."""
    ids: list[int]
    warnings: list[str] = []


class ObjectionAdd(Sent):
    case_id: int
    objector: str
    content: str
    filed_on: dt.date | None = None


class Resolution(Sent):
    upheld: bool = Field(description="true: the objection is right (the procedure is rejected); false: dismissed.")
    reason: str
    ruled_on: dt.date | None = Field(None, description="The day the ruling took effect (the township's visit): "
                                     "not after today, not before the objection; today if left out.")
    verifiers: list[str] = Field([], description="Person codes of the village or township who verified it on the spot.")


class Resolved(BaseModel):
    id: int
    outcome: str


class AuditHead(BaseModel):
    seq: int
    hash: str


class VerifyRequest(Sent):
    against: str | None = Field(None, description="SEQ:HASH of a published head the log must extend.")


class PublishedHead(BaseModel):
    seq: int
    matched: bool = Field(description="The event of that number has the published hash: nothing up to it was "
                                      "rewritten or removed since it was published")
    events_after: int | None = Field(None, description="Events written after the published head (when matched)")


class VerifyReport(BaseModel):
    intact: bool
    macs_checked: bool = Field(description="False when the server holds no key file of the record: the hash "
                                           "chains were checked, not each event's signature")
    events: int
    cases: int
    evidence: int
    damage: list[dict[str, Any]]
    published_head: PublishedHead | None = Field(None, description="Only when `against` was given: whether the "
                                                 "published head agrees with the record, and the events after it")


class Enrolment(BaseModel):
    person: str
    expires_at: str
    sent_over: str | None = Field(None, description="The channels it was sent over (then no code is returned).")
    code: str | None = Field(None, description="Only with paper=true, or for a person with no channel: for a slip.")


class EnrolRequest(Sent):
    paper: bool = False


class Activate(Sent):
    person: str = Field(max_length=40)
    code: str = Field(max_length=40, description="The one-time enrolment code the person was given.")
    password: str | None = Field(None, max_length=200, description="Also set the password for the sign-in page.")


class Current(Sent):
    current: str | None = Field(None, max_length=200, description="One's current password: required from a "
                                "browser's session, checked when a token's client sends it.")


class NewPassword(Current):
    password: str = Field(max_length=200)


class Done(BaseModel):
    done: bool = True


class RoleHeld(BaseModel):
    role: str
    region: str = Field(description="The region code the role is held over.")


class Me(BaseModel):
    code: str
    name: str
    roles: list[RoleHeld]


class Token(BaseModel):
    person: str
    token: str = Field(description="The person's login token, shown this once (only its hash is kept).")


class ProjectAdd(Sent):
    site: str
    name: str
    category: str
    responsible_unit: str
    unit_head: str
    leader: str
    funds: list[FundLine] = Field(min_length=1)
    beneficiaries: list[int] = []
    targets: list[str] = []
    complete_by: dt.date
    proposed_on: dt.date | None = None
    description: str | None = None


class Payment(Sent):
    amount: str
    payee_kind: str = Field(description="contractor, beneficiary, retention, other")
    payee: str
    payee_code: str | None = Field(None, description="a contractor's unified social credit code (统一社会信用代码)")
    reference: str | None = None
    paid_on: dt.date | None = None
    from_retention: bool = False


class CompletionWithdrawn(Sent):
    reason: str = Field(description="Why the completion is withdrawn (a supplementary contract to be signed).")


class MilestoneDone(Sent):
    milestone: str = Field(description="Its name or number.")
    date: dt.date | None = None


class ProblemAdd(Sent):
    region: str
    source: str
    description: str
    found_on: dt.date | None = None
    finding: str | None = None
    cases: list[int] = []


class SampleFindingAdd(Sent):
    case: int
    finding: str
    persons: int | None = Field(None, ge=1)
    note: str | None = Field(None, max_length=500)


class FindingRecorded(BaseModel):
    id: int
    problem: int | None = None      # the problem item a wrong exit opened
    # else (a wrong exit on a household with a procedure under way) what its problem item waits for: that
    # procedure ({procedure, kind}: a 错退纠正 registers it when it completes), or {procedure: null}: the county office
    awaits: dict[str, Any] | None = None


class OutcomeAdd(Sent):
    outcome: str
    reason: str
    decided_on: dt.date | None = None
    person: str | None = None
    organisation: str | None = None
    region: str | None = None
    problem_id: int | None = None


class OutcomeDone(Sent):
    done_on: dt.date | None = None


class Referred(BaseModel):
    ids: list[int]


class VisitMeasure(BaseModel):
    id: int
    category: str
    description: str


class Visit(BaseModel):
    """A visit to the household (走访), as `case show --json` lists it."""
    id: int
    date: dt.date
    person: str = Field(description="The person code of who recorded it.")
    person_name: str
    findings: str
    risk: bool = Field(description="It found the household at risk of poverty (a clue for monitoring).")
    measure: VisitMeasure | None = Field(None, description="The measure of the plan it concerns.")
    result: str | None = Field(None, description="What was done and what it brought.")
    in_force: bool = Field(description="Neither corrected nor withdrawn.")
    superseded_by: int | None = Field(None, description="Corrected: the visit that corrects it.")
    supersede_reason: str | None = Field(None, description="Corrected or withdrawn: why (withdrawn when "
                                                          "`superseded_by` is null).")


class CaseVisits(BaseModel):
    case: int
    visits: list[Visit] = Field(description="By their day (one may be recorded late), then as recorded.")


class VisitAdd(Sent):
    """A visit (`household visit`): its day (today when not given), what was found, whether the household is
    at risk of poverty, the measure of the plan in force it concerns and what it brought."""
    date: dt.date | None = None
    findings: str
    risk: bool = False
    measure: int | None = Field(None, description="A measure's id, of the household's plan in force (`case show`).")
    result: str | None = None


class VisitCorrection(Sent):
    """A visit corrected by who recorded it (`household visit-correct`): what is not given stays as it was;
    `no_measure` drops the measure it named."""
    reason: str
    date: dt.date | None = None
    findings: str | None = None
    measure: int | None = None
    no_measure: bool = False
    result: str | None = None


class VisitWithdrawal(Sent):
    """A visit withdrawn by who recorded it (`household visit-withdraw`), with the reason."""
    reason: str


class VisitDone(BaseModel):
    id: int = Field(description="The visit recorded (for a correction: the new one; for a withdrawal: the one "
                                "withdrawn).")
    case: int
    again: bool = Field(False, description="The same visit by the same person was on record already: not stored "
                                           "again (a request sent twice).")
    paired: bool = Field(True, description="The one who recorded it is one of the household's pairing cadres.")
    replaces: int | None = Field(None, description="A correction: the visit it replaces.")
    message: str = Field(description="What was done, in the reader's language, as the command line says it.")


class UnvisitedRow(BaseModel):
    case: int
    title: str
    region: str
    cadre: str = Field(description="The pairing cadre's person code.")
    cadre_name: str
    kind: str = Field(description="`first` or `second` pairing cadre.")
    paired_since: dt.date
    last_visit: dt.date | None = Field(description="The household's last visit in force; null: never visited.")
    visitor: str | None
    visitor_name: str | None
    days: int = Field(description="Days since the last visit (never visited: since paired).")
    overdue: bool = Field(description="More days than the policy's `visit_interval_days`.")


class UnvisitedList(BaseModel):
    rows: list[UnvisitedRow] = Field(description="The longest unvisited first.")
    interval: int = Field(description="The policy's `visit_interval_days` for the region.")
    today: dt.date
    overdue: int | None = Field(description="How many of the region's households are overdue, whatever the filter "
                                            "(on the first page; null on the next ones).")
    next_after: str | None = Field(None, description="Give it as `after` for the next page; null at the end.")
