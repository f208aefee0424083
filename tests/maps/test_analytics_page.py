"""The supervisor's analytics page drawn from a hand-made answer: every word in the deployment's language."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest

from maps.analytics_page import RATES, group_label, render_analytics_page
from maps.i18n import MESSAGES

GROUPS = ("segment", "hour", "day_type", "district", "overdue_bucket", "team", "week")
# Each group's values as the API answers them; segments, districts, teams, hours, buckets and weeks are data.
VALUES = {
    "segment": ["employed", "retired"],
    "hour": ["10", "18"],
    "day_type": ["workday", "rest_day", "public_holiday"],
    "district": ["Centro", "Jesús María"],
    "overdue_bucket": ["0-30", "181+"],
    "team": ["T1", "T2"],
    "week": ["2026-11-02", "2026-11-09"],
    "branch": ["Centro"],
}


def rate(successes: int, trials: int) -> dict[str, Any]:
    """A rate as the API answers it (the interval is not Wilson's here, only plausible)."""
    value = successes / trials if trials else None
    low = None if value is None else max(0.0, value - 0.2)
    high = None if value is None else min(1.0, value + 0.2)
    return {"rate": value, "low": low, "high": high, "successes": successes, "trials": trials}


def answer(group_by: str, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """Two visits per group, one contact (50 %); each week the same; no visit is a wrong address (0 %)."""
    rates = {"contact": rate(1, 2), "promise_to_pay": rate(1, 1), "kept_promise": rate(0, 1)}
    rates["wrong_address"] = rate(0, 2)
    row = {"visits": 2, "contacts": 1, "rate": 0.5, "low": 0.3, "high": 0.7, "rates": rates}
    return {
        "group_by": group_by,
        "from": start,
        "to": end,
        "groups": [{"group": value, **row} for value in VALUES[group_by]],
        "trend": [{"week": w, "visits": 2, "rates": rates} for w in VALUES["week"]],
    }


def visible(page: str) -> str:
    """What a person reads or hears: text between tags (SVG tooltips included) and the charts' aria-labels."""
    labels = " ".join(re.findall(r'aria-label="([^"]*)"', page))
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    return html_lib.unescape(f"{text} {labels}")


@pytest.mark.parametrize("group_by", [*GROUPS, "branch"])
def test_no_english_word_is_left_on_the_zh_cn_page(group_by: str) -> None:
    """In zh-CN every label, title, tooltip and button is Chinese; only data and format names stay Latin."""
    page = render_analytics_page(answer(group_by), GROUPS, lang="zh-CN")
    empty = render_analytics_page({**answer(group_by, "2026-11-02", "2026-11-08"), "groups": []}, GROUPS, lang="zh-CN")
    assert page.startswith('<!DOCTYPE html><html lang="zh-CN">') and "<script" not in page
    # Untranslated group values are data (districts, segments' codes); CSV and GeoPackage are format names; n= is
    # the count's symbol.
    data = [v for v in VALUES[group_by] if group_label("zh-CN", group_by, v) == v]
    for text in (visible(page), visible(empty)):
        for word in sorted(data, key=len, reverse=True):
            text = text.replace(word, " ")
        text = re.sub(r"\bCSV\b|\bGeoPackage\b|\bn=", " ", text)
        assert not re.search(r"[A-Za-z]{3,}", text), text


def test_day_types_and_group_names_read_in_chinese() -> None:
    """By day type in zh-CN: 工作日 and 休息日 label the bars, the table and the tooltips; titles name the group."""
    page = render_analytics_page(answer("day_type"), GROUPS, lang="zh-CN")
    zh = MESSAGES["zh-CN"]
    assert f"<title>走访结果分析（按{zh['analytics.group.day_type']}）</title>" in page
    assert f'<text class="title" x="4" y="16">{zh["analytics.rate.contact"]}（按日期类型）</text>' in page
    assert ">工作日</text>" in page and "<td>休息日</td>" in page and "<td>法定节假日</td>" in page
    # 1 contact in 2 visits: 50 %, interval 0.3-0.7 as 30 %-70 %.
    assert "<title>工作日：50%（30%–70%），2 次中 1 次</title>" in page
    assert "<title>见面率，2026-11-09 当周：50%</title>" in page
    assert "最早的结果 – 最近的结果" in page and '<button type="submit">显示</button>' in page


def test_every_string_of_the_english_page() -> None:
    """In en the page reads as before: rate names, "X by group", tooltips, form, exports; group names in words."""
    page = render_analytics_page(answer("day_type"), GROUPS, lang="en")
    empty = render_analytics_page({**answer("segment", "2026-11-02", "2026-11-08"), "groups": []}, GROUPS)
    assert page.startswith('<!DOCTYPE html><html lang="en">') and "<script" not in page
    names = ["Contact rate", "Promise-to-pay rate", "Kept-promise rate", "Wrong-address rate"]
    assert all(f">{name} by day type</text>" in page and f"<th>{name}</th>" in page for name in names)
    assert "<title>Outcome analytics by day type</title>" in page
    assert "<h1>What the visits taught: by day type</h1>" in page and ">Weekly trend</text>" in page
    assert "<th>day type</th><th>visits</th>" in page and ">overdue bucket</a>" in page
    assert ">Workday</text>" in page and "<td>Rest day</td>" in page
    # 1 contact in 2 visits: 50 %, interval 0.3-0.7 as 30 %-70 %; 1 promise kept in 1: 100 %.
    assert "<title>Workday: 50% (30%–70%), 1 of 2</title>" in page
    assert "<title>Promise-to-pay rate, week of 2026-11-02: 100%</title>" in page
    assert "the first outcome – the last; bars are rates, whiskers their 95 % Wilson intervals." in page
    assert "<label>from <input" in page and "<label>to <input" in page and '<button type="submit">Show</button>' in page
    assert ">CSV</a> · " in page and ">GeoPackage (outcome points)</a>" in page and "Download: " in page
    assert "<h2>Numbers</h2>" in page and "Group by: " in page and "50% · n=2" in page
    assert "2026-11-02 – 2026-11-08;" in empty and "No outcomes in this period." in empty


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_analytics_message_is_used(lang: str) -> None:
    """Each ``analytics.*`` message's fixed text shows on a page (the branch name only when grouping by it)."""
    pages = [
        render_analytics_page(answer(g), GROUPS, lang=lang)
        + render_analytics_page({**answer(g, "2026-11-02"), "groups": []}, GROUPS, lang=lang)
        for g in (*GROUPS, "branch")
    ]
    texts = {k: re.split(r"\{[a-z]+\}", v) for k, v in MESSAGES[lang].items() if k.startswith("analytics.")}
    missing = [k for k, parts in texts.items() if not any(all(p in html_lib.unescape(x) for p in parts) for x in pages)]
    assert not missing and len(RATES) == 4


def test_segments_read_in_the_pages_language() -> None:
    """Segment codes are shown by their names: 在职 and 退休 in zh-CN, "employed" and "retired" in en."""
    zh = render_analytics_page(answer("segment"), GROUPS, lang="zh-CN")
    assert "在职" in visible(zh) and "退休" in visible(zh) and "employed" not in visible(zh)
    en = render_analytics_page(answer("segment"), GROUPS, lang="en")
    assert "employed" in visible(en) and "在职" not in en
