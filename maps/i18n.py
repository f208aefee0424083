"""The few strings the map pages show, in English and Simplified Chinese.

Officers in the field mostly read Chinese; supervisors and engineers may prefer English. Keys are stable
identifiers; every language must define every key (a test checks this).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from maps.errors import UnsupportedLanguageError

__all__ = ["DEFAULT_LANG", "LANGS", "MESSAGES", "normalize_lang", "translate"]

DEFAULT_LANG = "en"

_EN: Mapping[str, str] = MappingProxyType(
    {
        "address": "Address",
        "analytics.title": "Outcome analytics by {group}",
        "analytics.heading": "What the visits taught: by {group}",
        "analytics.period": "{start} – {end}; bars are rates, whiskers their 95 % Wilson intervals.",
        "analytics.period_first": "the first outcome",
        "analytics.period_last": "the last",
        "analytics.group_by": "Group by:",
        "analytics.from": "from",
        "analytics.to": "to",
        "analytics.show": "Show",
        "analytics.no_outcomes": "No outcomes in this period.",
        "analytics.chart_title": "{rate} by {group}",
        "analytics.trend": "Weekly trend",
        "analytics.numbers": "Numbers",
        "analytics.visits": "visits",
        "analytics.download": "Download:",
        "analytics.export_csv": "CSV",
        "analytics.export_gpkg": "GeoPackage (outcome points)",
        "analytics.bar_tip": "{group}: {rate} ({low}–{high}), {successes} of {trials}",
        "analytics.point_tip": "{rate}, week of {week}: {value}",
        "analytics.rate.contact": "Contact rate",
        "analytics.rate.promise_to_pay": "Promise-to-pay rate",
        "analytics.rate.kept_promise": "Kept-promise rate",
        "analytics.rate.wrong_address": "Wrong-address rate",
        "analytics.group.segment": "segment",
        "analytics.group.hour": "hour",
        "analytics.group.day_type": "day type",
        "analytics.group.district": "district",
        "analytics.group.overdue_bucket": "overdue bucket",
        "analytics.group.team": "team",
        "analytics.group.branch": "branch",
        "analytics.group.week": "week",
        "address_kind.home": "home",
        "address_kind.registered": "registered address",
        "address_kind.work": "work",
        "appointment": "appointment",
        "break": "Break",
        "break_after": "after stop {seq}",
        "replan": "Re-plan the rest of the day",
        "replan_busy": "Re-planning…",
        "replan_done": "Re-planned at {time}: {n} stops, revision {revision}",
        "replan_failed": "Not re-planned: {message}",
        "replan_offline": "You are offline: the day was not re-planned. Try again when connected.",
        "replan_unplanned": "no longer planned today",
        "case": "Case",
        "code": "Code",
        "count": "Count",
        "customer": "Customer",
        "date": "Date",
        "day_h": "Day (h)",
        "day_type.public_holiday": "Holiday",
        "day_type.rest_day": "Rest day",
        "day_type.workday": "Workday",
        "presence_by_hour": "At home by hour",
        "locate": "Show where I am",
        "locate_failed": "Location not available",
        "editor.title": "Edit this draft plan",
        "editor.help": (
            "Move a stop to another team, pin a case to the selected team (it must then be visited by that team), "
            "remove a stop, or add a case by its id; the day is re-optimised around each edit. Approve the plan to "
            "make the officer links work; an approved plan cannot be edited."
        ),
        "editor.approve": "Approve plan",
        "editor.add_case": "Add case",
        "editor.team": "team",
        "editor.any_team": "any team",
        "editor.add": "Add",
        "editor.move": "Move",
        "editor.pin": "Pin",
        "editor.remove": "Remove",
        "editor.col_team": "team",
        "editor.col_case": "case",
        "editor.col_to_team": "to team",
        "editor.col_edit": "edit",
        "editor.team_for": "team for {case}",
        "editor.working": "Working…",
        "editor.done": "Done; reloading.",
        "editor.failed": "Not done ({status}): {message}",
        "editor.offline": "No connection to the server; try again.",
        "editor.approved": "This plan is approved: it can no longer be edited.",
        "segment.employed": "employed",
        "segment.shift_worker": "shift worker",
        "segment.self_employed": "self-employed",
        "segment.farmer": "farmer",
        "segment.retired": "retired",
        "segment.unemployed": "unemployed",
        "segment.caregiver": "caregiver",
        "segment.student": "student",
        "segment.unknown": "unknown",
        "officer": "Officer",
        "officer_links": "Officer links",
        "outcome_refused": "not stored ({status})",
        "outcomes_waiting": "{n} waiting to send",
        "promised_date_prompt": "Promised payment date (YYYY-MM-DD)",
        "closed_note": "closed — do not visit",
        "closed_banner": "{n} case(s) closed since the plan: {cases}",
        "result.appointment_made": "appointment made",
        "result.met": "met",
        "result.moved": "moved",
        "result.not_home": "not home",
        "result.other": "other",
        "result.promise_to_pay": "promise to pay",
        "result.refused": "refused",
        "result.wrong_address": "wrong address",
        "sheet_outcome": "Outcome (tick one)",
        "sheet_scan": "Scan for the map",
        "sheet_seq": "#",
        "sheet_signature": "Officers' signatures",
        "sheet_time": "Time",
        "sheet_title": "Route sheet · team {team} · {date}",
        "scan_to_open": "Scan to open team {team}'s map",
        "shift_use": "Shift use",
        "timeline": "Timeline of the day",
        "timeline.break": "Break",
        "timeline.travel": "Driving",
        "timeline.visit": "Visit",
        "timeline.wait": "Waiting",
        "depot": "Depot",
        "depot_end": "End",
        "depot_start": "Start",
        "distance_km": "Distance (km)",
        "dropped": "Dropped",
        "eta": "ETA",
        "expected_contacts": "Expected contacts",
        "legend": "Legend",
        "map": "Map",
        "message": "Message",
        "minutes": "{n} min",
        "navigate": "Navigate",
        "navigate_amap": "AMap",
        "navigate_baidu": "Baidu Maps",
        "no_visits": "No visits planned",
        "none": "none",
        "open_map": "open map",
        "overview_title": "Plan overview {date}",
        "p_home": "P(home)",
        "p_high": "likely home (≥ 60%)",
        "p_low": "unlikely home (< 30%)",
        "p_mid": "maybe home (30-60%)",
        "plan": "Plan",
        "planned": "Planned",
        "cases": "Cases",
        "service_start": "Service start",
        "shift": "Shift",
        "slot": "Slot",
        "solver": "Solver",
        "stop": "Stop",
        "stops": "Stops",
        "team": "Team",
        "team_title": "Team {team} · {date}",
        "timezone": "Time zone",
        "total": "Total",
        "travel_h": "Travel (h)",
        "unresolved": "Unresolved",
        "visits": "Visits",
        "wait": "Wait",
    }
)

_ZH_CN: Mapping[str, str] = MappingProxyType(
    {
        "address": "地址",
        "analytics.title": "走访结果分析（按{group}）",
        "analytics.heading": "走访结果：按{group}",
        "analytics.period": "{start} – {end}；条形为比率，须线为其 95 % 威尔逊置信区间。",
        "analytics.period_first": "最早的结果",
        "analytics.period_last": "最近的结果",
        "analytics.group_by": "分组：",
        "analytics.from": "从",
        "analytics.to": "至",
        "analytics.show": "显示",
        "analytics.no_outcomes": "此期间没有走访结果。",
        "analytics.chart_title": "{rate}（按{group}）",
        "analytics.trend": "每周趋势",
        "analytics.numbers": "数据",
        "analytics.visits": "走访数",
        "analytics.download": "下载：",
        "analytics.export_csv": "CSV",
        "analytics.export_gpkg": "GeoPackage（走访结果点位）",
        "analytics.bar_tip": "{group}：{rate}（{low}–{high}），{trials} 次中 {successes} 次",
        "analytics.point_tip": "{rate}，{week} 当周：{value}",
        "analytics.rate.contact": "见面率",
        "analytics.rate.promise_to_pay": "承诺还款率",
        "analytics.rate.kept_promise": "履约率",
        "analytics.rate.wrong_address": "地址错误率",
        "analytics.group.segment": "客户类别",
        "analytics.group.hour": "小时",
        "analytics.group.day_type": "日期类型",
        "analytics.group.district": "区县",
        "analytics.group.overdue_bucket": "逾期天数段",
        "analytics.group.team": "小组",
        "analytics.group.branch": "网点",
        "analytics.group.week": "周",
        "address_kind.home": "住址",
        "address_kind.registered": "户籍地址",
        "address_kind.work": "工作地址",
        "appointment": "预约",
        "break": "休息",
        "break_after": "第 {seq} 站之后",
        "replan": "重新规划剩余行程",
        "replan_busy": "正在重新规划…",
        "replan_done": "{time} 已重新规划：{n} 个站点，第 {revision} 版",
        "replan_failed": "未能重新规划：{message}",
        "replan_offline": "当前处于离线状态，未能重新规划。请联网后重试。",
        "replan_unplanned": "今日已不在计划中",
        "case": "案件",
        "code": "代码",
        "count": "数量",
        "customer": "客户",
        "date": "日期",
        "day_h": "工作时长（小时）",
        "day_type.public_holiday": "法定节假日",
        "day_type.rest_day": "休息日",
        "day_type.workday": "工作日",
        "presence_by_hour": "各时段在家概率",
        "locate": "显示我的位置",
        "locate_failed": "无法获取位置",
        "editor.title": "编辑此计划草稿",
        "editor.help": (
            "可将站点移交给其他小组、将案件固定给所选小组（须由该小组走访）、删除站点，或按编号添加案件；"
            "每次编辑后会围绕编辑重新优化当天行程。批准计划后走访人员链接方可使用；已批准的计划不能再编辑。"
        ),
        "editor.approve": "批准计划",
        "editor.add_case": "添加案件",
        "editor.team": "小组",
        "editor.any_team": "任意小组",
        "editor.add": "添加",
        "editor.move": "移交",
        "editor.pin": "固定",
        "editor.remove": "删除",
        "editor.col_team": "小组",
        "editor.col_case": "案件",
        "editor.col_to_team": "目标小组",
        "editor.col_edit": "编辑",
        "editor.team_for": "{case} 的小组",
        "editor.working": "处理中…",
        "editor.done": "已完成，正在重新加载。",
        "editor.failed": "未完成（{status}）：{message}",
        "editor.offline": "无法连接服务器，请重试。",
        "editor.approved": "此计划已批准，不能再编辑。",
        "segment.employed": "在职",
        "segment.shift_worker": "倒班工作者",
        "segment.self_employed": "个体经营",
        "segment.farmer": "务农",
        "segment.retired": "退休",
        "segment.unemployed": "无业",
        "segment.caregiver": "居家照护者",
        "segment.student": "学生",
        "segment.unknown": "未知",
        "officer": "走访人员",
        "officer_links": "走访人员链接",
        "outcome_refused": "未保存（{status}）",
        "outcomes_waiting": "{n} 条待发送",
        "promised_date_prompt": "承诺还款日期（YYYY-MM-DD）",
        "closed_note": "已结案——无需走访",
        "closed_banner": "计划后已结案 {n} 件：{cases}",
        "result.appointment_made": "已预约",
        "result.met": "已见面",
        "result.moved": "已搬走",
        "result.not_home": "不在家",
        "result.other": "其他",
        "result.promise_to_pay": "承诺还款",
        "result.refused": "拒绝",
        "result.wrong_address": "地址错误",
        "sheet_outcome": "结果（勾选一项）",
        "sheet_scan": "扫码查看地图",
        "sheet_seq": "序号",
        "sheet_signature": "走访人员签名",
        "sheet_time": "时间",
        "sheet_title": "走访路线单 · 小组 {team} · {date}",
        "scan_to_open": "扫码打开小组 {team} 的地图",
        "shift_use": "班次利用率",
        "timeline": "当日时间线",
        "timeline.break": "休息",
        "timeline.travel": "行驶",
        "timeline.visit": "走访",
        "timeline.wait": "等待",
        "depot": "出发点",
        "depot_end": "终点",
        "depot_start": "起点",
        "distance_km": "距离（公里）",
        "dropped": "未安排",
        "eta": "预计到达",
        "expected_contacts": "预计见面数",
        "legend": "图例",
        "map": "地图",
        "message": "说明",
        "minutes": "{n} 分钟",
        "navigate": "导航",
        "navigate_amap": "高德地图",
        "navigate_baidu": "百度地图",
        "no_visits": "今日无走访安排",
        "none": "无",
        "open_map": "打开地图",
        "overview_title": "走访计划总览 {date}",
        "p_home": "在家概率",
        "p_high": "很可能在家（≥ 60%）",
        "p_low": "不太可能在家（< 30%）",
        "p_mid": "可能在家（30-60%）",
        "plan": "计划",
        "planned": "已安排",
        "cases": "案件数",
        "service_start": "开始走访",
        "shift": "班次",
        "slot": "时段",
        "solver": "求解器",
        "stop": "站点",
        "stops": "站点列表",
        "team": "小组",
        "team_title": "小组 {team} · {date}",
        "timezone": "时区",
        "total": "合计",
        "travel_h": "行程（小时）",
        "unresolved": "无法定位",
        "visits": "走访数",
        "wait": "等待",
    }
)

MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType({"en": _EN, "zh-CN": _ZH_CN})
LANGS: tuple[str, ...] = tuple(MESSAGES)

# Spellings callers commonly use for the supported languages.
_ALIASES: Mapping[str, str] = MappingProxyType(
    {"en": "en", "en-us": "en", "en-gb": "en", "zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN"}
)


def normalize_lang(lang: str) -> str:
    """The canonical code of a supported language.

    Parameters
    ----------
    lang
        A language tag such as ``"en"``, ``"zh-CN"`` or ``"zh_cn"`` (case and ``_``/``-`` do not matter).

    Returns
    -------
    str
        ``"en"`` or ``"zh-CN"``.

    Raises
    ------
    UnsupportedLanguageError
        When the language has no translation.
    """
    code = _ALIASES.get(lang.strip().replace("_", "-").lower())
    if code is None:
        msg = f"unsupported language {lang!r} (one of {', '.join(LANGS)})"
        raise UnsupportedLanguageError(msg)
    return code


def translate(lang: str, key: str, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``.

    Parameters
    ----------
    lang
        A supported language tag (see `normalize_lang`).
    key
        The message identifier, e.g. ``"eta"``.
    **values
        Values for the message's placeholders.

    Returns
    -------
    str
        The translated, formatted text (not HTML-escaped).
    """
    text = MESSAGES[normalize_lang(lang)][key]
    return text.format(**values) if values else text
