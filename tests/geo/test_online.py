"""Online providers against local HTTP servers that speak Nominatim's and AMap's protocols (real sockets)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from geo.crs import wgs84_to_gcj02
from geo.online import AMapGeocoder, NominatimGeocoder, ProviderError
from geo.result_cache import ResultCache
from geo.types import Location, haversine_m

# One answer of Nominatim 5.3's /search?format=jsonv2&addressdetails=1, as a local import of the Copenhagen extract
# gave it (trimmed to one result).
NOMINATIM_HOUSE = [
    {
        "place_id": 139560,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
        "osm_type": "node",
        "osm_id": 340535815,
        "lat": "55.6876209",
        "lon": "12.5618713",
        "category": "place",
        "type": "house",
        "place_rank": 30,
        "importance": 9.99999999995449e-06,
        "addresstype": "place",
        "name": "",
        "display_name": "12, Nørrebrogade, Nørrebro, København, 2200, Danmark",
        "address": {
            "house_number": "12",
            "road": "Nørrebrogade",
            "suburb": "Nørrebro",
            "city": "København",
            "postcode": "2200",
            "country": "Danmark",
            "country_code": "dk",
        },
        "boundingbox": ["55.6875709", "55.6876709", "12.5618213", "12.5619213"],
    }
]
# AMap's /v3/geocode/geo answer format (documented fields; location is "lon,lat" in GCJ-02).
TRUE_WGS84 = Location(22.7196, 114.2470)


def amap_answer(level: str = "门址") -> dict[str, Any]:
    lat, lon = wgs84_to_gcj02(TRUE_WGS84.lat, TRUE_WGS84.lon)
    return {
        "status": "1",
        "info": "OK",
        "infocode": "10000",
        "count": "1",
        "geocodes": [
            {
                "formatted_address": "广东省深圳市龙岗区龙翔大道2001号",
                "country": "中国",
                "province": "广东省",
                "citycode": "0755",
                "city": "深圳市",
                "district": "龙岗区",
                "township": [],
                "neighborhood": {"name": [], "type": []},
                "building": {"name": [], "type": []},
                "adcode": "440307",
                "street": "龙翔大道",
                "number": "2001号",
                "location": f"{lon:.6f},{lat:.6f}",
                "level": level,
            }
        ],
    }


@dataclass
class FakeServer:
    """A local server: ``script`` answers each request (status, body); requests and their times are recorded."""

    script: Callable[[int, dict[str, str]], tuple[int, Any]]
    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[int, dict[str, str]], tuple[int, Any]]], FakeServer]]:
    """Start local HTTP servers for a test; each is shut down afterwards."""
    servers: list[ThreadingHTTPServer] = []

    def start(script: Callable[[int, dict[str, str]], tuple[int, Any]]) -> FakeServer:
        fake = FakeServer(script)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urllib.parse.urlparse(self.path)
                params = dict(urllib.parse.parse_qsl(parsed.query))
                fake.requests.append((time.monotonic(), parsed.path, params))
                status, body = fake.script(len(fake.requests), params)
                payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        fake.url = f"http://127.0.0.1:{server.server_address[1]}"
        return fake

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_nominatim_answer_is_parsed(serve: Callable[..., FakeServer]) -> None:
    """A jsonv2 house answer becomes an ok, house-precision result from source nominatim; the query is sent as q."""
    fake = serve(lambda n, p: (200, NOMINATIM_HOUSE))
    gc = NominatimGeocoder(fake.url, min_interval_s=0.0)
    res = gc.geocode("Nørrebrogade 12, 2200 København N")
    assert (res.status, res.precision, res.source) == ("ok", "house", "nominatim")
    assert res.location == Location(55.6876209, 12.5618713)
    (_, path, params) = fake.requests[0]
    assert path == "/search" and params["q"] == "Nørrebrogade 12, 2200 København N" and params["format"] == "jsonv2"


def test_nominatim_empty_answer_is_no_match(serve: Callable[..., FakeServer]) -> None:
    """An empty list is unresolved with code no_match."""
    fake = serve(lambda n, p: (200, []))
    res = NominatimGeocoder(fake.url, min_interval_s=0.0).geocode("xyzzy 7")
    assert (res.status, res.code, res.location) == ("unresolved", "no_match", None)


def test_retries_on_server_errors_then_succeeds(serve: Callable[..., FakeServer]) -> None:
    """503 and 429 are retried with back-off; the third attempt's answer is returned."""
    fake = serve(
        lambda n, p: {1: (503, {"error": "busy"}), 2: (429, {"error": "slow down"})}.get(n, (200, NOMINATIM_HOUSE))
    )
    gc = NominatimGeocoder(fake.url, min_interval_s=0.0, retries=3, backoff_s=0.01)
    assert gc.geocode("Nørrebrogade 12").status == "ok"
    assert len(fake.requests) == 3


def test_gives_up_after_its_retries(serve: Callable[..., FakeServer]) -> None:
    """A server that keeps failing raises ProviderError after 1 + retries attempts."""
    fake = serve(lambda n, p: (500, {"error": "down"}))
    gc = NominatimGeocoder(fake.url, min_interval_s=0.0, retries=2, backoff_s=0.01)
    with pytest.raises(ProviderError, match="3 attempts"):
        gc.geocode("Nørrebrogade 12")
    assert len(fake.requests) == 3


def test_client_error_is_not_retried(serve: Callable[..., FakeServer]) -> None:
    """A 400 (bad request) fails at once: retrying cannot help."""
    fake = serve(lambda n, p: (400, {"error": "bad"}))
    with pytest.raises(ProviderError, match="HTTP 400"):
        NominatimGeocoder(fake.url, min_interval_s=0.0, retries=3, backoff_s=0.01).geocode("x 1")
    assert len(fake.requests) == 1


def test_rate_limit_spaces_requests(serve: Callable[..., FakeServer]) -> None:
    """With min_interval_s 0.05, five requests take at least 4 × 0.05 s, the waits coming from the limiter."""
    fake = serve(lambda n, p: (200, NOMINATIM_HOUSE))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    gc = NominatimGeocoder(fake.url, min_interval_s=0.05, sleep=sleep)
    start = time.monotonic()
    for i in range(5):
        gc.geocode(f"Nørrebrogade {i + 1}")
    assert time.monotonic() - start >= 0.2
    assert len(fake.requests) == 5
    # The first request goes at once; each later one waits for the rest of its 0.05 s slot.
    assert len(waits) == 4 and all(0.0 < w <= 0.05 for w in waits)


def test_cache_answers_repeats_without_a_request(serve: Callable[..., FakeServer], tmp_path: Any) -> None:
    """A query asked again, in another spelling, comes from the cache: no second request."""
    fake = serve(lambda n, p: (200, NOMINATIM_HOUSE))
    with ResultCache(tmp_path / "r.sqlite") as cache:
        gc = NominatimGeocoder(fake.url, min_interval_s=0.0, cache=cache)
        first = gc.geocode("Nørrebrogade 12, 2200 København N")
        again = gc.geocode("NORREBROGADE 12, 2200 KOBENHAVN N")
    assert len(fake.requests) == 1
    assert again.location == first.location and again.source == "nominatim"


def test_amap_answer_is_converted_to_wgs84(serve: Callable[..., FakeServer]) -> None:
    """AMap's GCJ-02 location comes back as the WGS-84 point it stands for (to 0.2 m: 6 decimals sent)."""
    fake = serve(lambda n, p: (200, amap_answer()))
    gc = AMapGeocoder("test-key", fake.url, min_interval_s=0.0, city="深圳")
    res = gc.geocode("深圳市龙岗区龙翔大道2001号")
    assert (res.status, res.precision, res.source) == ("ok", "house", "amap")
    assert res.location is not None and haversine_m(res.location, TRUE_WGS84) < 0.2
    (_, path, params) = fake.requests[0]
    assert path == "/v3/geocode/geo" and params["key"] == "test-key" and params["city"] == "深圳"


def test_amap_low_level_answer_is_withheld(serve: Callable[..., FakeServer]) -> None:
    """A district-level answer (level 区县) is below the threshold: unresolved low_confidence."""
    fake = serve(lambda n, p: (200, amap_answer("区县")))
    res = AMapGeocoder("k", fake.url, min_interval_s=0.0).geocode("龙岗区")
    assert (res.status, res.code) == ("unresolved", "low_confidence")


def test_amap_bad_key_fails_at_once(serve: Callable[..., FakeServer]) -> None:
    """INVALID_USER_KEY (infocode 10001) raises without retrying."""
    fake = serve(lambda n, p: (200, {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}))
    with pytest.raises(ProviderError, match="INVALID_USER_KEY"):
        AMapGeocoder("bad", fake.url, min_interval_s=0.0, retries=3, backoff_s=0.01).geocode("龙翔大道2001号")
    assert len(fake.requests) == 1


def test_amap_over_quota_is_retried(serve: Callable[..., FakeServer]) -> None:
    """CUQPS_HAS_EXCEEDED_THE_LIMIT (infocode 10021) is retried, then the answer is used."""
    busy = {"status": "0", "info": "CUQPS_HAS_EXCEEDED_THE_LIMIT", "infocode": "10021"}
    fake = serve(lambda n, p: (200, busy) if n == 1 else (200, amap_answer()))
    res = AMapGeocoder("k", fake.url, min_interval_s=0.0, retries=2, backoff_s=0.01).geocode("龙翔大道2001号")
    assert res.status == "ok" and len(fake.requests) == 2
