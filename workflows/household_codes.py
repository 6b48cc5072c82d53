"""Code lists of the household record (domain-research.md §1.5). Labels are in the message catalogue (config/locale/)."""
import re
from datetime import date
from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from engine.domain.errors import Msg
from engine.domain.regions import ascii_digits

CAUSES = {  # 致贫原因
    "illness": "因病", "disability": "因残", "schooling": "因学", "disaster": "因灾",
    "lack_land": "缺土地", "lack_water": "缺水", "lack_skills": "缺技术", "lack_labour": "缺劳力",
    "lack_capital": "缺资金", "poor_transport": "交通条件落后", "lack_motivation": "自身发展动力不足",
    "marriage": "因婚", "other": "其他",
}
HOUSEHOLD_TYPES = {  # 贫困户属性
    "general": "一般贫困户", "dibao": "低保户", "wubao": "五保户", "dibao_poor": "低保贫困户",
}
LABOUR = {  # 劳动技能 (the national system's 劳动能力 since 2020 adds 弱劳动力或半劳动力)
    "normal": "普通劳动力", "skilled": "技能劳动力", "weak": "弱劳动力或半劳动力", "lost": "丧失劳动力",
    "none": "无劳动力",
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
    reader's error lists as known must be accepted too; and the national information system's own
    words for it (NATIONAL_WORDS, national_code)."""
    value = (value or "").strip()
    if value in codes:
        return value
    return _by_label(codes).get(value) or _by_english_label(codes).get(value.lower()) or national_code(value, codes)


def measure_code(word: str) -> str | None:
    """A measure's category: its code or label (code_of), or the start of one label alone (产业 for
    产业帮扶, 搬迁 is not one: a label's start, at least two characters)."""
    code = code_of(word, MEASURES)
    word = (word or "").strip()
    if code is None and len(word) >= 2:
        starting = [c for c, label in MEASURES.items() if label.startswith(word)]
        code = starting[0] if len(starting) == 1 else None
    return code


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


class OldNumber(InvalidLength):
    """A 15-digit ID number of the first generation (issued until 2004): its holder has an 18-digit one."""


def id_problem(exc: ValidationError, number: str) -> Msg:
    """Why python-stdnum refused an ID number, as a catalogue text (its own message is English); a
    wrong length says how many characters it has (never the number)."""
    if excel_scientific(number or ""):
        return Msg("id_problem.scientific")
    if isinstance(exc, OldNumber):
        return Msg("id_problem.old_15")
    kind = next((name for cls, name in _ID_PROBLEMS.items() if isinstance(exc, cls)), "invalid")
    if kind == "component":
        kind = "region" if _birth_date_valid(number) else "birth_date"
    if kind == "length":
        return Msg("id_problem.length", {"count": len(compact_id(number))})
    return Msg(f"id_problem.{kind}")


# What a typed or pasted ID number carries that is no part of it: zero-width characters (a copy from
# a web page or a chat), a leading apostrophe (typed to keep it as text in a spreadsheet); full-width
# digits and Ｘ (typed with a Chinese input method) are the digits they show.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_DIGITS = {0xFF10 + d: ord("0") + d for d in range(10)}          # ２０１７ typed with a Chinese input method
_FULL_WIDTH = _DIGITS | {ord("Ｘ"): ord("X"), ord("ｘ"): ord("X")}
_APOSTROPHES = "'＇‘’`"


def compact_id(number: str) -> str:
    """An ID number as checked and stored: without spaces, zero-width characters or a leading
    apostrophe, full-width digits as digits, x as X."""
    if number and number.isascii() and number.isalnum():     # as most are typed: nothing but to upper-case
        return number.upper()
    compact = "".join((number or "").translate(_ZERO_WIDTH).translate(_FULL_WIDTH).split())
    return compact.lstrip(_APOSTROPHES).upper()


def code_digits(typed: str) -> str:
    """A code (a household's, a region's) typed with spaces, full-width digits or a leading apostrophe as
    the digits it shows, read as an ID number is (`compact_id`); anything else (a name) as given."""
    compact = compact_id(typed)
    return compact if ascii_digits(compact) else typed


def checked_id(number: str) -> str:
    """The ID number, compacted, if its check digit, birth date and county code are sound.

    python-stdnum's `ric.validate` also refuses a county code that did not exist in the holder's
    birth year (it assumes the number was assigned at birth). People first given a number after
    their county's code changed (宁都县 is 360730 only since the late 1990s) hold exactly such
    numbers, common among rural elders: refusing them would be wrongful non-identification. Such a
    code is accepted here and reported by `county_code_to_confirm` for the cadre to confirm.
    The same checks as python-stdnum's, with its county table read once per code and year (a
    registry's import checks millions of numbers from a few hundred counties)."""
    compact = compact_id(number)
    if len(compact) == 15 and compact.isascii() and compact.isdigit():
        raise OldNumber()
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


_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+]?\d+$")


def excel_scientific(value: str) -> bool:
    """Whether a cell of a long number reads as a spreadsheet shows a number past 11 digits
    (3.6073E+17): the number was saved as such, its last digits lost."""
    return bool(value) and ("E" in value or "e" in value) and _SCIENTIFIC.match("".join(value.split())) is not None


def birth_date(number: str) -> date:
    return _birth_date(number[6:14])


@lru_cache(maxsize=1 << 16)     # a day each: a century's days at most (each member's is asked 4 times)
def _birth_date(digits: str) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
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


def county_code_current(code: str) -> bool:
    """Whether a six-digit county code is in use this year."""
    return _county_existed(code, date.today().year)


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
    "村编码": "village", "村代码": "village", "行政区划代码": "village",
    "户状态": "stage", "贫困户状态": "stage", "脱贫状态": "stage", "阶段": "stage", "姓名": "name",
    "身份证号": "id_number", "身份证号码": "id_number", "证件号码": "id_number", "与户主关系": "relation",
    "劳动能力": "labour_ability", "劳动技能": "labour_ability", "健康状况": "health",
    "在校生状况": "school_enrolment", "在校情况": "school_enrolment",
    "是否参加城乡居民基本医疗保险": "insured_basic", "基本医疗保险": "insured_basic",
    "城乡居民基本医疗保险": "insured_basic", "是否参加基本医疗保险": "insured_basic", "基本医保": "insured_basic",
    "是否参加大病保险": "insured_critical", "大病保险": "insured_critical", "城乡居民大病保险": "insured_critical", "联系电话": "phone",
    "手机号码": "phone", "手机号": "phone", "电话": "phone", "银行账号": "bank_account", "银行卡号": "bank_account",
    "开户银行卡号": "bank_account", "一卡通账号": "bank_account", "致贫原因": "causes", "主要致贫原因": "causes", "贫困户属性": "household_type",
    # the national system's exports: the state as 脱贫属性, the village and township by name, 在户; a
    # village's name (or a 村 column, which may hold either) is read as its village where the file has no
    # code column (the list reader's stand-in), and checked against the code where it has
    "脱贫属性": "stage", "脱贫标志": "stage", "行政村": "village_name", "村名": "village_name",
    "村名称": "village_name", "行政村名称": "village_name", "所在村": "village_name", "村": "village_name",
    "乡（镇）": "township", "乡(镇)": "township", "乡镇": "township",
    "乡镇名称": "township", "乡镇（街道）": "township", "是否在户": "active", "在户情况": "active",
    # a member's state under other names (死亡, 迁出 in it leave the member out, as 在户 否 does)
    "人员状态": "active", "成员状态": "active", "户籍状态": "active", "人口状态": "active", "家庭成员状态": "active",
    # the year a household exited, where the export gives it a column of its own; the year its exit was
    # planned for (计划脱贫年度), no exit, kept apart: from that year its exit's proposal is on the lists of work
    "脱贫年度": "exit_year", "脱贫年份": "exit_year", "退出年度": "exit_year",
    "计划脱贫年度": "planned_exit_year", "计划脱贫年份": "planned_exit_year",
    # the household's first pairing cadre, by name, and their phone (to tell namesakes apart): every
    # 建档立卡 export gives them (workflows/import_pairings.py)
    "帮扶责任人": "pairing_cadre", "帮扶责任人姓名": "pairing_cadre", "第一帮扶责任人": "pairing_cadre",
    "帮扶责任人联系电话": "pairing_cadre_phone", "帮扶责任人电话": "pairing_cadre_phone",
    "帮扶责任人手机号": "pairing_cadre_phone", "帮扶责任人手机号码": "pairing_cadre_phone",
}


# --- the national system's words (全国扶贫开发信息系统 exports) ------------------------------------
# Its exports name a member's relation, labour ability, health and schooling, and a household's
# causes and state, in words of their own; each listed word means the code it maps to here. A word
# neither a code, a label nor listed is refused, naming the accepted codes (never guessed).

NATIONAL_RELATIONS = {
    "本人": "head", "户主本人": "head",
    "之妻": "spouse", "之夫": "spouse", "妻子": "spouse", "丈夫": "spouse", "妻": "spouse", "夫": "spouse",
    "之子": "child", "之女": "child", "儿子": "child", "女儿": "child", "子": "child", "女": "child",
    "之父": "parent", "之母": "parent", "父亲": "parent", "母亲": "parent",
    "之孙子": "grandchild", "之孙女": "grandchild", "之外孙子": "grandchild", "之外孙女": "grandchild",
    "孙子": "grandchild", "孙女": "grandchild", "外孙子": "grandchild", "外孙女": "grandchild",
    "之儿媳": "daughter_in_law", "儿媳": "daughter_in_law", "儿媳妇": "daughter_in_law",
    "之女婿": "other", "女婿": "other",     # no son-in-law code: other (the word is not kept)
    "之兄弟姐妹": "sibling", "兄弟姐妹": "sibling", "之兄": "sibling", "之弟": "sibling", "之姐": "sibling",
    "之妹": "sibling", "兄弟": "sibling", "姐妹": "sibling", "哥哥": "sibling", "弟弟": "sibling",
    "姐姐": "sibling", "妹妹": "sibling",
}
NATIONAL_LABOUR = {
    "普通劳动力": "normal", "技能劳动力": "skilled", "弱劳动力或半劳动力": "weak", "弱劳动力": "weak",
    "半劳动力": "weak", "丧失劳动力": "lost", "丧失劳动能力": "lost", "无劳动力": "none", "无劳动能力": "none",
}
NATIONAL_HEALTH = {
    "健康": "healthy", "良好": "healthy", "长期慢性病": "chronic", "慢性病": "chronic", "患有大病": "serious",
    "大病": "serious", "重病": "serious", "残疾": "disabled", "残疾人": "disabled",
}
# One health field holds one code: a value naming several (残疾,长期慢性病) is stored as the most
# serious of them, in this order (a serious illness first: it is what the health-assistance measures
# and the exit standard's 基本医疗 check look at first).
HEALTH_ORDER = ("serious", "disabled", "chronic", "healthy")
NATIONAL_SCHOOL = {
    "非在校生": "none", "非在校": "none", "不在校": "none", "学龄前儿童": "none", "学龄前": "none",
    "在校生": "enrolled", "在校": "enrolled", "学前教育": "enrolled", "幼儿园": "enrolled",
    "辍学": "dropped_out", "失学": "dropped_out", "因病免学": "exempt", "免学": "exempt", "送教上门": "exempt",
}
# A grade or school level (小学, 七年级, 高中二年级, 中职, 大专, 本科…): in school.
_IN_SCHOOL = re.compile(r"^(学前教育|学前班|小学|初中|初级中学|高中|普通高中|中职|中专|职高|技校|技工学校|高职高专|高职|大专|专科|"
                        r"本科|大学|研究生|硕士研究生|博士研究生|硕士|博士|特殊教育|特教|义务教育)?"
                        r"([一二三四五六七八九十]|[1-9])?年级$|^(学前教育|小学|初中|高中|中职|中专|职高|技校|高职高专|高职|大专|"
                        r"专科|本科|大学|研究生|硕士研究生|博士研究生|硕士|博士|特殊教育)(研究生)?(及以上|以上)?(在读|在校|阶段)?$")
# The national form's 文化程度 words that also read as a school level (小学, 初中…): in a 在校生状况 cell
# on someone far past school age, a column pasted one to the side.
EDUCATION_WORDS = frozenset({"小学", "初中", "高中", "中专", "中职", "职高", "技校", "大专", "专科", "本科", "大学",
                             "研究生", "硕士", "博士", "大专及以上", "本科及以上", "研究生及以上", "大专以上", "本科以上"})
NATIONAL_CAUSES = {"缺劳动力": "lack_labour", "缺乏劳动力": "lack_labour", "缺技能": "lack_skills",
                   "交通落后": "poor_transport", "缺少资金": "lack_capital", "自身发展力不足": "lack_motivation"}
# Separators of several values in one cell: 因病、缺资金 / 残疾,长期慢性病.
SEPARATORS = re.compile("[;；、,，/／]")
_NOTE = re.compile(r"[(（][^)）]*[)）]\s*$")       # a trailing note in brackets: 已脱贫（2017年）
_NOTES = re.compile(r"[(（][^)）]*[)）]")           # any note in brackets: 残疾（二级）,长期慢性病
_YEAR_FIRST = re.compile(r"^(19|20)\d\d年(度)?")     # 2017年已脱贫: the year before the word


# 五保供养 became 特困人员救助供养 in 2014 (国务院《社会救助暂行办法》): the national system's 贫困户属性
# says 特困供养贫困户 where older lists say 五保户.
NATIONAL_HOUSEHOLD_TYPES = {"特困供养贫困户": "wubao", "特困供养户": "wubao", "五保贫困户": "wubao",
                            "特困户": "wubao"}      # (一般农户 is an ordinary, non-poor household: refused)


def cause_words(cell: str) -> list[str]:
    """The causes a cell names: split at the separators (、，,；;/), and a part no cause reads at its
    spaces too (因病 因残), so an English label (lack of labour) stays whole."""
    words = []
    for part in (p.strip() for p in SEPARATORS.split(cell)):
        if part and code_of(part, CAUSES) is None and len(part.split()) > 1:
            words.extend(part.split())
        elif part:
            words.append(part)
    return words


def _national_tables() -> dict[int, dict[str, str]]:
    return {id(RELATIONS): NATIONAL_RELATIONS, id(LABOUR): NATIONAL_LABOUR, id(HEALTH): NATIONAL_HEALTH,
            id(SCHOOL): NATIONAL_SCHOOL, id(CAUSES): NATIONAL_CAUSES, id(HOUSEHOLD_TYPES): NATIONAL_HOUSEHOLD_TYPES}


def national_code(value: str, codes: dict[str, str]) -> str | None:
    """The code of a value in the national system's words, or None. A relation 之X not listed is
    `other`; a grade or school level is `enrolled`; a health value naming several is the most serious
    of them (HEALTH_ORDER)."""
    words = _national_tables().get(id(codes))
    if words is None:
        return None
    value = "".join(value.split())
    if value in words:
        return words[value]
    if codes is HEALTH and _NOTES.search(value):          # 残疾（二级）, 患有大病（尿毒症）: the note is a detail
        return national_code(_NOTES.sub("", value), codes)
    if codes is HEALTH and SEPARATORS.search(value):
        found = [code_of(part, HEALTH) for part in SEPARATORS.split(value) if part.strip()]
        if found and None not in found:
            return min(found, key=HEALTH_ORDER.index)
        return None
    if codes is SCHOOL and _IN_SCHOOL.match(value):
        return "enrolled"
    if codes is RELATIONS and value.startswith("之") and len(value) > 1:
        return code_of(value[1:], RELATIONS) or "other"      # 之配偶, 之儿子: the word after 之; 之侄子: other
    return None


# A member's 在户 (in the household): present, or left (deceased, moved out, struck off). One who
# left is not imported; a word neither is refused (never taken as present).
PRESENT_WORDS = ("是", "在户", "正常", "外出", "外出务工", "yes", "y", "true", "1")    # 外出: away, still a member
LEFT_WORDS = ("否", "不在户", "死亡", "已死亡", "去世", "已故", "迁出", "已迁出", "减员", "已减员", "注销",
              "已注销", "销户", "外嫁", "出嫁", "no", "n", "false", "0")


def member_present(value: str) -> bool | None:
    """Whether a 在户 cell says the member is in the household (a blank one: yes), None: a word of
    neither kind."""
    if not value:
        return True
    value = "".join(value.split()).lower()
    if not value or value in PRESENT_WORDS:
        return True
    return False if value in LEFT_WORDS else None


# A household's state as the national system words it (户状态, 脱贫属性, 贫困户状态), as a stage.
STAGE_WORDS = {"未脱贫": "assisted", "贫困户": "assisted", "已脱贫": "exited", "脱贫": "exited", "脱贫户": "exited",
               "返贫": "assisted", "返贫户": "assisted",       # a return to poverty: assisted again (DOMAIN §3)
               "脱贫不稳定户": "consolidated",                 # monitored inside the transition period
               "脱贫享受政策": "exited", "脱贫不享受政策": "exited",   # exited, still or no longer under the policies
               "已剔除": "removed", "剔除": "removed", "已销户": "removed", "销户": "removed"}
# The stages a registered case may be in for a word of the national system (a file compared with it).
STAGE_WORDS_COVER = {"未脱贫": ("identified", "assisted"), "贫困户": ("identified", "assisted"),
                     "已脱贫": ("exited", "consolidated"), "脱贫": ("exited", "consolidated"),
                     "脱贫户": ("exited", "consolidated"), "脱贫享受政策": ("exited", "consolidated"),
                     "脱贫不享受政策": ("exited", "consolidated")}
# Monitoring objects never registered as poor: no stage of a household case to start in.
NOT_A_STAGE = ("边缘易致贫户", "突发严重困难户", "边缘户")


def stage_word(value: str) -> str:
    """A stage cell as its word: spaces, a trailing note (已脱贫（2017年）) and a year before it (2017年已脱贫)
    left out."""
    return _YEAR_FIRST.sub("", _NOTE.sub("", "".join((value or "").split()).translate(_DIGITS)))


# --- the year a household exited (脱贫年度) -------------------------------------------------------------
# The national system notes it in the stage cell (已脱贫（2017年）, 2017年已脱贫) or gives it a column
# (脱贫年度); the years a household may have exited in are engine/domain/exit_years.py's.
# A year, as a stage cell's note or an exit-year cell writes it: 2017, 2017年, 2017年度, 2017年脱贫, or a
# date of that year (2017-12-20, 2017/12, 2017年12月20日: a cell holding the day of the exit).
_YEAR = re.compile(r"^(\d{4})(?:年度?|年?度?脱贫|年\d{1,2}月(?:\d{1,2}日)?|[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?$")


@lru_cache(maxsize=4096)          # a registry's stage cells are a few words and years, over a million rows
def noted_years(value: str) -> tuple[str, ...]:
    """The years a stage cell notes, as written: the year before its word (2017年已脱贫, 2017年度已脱贫:
    "2017年") and a note holding a digit (已脱贫（2017年）: "2017年"; 已脱贫（17年）: "17年", for the import
    to refuse, never to drop). A note without a digit (已脱贫（享受政策）) notes no year."""
    compact = "".join((value or "").split()).translate(_DIGITS)
    note = _NOTE.search(compact)
    inner = note.group(0)[1:-1] if note else ""
    first = _YEAR_FIRST.match(_NOTE.sub("", compact))
    return tuple(said for said in (first and first.group(0), inner if any(c.isdigit() for c in inner) else None)
                 if said)


@lru_cache(maxsize=4096)
def year_of(value: str) -> int | None:
    """The year a cell says (2017, 2017年, 2017年度, 2017-12-20…), None if it says none it can be read as."""
    found = _YEAR.match("".join((value or "").split()).translate(_DIGITS))
    return int(found.group(1)) if found else None


def sex_of(number: str) -> str:
    """A checked 18-digit ID number's holder's sex, read from its 17th digit (odd: male, even: female)."""
    return "male" if int(number[16]) % 2 else "female"
