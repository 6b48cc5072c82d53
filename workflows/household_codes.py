"""Code lists of the household record (domain-research.md §1.5). Labels are in the message catalogue (config/locale/)."""
from datetime import date
from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from engine.domain.errors import Msg

CAUSES = {  # 致贫原因
    "illness": "因病", "disability": "因残", "schooling": "因学", "disaster": "因灾",
    "lack_land": "缺土地", "lack_water": "缺水", "lack_skills": "缺技术", "lack_labour": "缺劳力",
    "lack_capital": "缺资金", "poor_transport": "交通条件落后", "lack_motivation": "自身发展动力不足",
    "marriage": "因婚", "other": "其他",
}
HOUSEHOLD_TYPES = {  # 贫困户属性
    "general": "一般贫困户", "dibao": "低保户", "wubao": "五保户", "dibao_poor": "低保贫困户",
}
LABOUR = {  # 劳动技能
    "normal": "普通劳动力", "skilled": "技能劳动力", "lost": "丧失劳动力", "none": "无劳动力",
}
HEALTH = {  # 健康状况
    "healthy": "健康", "chronic": "长期慢性病", "serious": "患有大病", "disabled": "残疾",
}
SCHOOL = {  # 在校情况
    "enrolled": "在校生", "dropped_out": "辍学", "exempt": "因病免学", "none": "非在校",
}
RELATIONS = {
    "head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "grandchild": "孙子女",
    "sibling": "兄弟姐妹", "daughter_in_law": "儿媳", "other": "其他",
}
MEASURES = {  # 帮扶措施
    "industry": "产业帮扶", "employment": "就业帮扶", "education": "教育帮扶", "health": "健康帮扶",
    "housing": "危房改造", "relocation": "易地扶贫搬迁", "social_security": "社会保障兜底",
}
MONITORING_TYPES = {  # 防返贫监测对象
    "unstable": "脱贫不稳定户", "edge": "边缘易致贫户", "sudden_hardship": "突发严重困难户",
}
# Yes or no as lists and cadres write them (an insurance column: 是/否, 已参保/未参保).
YES_WORDS = ("yes", "true", "1", "y", "是", "已参保", "参保", "已参加", "参加")
NO_WORDS = ("no", "false", "0", "n", "否", "未参保", "未参加", "不参加")
HOUSING_GRADES = ("A", "B", "C", "D")
WORKING_LABOUR = ("normal", "skilled")


def code_of(value: str, codes: dict[str, str]) -> str | None:
    """Accept the code, its Chinese label, or its English label (any case): what an English
    reader's error lists as known must be accepted too."""
    value = (value or "").strip()
    if value in codes:
        return value
    return _by_label(codes).get(value) or _by_english_label(codes).get(value.lower())


# The catalogue's label prefix of each table (its English labels are read from the catalogue).
_PREFIXES = {id(RELATIONS): "relation", id(LABOUR): "labour", id(HEALTH): "health", id(SCHOOL): "school",
             id(CAUSES): "cause", id(HOUSEHOLD_TYPES): "household_type"}
_ENGLISH: dict[int, dict[str, str]] = {}


def _by_english_label(codes: dict[str, str]) -> dict[str, str]:
    """The codes of a table by their English labels, lower-cased (read once, when first needed)."""
    found = _ENGLISH.get(id(codes))
    if found is None:
        prefix = _PREFIXES.get(id(codes))
        labels = _packaged_labels() if prefix else {}
        found = _ENGLISH[id(codes)] = {labels[f"{prefix}.{c}"]["en"].lower(): c for c in reversed(list(codes))
                                       if f"{prefix}.{c}" in labels and labels[f"{prefix}.{c}"].get("en")}
    return found


@lru_cache(maxsize=1)
def _packaged_labels() -> dict[str, dict[str, str]]:
    from config import CONFIG_DIR, load_catalogue
    return load_catalogue(CONFIG_DIR)


_LABELS: dict[int, tuple[dict, dict[str, str]]] = {}


def _by_label(codes: dict[str, str]) -> dict[str, str]:
    """The codes of a table by their labels (the first code of a label), built once per table (the
    tables are this module's constants)."""
    cached = _LABELS.get(id(codes))
    if cached is None or cached[0] is not codes:
        cached = _LABELS[id(codes)] = (codes, {label: code for code, label in reversed(codes.items())})
    return cached[1]


# python-stdnum's validation exceptions, by class, as our own catalogue keys (id_problem.*).
_ID_PROBLEMS = {InvalidChecksum: "checksum", InvalidLength: "length", InvalidFormat: "format",
                InvalidComponent: "component"}
LABEL_PREFIX = {"relation": "relation", "labour_ability": "labour", "health": "health", "school_enrolment": "school"}


def id_problem(exc: ValidationError, number: str) -> Msg:
    """Why python-stdnum refused an ID number, as a catalogue text (its own message is English)."""
    kind = next((name for cls, name in _ID_PROBLEMS.items() if isinstance(exc, cls)), "invalid")
    if kind == "component":
        kind = "region" if _birth_date_valid(number) else "birth_date"
    return Msg(f"id_problem.{kind}")


def checked_id(number: str) -> str:
    """The ID number, compacted, if its check digit, birth date and county code are sound.

    python-stdnum's `ric.validate` also refuses a county code that did not exist in the holder's
    birth year (it assumes the number was assigned at birth). People first given a number after
    their county's code changed (宁都县 is 360730 only since the late 1990s) hold exactly such
    numbers, common among rural elders: refusing them would be wrongful non-identification. Such a
    code is accepted here and reported by `county_code_to_confirm` for the cadre to confirm.
    The same checks as python-stdnum's, with its county table read once per code and year (a
    registry's import checks millions of numbers from a few hundred counties)."""
    compact = "".join((number or "").split()).upper()
    if len(compact) != 18:
        raise InvalidLength()
    if not (compact.isascii() and compact[:17].isdigit()):
        raise InvalidFormat()
    if compact[-1] != ric.calc_check_digit(compact):
        raise InvalidChecksum()
    birth_date(compact)
    if not county_code_known(compact[:6]):
        raise InvalidComponent()
    return compact


def birth_date(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidComponent() from None


@lru_cache(maxsize=None)
def county_code_known(code: str) -> bool:
    """Whether a six-digit code was a county code at any time (a known province with an unknown
    county, 362199, is not one)."""
    from stdnum import numdb
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code[:6]))


@lru_cache(maxsize=65536)
def _county_existed(code: str, year: int) -> bool:
    try:
        ric.get_birth_place(f"{code}{year:04d}0101000X")
        return True
    except ValidationError:
        return False


def county_code_to_confirm(number: str) -> str | None:
    """Why a sound number's county code is for the cadre to confirm: "later", it did not yet exist
    in the holder's birth year (a number first given after the code changed); "abolished", it no
    longer did. None: it existed then (or it is no county code at all, which `checked_id` refuses)."""
    code, year = number[:6], birth_date(number).year
    if not county_code_known(code) or _county_existed(code, year):
        return None
    return "later" if any(_county_existed(code, y) for y in range(year + 1, date.today().year + 1)) else "abolished"


def _birth_date_valid(number: str) -> bool:
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return True


# The national system's Chinese column headers of a household list, as our keys (a list file may
# use either).
HOUSEHOLD_HEADERS = {
    "户编号": "household_code", "户号": "household_code", "户主姓名": "household", "分组": "household",
    "村编码": "village", "村代码": "village", "行政区划代码": "village", "村": "village",
    "户状态": "stage", "贫困户状态": "stage", "脱贫状态": "stage", "阶段": "stage", "姓名": "name",
    "身份证号": "id_number", "身份证号码": "id_number", "证件号码": "id_number", "与户主关系": "relation",
    "劳动能力": "labour_ability", "劳动技能": "labour_ability", "健康状况": "health",
    "在校生状况": "school_enrolment", "在校情况": "school_enrolment",
    "是否参加城乡居民基本医疗保险": "insured_basic", "基本医疗保险": "insured_basic",
    "城乡居民基本医疗保险": "insured_basic", "是否参加基本医疗保险": "insured_basic", "基本医保": "insured_basic",
    "是否参加大病保险": "insured_critical", "大病保险": "insured_critical", "城乡居民大病保险": "insured_critical", "联系电话": "phone",
    "手机号码": "phone", "手机号": "phone", "电话": "phone", "银行账号": "bank_account", "银行卡号": "bank_account",
    "开户银行卡号": "bank_account", "一卡通账号": "bank_account", "致贫原因": "causes", "主要致贫原因": "causes", "贫困户属性": "household_type",
}
