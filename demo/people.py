"""Realistic generated households for the demo: names, valid ID numbers, ages, incomes."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric

from workflows.household import MemberInput

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曾彭萧"
GIVEN = "明华建国志强秀英桂兰玉梅春花海军红霞金凤德胜永福家兴丽娟小平淑芬卫东文斌雪梅"


def name(rng: random.Random, surname: str | None = None) -> str:
    return (surname or rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def id_number(rng: random.Random, born: date, male: bool, seen: set[str]) -> str:
    # People born before 1998 carry Ningdu's earlier division code (362131), as real IDs do.
    place = "360730" if born.year >= 1998 else "362131"
    while True:
        seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{place}{born:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in seen:
            seen.add(number)
            return number


@dataclass
class Household:
    members: list[MemberInput]
    causes: list[str]
    income_2018: float          # household net income, yuan
    income_2019: float
    fate: str                   # what the demo lets happen to it


def _born(rng: random.Random, age: int, on: date) -> date:
    return date(on.year - age, rng.randint(1, 12), rng.randint(1, 28))


def make_household(rng: random.Random, seen: set[str], fate: str, lines: dict[int, float]) -> Household:
    on = date(2019, 1, 1)
    surname = rng.choice(SURNAMES)
    head_age = rng.randint(28, 78)
    members = [MemberInput(name(rng, surname), id_number(rng, _born(rng, head_age, on), True, seen), "head",
                           "normal" if head_age < 60 else rng.choice(("normal", "lost", "none")),
                           rng.choices(("healthy", "chronic", "serious", "disabled"), (70, 18, 7, 5))[0], "none")]
    if head_age < 75 and rng.random() < 0.85:
        age = max(20, head_age + rng.randint(-5, 3))
        members.append(MemberInput(name(rng), id_number(rng, _born(rng, age, on), False, seen), "spouse",
                                   "normal" if age < 60 else "lost",
                                   rng.choices(("healthy", "chronic", "serious"), (80, 15, 5))[0], "none"))
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3)) if head_age < 60 else 0):
        age = rng.randint(1, max(1, min(25, head_age - 20)))
        school = "enrolled" if 5 <= age <= 18 else "none"
        members.append(MemberInput(name(rng, surname), id_number(rng, _born(rng, age, on), rng.random() < 0.5, seen),
                                   "child", "normal" if age >= 18 else "none", "healthy", school))
    if head_age < 50 and rng.random() < 0.3:
        age = head_age + rng.randint(22, 30)
        members.append(MemberInput(name(rng, surname), id_number(rng, _born(rng, age, on), rng.random() < 0.5, seen),
                                   "parent", "none", rng.choice(("chronic", "healthy", "disabled")), "none"))
    if fate == "dropout":
        age = rng.randint(10, 14)
        members.append(MemberInput(name(rng, surname), id_number(rng, _born(rng, age, on), True, seen),
                                   "child", "none", "healthy", "dropped_out"))
    for m in members:       # the demo's households say their insurance (a list that does not is asked for it)
        m.insured_basic = m.insured_critical = True
    size = len(members)
    causes = rng.sample(["illness", "disability", "schooling", "lack_skills", "lack_labour", "lack_capital",
                         "disaster", "poor_transport"], k=rng.choice((1, 1, 2)))
    line_2018, line_2019 = lines[2018], lines[2019]
    per_capita_2018 = rng.uniform(1400, line_2018 * 0.95)
    if fate == "not_poor":
        per_capita_2018 = rng.uniform(line_2018 * 1.1, line_2018 * 1.8)
    per_capita_2019 = rng.uniform(line_2019 * 1.15, line_2019 * 2.2)   # exits clear of the line (a planted one is not)
    if fate == "under_line":
        per_capita_2019 = rng.uniform(line_2019 * 0.6, line_2019 * 0.97)
    return Household(members, causes, round(per_capita_2018 * size, 2), round(per_capita_2019 * size, 2), fate)


def each_vote(cases: list[int], votes_for: int, votes_against: int, failed: bool = False) -> dict[int, tuple[int, int]]:
    """A village meeting's votes on each household of its list (`StepInput.votes`), as a meeting votes:
    about `votes_for` for and `votes_against` against, each household its own counts (a list given one
    count for all is refused); `failed`: a vote that fails, its `votes_for` kept as it is."""
    return {c: (votes_for if failed else votes_for - c % 3, votes_against - c % 4 if failed else votes_against + c % 2)
            for c in cases}
