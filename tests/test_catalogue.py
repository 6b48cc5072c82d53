"""The message catalogue (config/locale/*/LC_MESSAGES/*.po): complete in both languages, and holding
every key the code and the templates use; the Chinese texts read as Chinese (codes aside)."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from config import CONFIG_DIR, LANGUAGES, load_catalogue, load_config
from engine.domain.errors import BadInput, Codes, JingzhunError, Msg, render_failure, translator

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for p in ROOT.rglob("*.py")
           if not {"tests", "migrations", "bench", ".venv", "build"} & set(p.relative_to(ROOT).parts)]
TEMPLATES = [*(ROOT / "engine" / "templates").glob("*"), *(ROOT / "notifications" / "templates").glob("*")]

ERRORS = r"(?:RuleViolation|BadInput|NotFound|AuthError|JingzhunError|SchemaOutdated)"
# What the code names, by pattern: an error's code is the key `msg.<code>`; a check's failure `fail.<code>`.
KEY_PATTERNS = (
    (re.compile(ERRORS + r'\(\s*"([a-z_][\w.]*)"'), "msg."),
    (re.compile(r'(?:\bconfig\.label|(?<![.\w])(?:label|L))\(\s*"([a-z_][\w.]*[a-z_])"'), ""),
    (re.compile(r'\bMsg\(\s*"([a-z_][\w.]*)"'), ""),
    (re.compile(r'\bMsg\(\s*f"([a-z_][\w.]*)\.\{'), "prefix:"),
)
# A check's unmet condition: ("code", {params}) or ("code", _income(...)) in workflows/.
FAILURE = re.compile(r'[\[(]\(\s*"([a-z_]+)",\s*(?:\{|_income\()')
TEMPLATE_KEY = re.compile(r"""\bt\(\s*'([a-z_][\w.]*[a-z_])'\s*[,)]""")
CODES = re.compile(r'\bCodes\(\s*"([a-z_][\w.]*)",\s*\(((?:\s*"[\w]+",?)+)\s*\)')


def _po(locale: str) -> dict[str, str]:
    texts = {}
    for path in sorted((CONFIG_DIR / "locale" / locale / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as fh:
            texts.update({str(m.id): str(m.string) for m in read_po(fh, locale=locale) if m.id})
    return texts


@pytest.fixture(scope="module")
def catalogue() -> dict[str, dict[str, str]]:
    return load_catalogue(CONFIG_DIR)


def used_keys() -> dict[str, set[str]]:
    """key -> the files using it, as far as the source names it literally."""
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        for pattern, prefix in KEY_PATTERNS:
            for key in pattern.findall(text):
                found.setdefault(prefix + key, set()).add(name)
        if path.parent.name == "workflows":
            for code in FAILURE.findall(text):
                found.setdefault(f"fail.{code}", set()).add(name)
        for prefix, codes in CODES.findall(text):
            for code in re.findall(r'"(\w+)"', codes):
                found.setdefault(f"{prefix}.{code}", set()).add(name)
    for path in TEMPLATES:
        for key in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")):
            found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_key_is_in_both_languages():
    zh, en = _po(LANGUAGES["zh"]), _po(LANGUAGES["en"])
    assert sorted(set(zh) - set(en)) == [], "in zh_CN only"
    assert sorted(set(en) - set(zh)) == [], "in en only"


def test_every_key_the_code_and_templates_use_is_in_the_catalogue(catalogue):
    used = used_keys()
    assert len(used) > 300, "the scan found too little: are the patterns still right?"
    prefixes = {k.partition(":")[2] for k in used if k.startswith("prefix:")}
    missing = {k: sorted(v) for k, v in used.items() if not k.startswith("prefix:") and k not in catalogue}
    assert missing == {}
    assert [p for p in prefixes if not any(k.startswith(p + ".") for k in catalogue)] == []


def test_no_text_is_empty_or_its_own_key(catalogue):
    for lang in ("zh", "en"):
        bad = [k for k, v in catalogue.items() if not v[lang].strip() or v[lang] == k]
        assert bad == [], lang


def _blank(template: str, value: str = "") -> str:
    """The template's own words: every {placeholder} filled with `value`."""
    parts = string.Formatter().parse(template)
    return "".join(lit + (value if field is not None else "") for lit, field, _, _ in parts)


# What a Chinese text may hold in Latin letters: commands, options, file and parameter names, codes.
ALLOWED = [re.compile(p) for p in (
    r"`[^`]*`",                                       # anything quoted as code
    r"jingzhun(?: +(?:--)?\w[\w-]*)*",                # a command to type
    r"--[a-z][\w-]*",                                 # an option
    r"[A-Za-z][\w-]*(?:[./_][\w-]+)+",                # file, parameter and code names: policy.yaml, calendar.years
    r"\b[A-Z][A-Z0-9_:-]+\b",                         # CSV, UTC, UTF-8, JINGZHUN_TOKEN, CODE:ROLE:UNIT
    r"\b[a-z]+(?:-[a-z]+)+\b",                        # package names: chinese-calendar
    r"\b(?:SQLite|PostgreSQL|approve|reject|zh|en)\b",  # proper names; codes a user types
    r"「[^」]*」",                                     # literal input quoted for the reader to type
)]
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _english_words(text: str) -> list[str]:
    for pattern in ALLOWED:
        text = pattern.sub(" ", text)
    return LATIN_WORD.findall(text)


def test_chinese_texts_hold_no_english_word(catalogue):
    found = {k: _english_words(_blank(v["zh"], "0")) for k, v in catalogue.items()}
    assert {k: w for k, w in found.items() if w} == {}


def test_english_texts_hold_no_chinese(catalogue):
    """Except the CLI's help (help.*): it names the Chinese column headers a file holds (户编号, 姓名…) and
    the field's own terms (问责, 公示) a reader meets in the national system and on paper."""
    found = {k: v["en"] for k, v in catalogue.items() if CJK.search(_blank(v["en"])) and not k.startswith("help.")}
    assert found == {}


@pytest.fixture(scope="module")
def config():
    return load_config()


def test_every_message_rendered_in_chinese_with_dummy_params_reads_as_chinese(config):
    """A sample render of each msg.* and fail.* through the same code a user meets (codes as values)."""
    bad = {}
    for key, entry in config.labels.items():
        if not key.startswith(("msg.", "fail.")):
            continue
        names = {f for _, f, _, _ in string.Formatter().parse(entry["zh"]) if f}
        params = {name: "9" for name in names}
        text = (JingzhunError(key[4:], **params).render(config, "zh") if key.startswith("msg.")
                else render_failure(config, (key[5:], params), "zh"))
        words = _english_words(text)
        if words:
            bad[key] = (text, words)
    assert bad == {}


def test_code_params_are_shown_by_their_labels(config):
    err = BadInput("member.bad_id", member=Msg("where.member", {"index": 2}), id="1101",
                   problem=Msg("id_problem.checksum"))
    assert err.render(config) == "第 2 名成员的身份证号（1101）无效：校验码不对"
    assert "The number" not in err.render(config, "en") and "check digit" in err.render(config, "en")
    refusal = JingzhunError("pairing.capacity", person="pc", slot="second", count=3, maximum=3, case=1,
                            room=Msg("s56.pairing.no_room", {"village": "360730100201"}))
    assert "作为第二帮扶责任人已包保" in refusal.render(config)
    wrong = JingzhunError("auth.wrong_role", person="p", action="identification.appraisal", roles="township_head",
                          region="36")
    assert "identification" not in wrong.render(config) and "贫困识别" in wrong.render(config)
    codes = BadInput("member.bad_code", member="m", field="relation", value="x", known=Codes("relation", ("head",)))
    assert "户主" in codes.render(config) and "head" in codes.render(config, "en")


def _with_check_digit(first17: str) -> str:
    from stdnum.cn import ric
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize("number, problem", [
    ("110101199003077777", "checksum"), ("11010119900307777", "length"), ("1101011990030777X7", "format"),
    (_with_check_digit("11010119901307777"), "birth_date"), (_with_check_digit("99010119900307123"), "region")])
def test_python_stdnum_refusals_become_our_own_texts(config, number, problem):
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError
    from workflows.household_codes import id_problem
    with pytest.raises(ValidationError) as refused:
        ric.validate(number)
    assert id_problem(refused.value, number).key == f"id_problem.{problem}"
    err = BadInput("member.bad_id", member=Msg("where.member", {"index": 2}), id=number,
                   problem=id_problem(refused.value, number))
    assert _english_words(err.render(config)) == [] and "The number" not in err.render(config, "en")


def _alert_context(config, lang: str, level: int, overdue: int) -> dict:
    t = translator(config, lang)
    return dict(lang=lang, t=t, level=level, level_to=config.role_label("township_head", lang), alert_id=5,
                deadline_id=7, rule=t("rule.assistance_plan"), case=3, title="张三户", case_kind=t("kind.household"),
                region="梅江村（360000000001）" if lang == "zh" else "梅江村 (360000000001)",
                procedure=t("procedure.assistance"), step=t("step.plan"),
                subject_label="", due_on="2019-01-01", overdue_since="2019-01-01 00:00", days_overdue=overdue,
                days_left=2, days_unit=t("deadline.days.working"), days_unit_one=t("deadline.day.working"),
                counting=t("deadline.counting.working"), provisional=True, provisional_years="2019", owner="",
                needs=t("deadline.nothing_pending"), holds=[t("rule.assistance_plan")], holds_more=2, next_level=2, next_level_on="2019-01-09 08:00",
                next_level_to=config.role_label("county_head", lang), next_level_due=False,
                case_url="http://127.0.0.1:8000/cases/7")


@pytest.mark.parametrize("fmt", ["txt", "md"])
def test_alerts_and_digests_read_in_one_language(config, fmt):
    from notifications.outbox import render
    for lang in ("zh", "en"):
        t = translator(config, lang)
        digest = dict(t=t, day="2019-01-02", name="张三", code="zs", total=3, at="2019-01-02 08:00", provisional=1,
                      by_rule=[(t("rule.assistance_plan"), 3)],
                      oldest=[dict(case=3, title="张三户", rule=t("rule.assistance_plan"), step=t("step.plan"),
                                   due_on="2019-01-01", days=5, unit=t("deadline.days.calendar"), owner=None,
                                   provisional=True)])
        pages = [render("alert", lang, fmt, _alert_context(config, lang, level, overdue))
                 for level, overdue in ((-1, 0), (0, 0), (0, 2), (1, 5))] + [render("digest", lang, fmt, digest)]
        for subject, body in pages:
            text = f"{subject}\n{body}".replace("张三户", "").replace("张三", "").replace("梅江村", "")
            text = re.sub(r"https?://[^\s)]+", "", text)          # the case's address is no word
            if lang == "zh":
                assert _english_words(text) == [], text
            else:
                assert not CJK.search(text), text


def test_every_action_a_refusal_names_is_said_in_words():
    """「alerts sweep」, 「sample draw」…: an action a refusal names (越权…不能执行「…」) is its label in
    both languages, never the command's own words."""
    import re
    from pathlib import Path
    from config import load_config
    from engine.domain.errors import action_label
    config = load_config()
    root = Path(__file__).resolve().parents[1]
    called = re.compile(r'(?:require_role|refuse_read_only|require_admin|require_reader)\([^()]*?(?:\([^()]*\)[^()]*?)*'
                        r'"([a-z][a-z_ -]+)"\s*\)')
    named = re.compile(r'AuthError\([^)]*action="([a-z][a-z_ .-]+)"')
    actions = set()
    for folder in ("engine", "workflows", "entrypoints", "notifications"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            actions |= set(called.findall(text)) | set(named.findall(text))
    assert len(actions) > 20
    unsaid = sorted(a for a in actions if action_label(config, a, "zh") == a)      # both languages: test above
    assert unsaid == []
