"""Small pieces of the API checked on their own: settings, tokens, rate limiter, datum conversion, migrations."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from api.analytics import wilson
from api.errors import ConfigurationError
from api.jobs import csp_hashes, mask_phone, officer_panel
from api.security import OfficerClaims, RateLimiter, Signer, hash_key, key_matches, link_expiry, make_api_key
from api.server_settings import ENV_TABLE, ServerSettings
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.types import Location

ROOT = Path(__file__).resolve().parents[2]


def test_readme_documents_every_server_setting() -> None:
    """Each variable of ENV_TABLE has a row in the README's 'HTTP API settings' table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## HTTP API settings", 1)[1].split("\n## ", 1)[0]
    for name, _, default in ENV_TABLE:
        assert f"| `{name}` |" in section, name
        assert default in section


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DOORSTEP_WORKERS": "0"}, "DOORSTEP_WORKERS"),  # below the minimum of 1
        ({"DOORSTEP_WORKERS": "two"}, "whole number"),  # not a number
        ({"DOORSTEP_DB": "mysql://x"}, "DOORSTEP_DB"),  # unsupported database
        ({"DOORSTEP_SCHEDULER": "localhost:8786"}, "DOORSTEP_SCHEDULER"),  # not a scheduler address
        ({"DOORSTEP_SECRET": "short"}, "32 characters"),  # a guessable signing key
        ({"DOORSTEP_TILES": "http://tiles.example/{z}/{x}/{y}.png"}, "DOORSTEP_TILES"),  # plain http tiles
        ({"DOORSTEP_RATE_LIMIT": "-1"}, "DOORSTEP_RATE_LIMIT"),  # negative rate
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    """A bad environment value raises ConfigurationError naming the variable or the rule."""
    with pytest.raises(ConfigurationError, match=message):
        ServerSettings.from_env(env)


def test_settings_defaults_and_options() -> None:
    """Options win over the environment; the default database is SQLite in the data dir."""
    settings = ServerSettings.from_env(
        {"DOORSTEP_DATA_DIR": "/srv/ds", "DOORSTEP_CORS_ORIGINS": "https://a, https://b"}
    )
    assert settings.db_url == "sqlite:////srv/ds/doorstep.sqlite3"
    assert settings.cors_origins == ("https://a", "https://b")
    assert ServerSettings.from_env({"DOORSTEP_DB": "sqlite:///a"}, db_url="sqlite:///b").db_url == "sqlite:///b"


def test_api_keys_are_hashed_and_checked() -> None:
    """A new key matches its stored hash; one changed character does not."""
    key = make_api_key()
    assert key.key_hash == hash_key(key.secret) and key.key_id in key.secret
    assert key_matches(key.secret, key.key_hash)
    assert not key_matches(key.secret[:-1] + ("A" if key.secret[-1] != "A" else "B"), key.key_hash)


def test_officer_token_round_trip_tamper_and_expiry() -> None:
    """A token verifies until it expires; another key, a changed payload or another purpose does not verify."""
    signer = Signer(b"k" * 32)
    claims = OfficerClaims("link1", "plan1", "T1", 2_000_000_000)
    token = signer.officer_token(claims)
    assert signer.officer_claims(token, now=1_999_999_999) == claims
    assert signer.officer_claims(token, now=2_000_000_000) is None  # expired at that second
    assert Signer(b"j" * 32).officer_claims(token, now=0) is None
    mac = token.split(".")[1]
    other = signer.officer_token(OfficerClaims("link1", "plan1", "T2", 2_000_000_000)).split(".")[0]
    assert signer.officer_claims(f"{other}.{mac}", now=0) is None
    assert signer.verify("session", token) is None
    assert signer.officer_claims("garbage", now=0) is None


def test_link_expiry_is_end_of_plan_day_plus_grace() -> None:
    """Helsinki in winter (UTC+2): the day 2026-12-01 ends at 22:00 UTC; with 6 h grace the link ends 04:00 UTC."""
    assert link_expiry(dt.date(2026, 12, 1), "Europe/Helsinki", 6) == dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)


def test_rate_limiter_refills() -> None:
    """Burst 3 at 1/s: three pass, the fourth waits one second, and passes after it."""
    limiter = RateLimiter(rate=1.0, burst=3.0)
    assert [limiter.allow("a", now=0.0)[0] for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("a", now=0.0)[1] == pytest.approx(1.0)
    assert limiter.allow("a", now=1.01)[0]
    assert limiter.allow("b", now=0.0)[0]  # clients are counted apart


def test_gcj02_round_trip() -> None:
    """GCJ-02 → WGS-84 inverts WGS-84 → GCJ-02 to well under a metre in Beijing; outside China nothing moves."""
    beijing = Location(39.9087, 116.3975)
    shifted = Location(*wgs84_to_gcj02(beijing.lat, beijing.lon))
    assert abs(shifted.lat - beijing.lat) + abs(shifted.lon - beijing.lon) > 1e-3  # the datum offset is real
    back = Location(*gcj02_to_wgs84(shifted.lat, shifted.lon))
    assert abs(back.lat - beijing.lat) < 1e-7 and abs(back.lon - beijing.lon) < 1e-7
    helsinki = Location(60.17, 24.94)
    assert Location(*gcj02_to_wgs84(helsinki.lat, helsinki.lon)) == helsinki


def test_masked_phone_and_wilson_interval() -> None:
    """Phones keep only their last three digits; Wilson(5 of 10) is about 0.237–0.763."""
    assert mask_phone("+52 449 555 1234") == "*** 234"
    assert mask_phone("12") == "***" and mask_phone(None) == ""
    low, high = wilson(np.array([5]), np.array([10]))
    assert low[0] == pytest.approx(0.2366, abs=1e-3) and high[0] == pytest.approx(0.7634, abs=1e-3)


def test_csp_hashes_cover_only_inline_scripts() -> None:
    """Inline scripts get a sha256 source each; scripts with src do not."""
    page = '<script src="/a.js"></script><script>var a = 1;</script><script >b()</script>'
    sources = csp_hashes(page).split()
    assert len(sources) == 2 and all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", s) for s in sources)


@pytest.mark.slow
def test_wheel_ships_migrations_and_officer_script(tmp_path: Path) -> None:
    """The built wheel contains the Alembic environment, every migration and the officer page's script."""
    # Build from a copy, so the worktree is left without build/ and egg-info directories.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", ".*cache*", "test-artifacts", "__pycache__")
    shutil.copytree(ROOT, source, ignore=ignore)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next(tmp_path.glob("doorstep-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {p.name for p in (ROOT / "api" / "migrations" / "versions").glob("*.py")}
    for name in ("api/migrations/env.py", "api/migrations/script.py.mako", "api/assets/officer.js"):
        assert name in names
    assert {f"api/migrations/versions/{m}" for m in migrations} <= names


@pytest.mark.parametrize(
    ("lang", "label", "offline"),
    [
        ("en", "Re-plan the rest of the day", "You are offline"),
        ("zh-CN", "重新规划剩余行程", "当前处于离线状态"),  # officers in China read Chinese
    ],
)
def test_officer_panel_has_a_replan_button_in_the_pages_language(lang: str, label: str, offline: str) -> None:
    """The officer panel's re-plan button and its messages come in the settings' language, and every stop
    carries its WGS-84 point (the fallback start of a re-plan without a GPS fix)."""
    from maps.i18n import MESSAGES
    from tests.maps.conftest import build_plan

    plan = build_plan()
    route = plan.routes[0]
    panel = officer_panel(plan, route, {}, lang)
    assert f">{label}</button>" in panel and offline in panel
    assert all(MESSAGES[lang][key] in panel for key in ("replan_busy", "replan_failed", "replan_unplanned"))
    for visit in route.visits:
        assert f'data-lat="{visit.location.lat:.6f}" data-lon="{visit.location.lon:.6f}"' in panel
    assert f'data-start-lat="{route.team.start.lat:.6f}"' in panel


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_string_of_the_officer_panel_is_in_the_pages_language(lang: str) -> None:
    """Outcome buttons, the officer picker and the queue's messages are translated; no English is left in zh-CN."""
    import re

    from maps.i18n import MESSAGES
    from tests.maps.conftest import build_plan

    plan = build_plan()
    panel = officer_panel(plan, plan.routes[0], {}, lang)
    labels = re.findall(r'<button type="button" data-result="([a-z_]+)">([^<]+)</button>', panel)
    assert labels and all(text == MESSAGES[lang][f"result.{result}"] for result, text in labels)
    assert f"<label>{MESSAGES[lang]['officer']} <select" in panel
    assert MESSAGES[lang]["outcomes_waiting"] in panel and MESSAGES[lang]["outcome_refused"] in panel
    if lang == "zh-CN":
        # What a person reads, less the data (members' names, case ids): no Latin words left.
        visible = re.sub(r"<option[^>]*>[^<]*</option>|<[^>]+>|\bC\d+\b", " ", panel)
        assert not re.search(r"[A-Za-z]{3,}", visible), visible


def test_amap_tiles_are_a_server_setting() -> None:
    """DOORSTEP_TILES=amap is accepted (AMap's tiles, pages drawn in GCJ-02)."""
    assert ServerSettings.from_env({"DOORSTEP_TILES": "amap"}).tiles == "amap"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_overview_edit_panel_is_in_the_pages_language(lang: str) -> None:
    """Every label, button and script message of the supervisor's edit panel comes from the page's language."""
    import re

    from api.plan_editor import plan_editor
    from maps.i18n import MESSAGES
    from tests.maps.conftest import build_plan

    panel = plan_editor(build_plan(), 3, lang)
    keys = [k for k in MESSAGES[lang] if k.startswith("editor.") and k != "editor.team_for"]
    texts = {k: MESSAGES[lang][k].split("{")[0] for k in keys}
    assert all(text in panel for text in texts.values()), [k for k, v in texts.items() if v not in panel]
    assert 'data-revision="3"' in panel and 'data-msg-failed="' in panel
    if lang == "zh-CN":
        visible = re.sub(r"<option[^>]*>[^<]*</option>|<[^>]+>|\bC\d+\b|\bT\d+\b", " ", panel)
        # Drop codes (snake_case, as in plan.json) are codes, not words.
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", "", visible)), visible
