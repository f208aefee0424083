"""The documentation page works in a real browser (headless Chromium) under its self-only CSP: Swagger UI renders
the API, nothing is blocked and nothing is fetched from another origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.api.conftest import AGUAS, Api, headless_chromium, make_database, start_api, wait_for


@pytest.fixture(scope="module")
def docs_server(osm_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server over a SQLite file (the pages do not depend on the database)."""
    tmp = tmp_path_factory.mktemp("docs")
    with make_database("sqlite", tmp) as url:
        started = start_api(osm_dir / AGUAS, url, tmp)
        yield started
        started.server.stop()
        started.db.dispose()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with headless_chromium() as driver:
        yield driver


@pytest.mark.slow
def test_docs_page_renders_with_nothing_blocked_or_fetched_elsewhere(
    docs_server: Api, browser: webdriver.Chrome
) -> None:
    """/docs shows the API's title and an endpoint; no console error or CSP violation; every resource came from here."""
    origin = docs_server.server.url
    browser.get(origin + "/docs")

    def rendered() -> bool:
        titles = browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title")
        paths = browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        return any("Doorstep planning API" in t.text for t in titles) and any("/v1/outcomes" in p.text for p in paths)

    wait_for(rendered, 30, "/docs to render the API's title and endpoints")
    resources: list[Any] = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(str(r).startswith(origin) for r in resources), resources
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
    ]
    assert problems == [], problems
