"""The assessment as pictures: the five charts of a report (exit progress over time, incidence by
village, disbursement by county, overdue by unit, the county ranking) and the self-contained HTML
page that holds them (engine/templates/assessment.html: no script, no stylesheet or font fetched)."""
from __future__ import annotations

from typing import Any, Callable

from markupsafe import Markup

from engine.domain.errors import joined, translator

from .charts import Bar, bar_chart, line_chart

CHARTS = ("exits", "incidence", "disbursement", "overdue", "ranking")


def _pct(value: float | None, t: Callable[..., str]) -> str:
    return t("assess.not_recorded") if value is None else f"{value:.2f}%"


def _name(row: dict[str, Any]) -> str:
    return row.get("name") or row.get("code") or "-"


class Words:
    """What of an assessment is said in words rather than as a figure, the same on the page, in the
    offline report, the workbook and the terminal: a county's rate that villages without a recorded
    population leave uncomputed, a part not scored, and how each county's score was reckoned."""

    def __init__(self, t: Callable[..., str], lang: str):
        self.t, self.lang = t, lang

    def incidence(self, county: dict[str, Any]) -> str | None:
        """Why the county's incidence is not shown (its villages without a population), or None."""
        missing = county.get("villages_unrecorded")
        return self.t("assess.incomplete_villages", count=missing, total=county["villages"]) if missing else None

    def missed(self, samples: dict[str, Any]) -> str | None:
        """Why the missed rate is not shown (sampled villages without a population), or None."""
        missing = samples.get("villages_unrecorded")
        if not missing or samples["missed_pct"] is not None:
            return None
        return self.t("assess.incomplete_sampled", count=missing, total=samples["villages"])

    def part(self, county: dict[str, Any], key: str) -> str | None:
        """A part of the score left out of it (nothing to measure), or None (a figure, or not recorded)."""
        return self.t("assess.not_scored") if key in county.get("not_applicable", ()) else None

    def basis(self, county: dict[str, Any]) -> str:
        """How the county's score was reckoned: over which parts, which ones scored 0 for want of data."""
        t, left_out, zero = self.t, county.get("not_applicable", []), county.get("not_recorded", [])
        parts = len(county["parts"])
        said = [t("assess.score_prorated", parts=parts - len(left_out), weight=county["scored_weight"],
                  total=county["full_weight"]) if left_out else t("assess.score_all", parts=parts)]
        said += [t("assess.not_applicable." + k) for k in left_out]
        if zero:
            said.append(t("assess.scored_zero", parts=joined([t("assess.part." + k) for k in zero], self.lang)))
        return ("；" if self.lang == "zh" else "; ").join(said)


def county_title(data: dict[str, Any], t, key: str) -> str:
    """A heading about the counties ("各县…"); of one county, about that county by its name."""
    counties = data.get("counties") or []
    return t(key + "_one", county=_name(counties[0])) if len(counties) == 1 else t(key)


def exits_chart(data: dict[str, Any], t) -> Markup:
    exits = data["exits"]
    labels = [t("assess.month_n", month=m) for m in range(1, 13)]
    plan = exits["plan"]
    # the year being read as it stands: its months still to come have no exits yet, not the year's total
    as_of = data.get("as_of") or ""
    months = int(as_of[5:7]) if as_of[:4] == str(data.get("period")) else 12
    return line_chart("exits", t("assess.chart_exits"), labels, exits["cumulative"][:months], t("assess.no_data"),
                      target=plan, target_label=t("assess.plan_line", plan=plan) if plan is not None else None)


def incidence_chart(data: dict[str, Any], t) -> Markup:
    villages = [v for v in data["villages"] if v["recorded"]]
    bars = [Bar(_name(v), v["incidence_pct"], _pct(v["incidence_pct"], t), v["above"]) for v in villages]
    threshold = villages[0]["threshold_pct"] if villages else None
    return bar_chart("incidence", t("assess.chart_incidence"), bars, t("assess.no_data"), threshold=threshold,
                     threshold_label=t("assess.threshold_line", threshold=_pct(threshold, t)) if villages else None)


def disbursement_chart(data: dict[str, Any], t) -> Markup:
    bars = [Bar(_name(c), c["funds"]["rate_pct"], _pct(c["funds"]["rate_pct"], t)) for c in data["counties"]
            if c["funds"]["projects"]]
    return bar_chart("disbursement", county_title(data, t, "assess.chart_disbursement"), bars, t("assess.no_data"), top=100)


def overdue_chart(data: dict[str, Any], t, role: Callable[[str], str],
                  link: Callable[[str], str] | None = None) -> Markup:
    """Overdue work by post; each bar a link to its list when `link` (a post's key -> its address) is given."""
    bars = [Bar(t("assess.nobody") if u["key"] == "-" else role(u["key"]), u["count"], str(u["count"]),
                link=link(u["key"]) if link else None) for u in data["overdue"]["unit"]]
    return bar_chart("overdue", t("assess.chart_overdue"), bars, t("assess.no_data"))


def ranking_chart(data: dict[str, Any], t) -> Markup:
    bars = [Bar(f"{c['rank']}. {_name(c)}", c["score"], "-" if c["score"] is None else f"{c['score']:.2f}",
                c["gate"]["passes"] is False) for c in data["counties"]]
    return bar_chart("ranking", county_title(data, t, "assess.chart_ranking"), bars, t("assess.no_data"), top=100)


def charts(data: dict[str, Any], t, role: Callable[[str], str],
           overdue_link: Callable[[str], str] | None = None) -> dict[str, Markup]:
    """The five charts of an assessment, by name (the overdue bars links when `overdue_link` is given)."""
    return {"exits": exits_chart(data, t), "incidence": incidence_chart(data, t),
            "disbursement": disbursement_chart(data, t), "overdue": overdue_chart(data, t, role, overdue_link),
            "ranking": ranking_chart(data, t)}


def render(config, data: dict[str, Any], lang: str = "zh") -> str:
    """The assessment as one self-contained HTML page in `lang`."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from engine.adapters.templates import TEMPLATES
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    t = translator(config, lang)
    role = lambda r: config.role_label(r, lang)  # noqa: E731
    env.globals.update(t=t, role=role, lang=lang, label=lambda p, v: _label(config, lang, p, v),
                       colon="：" if lang == "zh" else ": ", words=Words(t, lang))
    return env.get_template("assessment.html").render(a=data, charts=charts(data, t, role))


def _label(config, lang: str, prefix: str, value: Any) -> str:
    key = f"{prefix}.{value}"
    return config.label(key, lang) if key in config.labels else str(value)


