"""Route sheets: what they show, and how they print (real headless Chromium, PDF read back with pypdf)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from maps import render_route_sheet
from maps.pdf import print_pdf
from routing.model import OUTCOME_RESULTS, Plan

A4_POINTS = (595.3, 841.9)


def test_sheet_lists_stops_in_order_with_masked_customers(plan: Plan, customer_ids: tuple[str, ...]) -> None:
    """Every stop in visit order, its ETA and address, a box per outcome, and no customer id in full."""
    page = render_route_sheet(plan, plan.routes[0], officer_url="https://maps.bank.example/p/maps/T1.html")
    assert re.findall(r'<tr data-case="([^"]+)">', page) == ["C17", "C23", "C31"]
    assert "ETA 17:45" in page and "Runeberginkatu 43, Helsinki" in page
    assert page.count('class="box"') == 3 * len(OUTCOME_RESULTS)
    assert all(cid not in page for cid in customer_ids)
    assert "CU***" in page
    assert page.count("<svg") == 1  # the QR code of the officer link
    assert "Start 17:38 → End 20:15" in page and "Break: 19:05" in page


def test_sheet_without_link_has_no_qr_code(plan: Plan) -> None:
    assert "<svg" not in render_route_sheet(plan, plan.routes[1])


def test_sheet_in_chinese(plan: Plan) -> None:
    page = render_route_sheet(plan, plan.routes[0], lang="zh-CN")
    assert "走访路线单" in page and "不在家" in page and "承诺还款" in page
    assert '<html lang="zh-CN">' in page


def pdf_of(page: str, tmp_path: Path, name: str) -> pypdf.PdfReader:
    html = tmp_path / f"{name}.html"
    html.write_text(page, encoding="utf-8")
    return pypdf.PdfReader(print_pdf(html, tmp_path / f"{name}.pdf"))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_25_stop_sheet_prints_on_one_or_two_a4_pages(
    lang: str, make_big_plan: Callable[..., Plan], tmp_path: Path
) -> None:
    """Chromium prints a 25-stop sheet on at most two A4 portrait pages, every stop on it, Chinese included."""
    big = make_big_plan(teams=1, stops=25)
    route = big.routes[0]
    reader = pdf_of(render_route_sheet(big, route, lang=lang, officer_url="https://m.example/T.html"), tmp_path, lang)
    assert 1 <= len(reader.pages) <= 2
    for page in reader.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx(A4_POINTS, abs=1.0)
    # The font's ToUnicode maps some characters to compatibility forms (Kangxi radicals): compare under NFKC.
    text = unicodedata.normalize("NFKC", "".join(page.extract_text() for page in reader.pages))
    assert all(v.case_id in text for v in route.visits)
    if lang == "zh-CN":
        assert "走访路线单" in text  # the glyphs were there to print, not boxes


def test_chinese_sheet_embeds_a_cjk_font(plan: Plan, tmp_path: Path) -> None:
    """The fonts the project installs carry Chinese: the PDF embeds a CJK face, not a fallback of boxes."""
    reader = pdf_of(render_route_sheet(plan, plan.routes[0], lang="zh-CN"), tmp_path, "zh")
    fonts = set()
    for page in reader.pages:
        resources = page["/Resources"]
        for ref in resources.get("/Font", {}).values():
            font = ref.get_object()
            # Chromium writes CJK glyphs as Type3 fonts: their name is on the font descriptor.
            descriptor = font.get("/FontDescriptor")
            name = font.get("/BaseFont") or (descriptor.get_object().get("/FontName") if descriptor else None)
            fonts.add(str(name))
    assert any("CJK" in name for name in fonts), fonts
