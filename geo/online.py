"""Optional online geocoders behind the offline geocoder's interface: Nominatim's HTTP API and AMap's.

Both answer ``geocode(address) -> GeocodeResult`` like ``OfflineGeocoder``, so the CLI, the corrections and the
planner take either. Each provider

- keeps to a rate limit (Nominatim's public usage policy allows one request a second; AMap's depends on the key),
  with one clock per provider object, not per process;
- retries on network errors, HTTP 429 and 5xx, and AMap's over-quota answers, with exponential back-off;
- caches answers in a ``ResultCache`` when one is given (the namespace is the provider and its base URL);
- converts AMap's GCJ-02 points to WGS-84 (``geo.crs``).

Only the standard library speaks HTTP here (``urllib``): no extra dependency for an optional feature. A provider is
never used unless configured; the default is the offline geocoder.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from geo.crs import gcj02_to_wgs84
from geo.errors import GeocodeError
from geo.geocoder import GeocodeResult, Precision, clean_query
from geo.result_cache import ResultCache
from geo.types import Location

__all__ = ["AMapGeocoder", "NominatimGeocoder", "ProviderError"]

_USER_AGENT = "doorstep-geocoder/0.1 (+https://github.com/; bank field visits)"


class ProviderError(GeocodeError):
    """An online provider failed after its retries, or refused the request (bad key, bad URL)."""


class _HttpProvider:
    """Rate limit, retries and cache shared by the providers."""

    name = "provider"

    def __init__(
        self,
        base_url: str,
        *,
        min_interval_s: float,
        retries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 10.0,
        cache: ResultCache | None = None,
        min_confidence: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval_s < 0 or retries < 0 or backoff_s < 0 or timeout_s <= 0:
            msg = "min_interval_s, retries and backoff_s must be ≥ 0 and timeout_s > 0"
            raise GeocodeError(msg)
        self.base_url = base_url.rstrip("/")
        self.min_interval_s = min_interval_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.cache = cache
        self.min_confidence = min_confidence
        self.requests_sent = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0

    @property
    def namespace(self) -> str:
        return f"{self.name}|{self.base_url}|{self.min_confidence:g}"

    def _wait_turn(self) -> None:
        """Block until this provider may send its next request (thread-safe)."""
        with self._lock:
            now = self._clock()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self.min_interval_s
        if wait > 0:
            self._sleep(wait)

    def _get_json(self, path: str, params: dict[str, str]) -> Any:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, "Accept": "application/json"})
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            self._wait_turn()
            self.requests_sent += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    body = response.read()
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                exc.close()
                if exc.code == 429 or exc.code >= 500:
                    continue
                msg = f"{self.name} refused the request: {last}"
                raise ProviderError(msg) from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                last = f"not JSON: {exc}"
                continue
            if self._retryable(data):
                last = f"over quota: {data!r:.200}"
                continue
            return data
        msg = f"{self.name} failed after {self.retries + 1} attempts: {last}"
        raise ProviderError(msg)

    def _retryable(self, data: Any) -> bool:
        return False

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address (from the cache when it holds the answer)."""
        text = clean_query(address)
        if not text:
            return GeocodeResult(address, None, "unresolved", 0.0, "unresolved", "no_match", "empty address")
        if self.cache is not None and (hit := self.cache.get(self.namespace, address)) is not None:
            return hit
        result = self._threshold(self._query(address, text))
        if self.cache is not None:
            self.cache.put(self.namespace, result)
        return result

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode a batch in input order; repeated addresses are asked once."""
        seen: dict[str, GeocodeResult] = {}
        return [seen[a] if a in seen else seen.setdefault(a, self.geocode(a)) for a in addresses]

    def _threshold(self, result: GeocodeResult) -> GeocodeResult:
        if result.status != "ok" or result.confidence >= self.min_confidence:
            return result
        conf = f"{result.confidence:.2f} < {self.min_confidence:.2f}"
        msg = f"{self.name}'s answer {result.matched!r} has confidence {conf}"
        return GeocodeResult(
            result.query,
            None,
            "unresolved",
            result.confidence,
            "unresolved",
            "low_confidence",
            msg,
            result.matched,
            result.source,
        )

    def _query(self, address: str, text: str) -> GeocodeResult:
        raise NotImplementedError


# Nominatim's address ranks (docs: "Place Ranking"): 30 a house or POI, 26–27 a street, lower an area.
def _nominatim_precision(item: dict[str, Any]) -> tuple[Precision, float]:
    rank = int(item.get("place_rank") or 0)
    category, kind = str(item.get("category") or item.get("class") or ""), str(item.get("type") or "")
    addresstype = str(item.get("addresstype") or "")
    if rank >= 30 and (kind == "house" or (category == "place" and kind == "house") or addresstype == "house"):
        return "house", 0.9
    if rank >= 30:
        # A POI or building (it may carry the house number asked for: then it stands at the door).
        has_number = bool((item.get("address") or {}).get("house_number"))
        return ("house", 0.85) if has_number else ("poi", 0.7)
    if rank >= 26:
        return "street", 0.5
    return "place", 0.3


class NominatimGeocoder(_HttpProvider):
    """Nominatim's ``/search`` API (``format=jsonv2``).

    Parameters
    ----------
    base_url
        E.g. ``"https://nominatim.openstreetmap.org"`` or a bank's own server.
    min_interval_s
        At least this long between requests (the public server's policy: 1 s).
    country_codes
        Restrict answers to these ISO codes (``"dk"``), as Nominatim's ``countrycodes``.
    email
        Sent as ``email`` (the public server asks heavy users for one).
    **kwargs
        ``retries``, ``backoff_s``, ``timeout_s``, ``cache``, ``min_confidence``.
    """

    name = "nominatim"

    def __init__(
        self,
        base_url: str,
        *,
        min_interval_s: float = 1.0,
        country_codes: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, min_interval_s=min_interval_s, **kwargs)
        self.country_codes = country_codes
        self.email = email

    def _query(self, address: str, text: str) -> GeocodeResult:
        params = {"q": text, "format": "jsonv2", "limit": "1", "addressdetails": "1"}
        if self.country_codes:
            params["countrycodes"] = self.country_codes
        if self.email:
            params["email"] = self.email
        data = self._get_json("/search", params)
        if not isinstance(data, list):
            msg = f"nominatim answered {type(data).__name__}, expected a list"
            raise ProviderError(msg)
        if not data:
            return GeocodeResult(
                address, None, "unresolved", 0.0, "unresolved", "no_match", "nominatim: no match", None, "nominatim"
            )
        item = data[0]
        try:
            location = Location(float(item["lat"]), float(item["lon"]))
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"nominatim answered without a usable lat/lon: {item!r:.200}"
            raise ProviderError(msg) from exc
        precision, confidence = _nominatim_precision(item)
        label = str(item.get("display_name") or "")
        message = f"nominatim {item.get('category', '')}={item.get('type', '')}, rank {item.get('place_rank')}"
        return GeocodeResult(address, location, precision, confidence, "ok", None, message, label, "nominatim")


# AMap's "level" of a geocode answer and what it means here.
_AMAP_LEVELS: dict[str, tuple[Precision, float]] = {
    "门址": ("house", 0.85),  # a house number
    "单元号": ("house", 0.85),  # a unit of a building
    "楼号": ("house", 0.85),
    "兴趣点": ("poi", 0.7),  # a point of interest
    "热点商圈": ("poi", 0.4),
    "公交站台、地铁站": ("poi", 0.6),
    "道路": ("street", 0.5),
    "道路交叉路口": ("street", 0.5),
    "村庄": ("place", 0.35),
    "乡镇": ("place", 0.2),
    "开发区": ("place", 0.2),
    "区县": ("place", 0.1),
    "市": ("place", 0.05),
    "省": ("place", 0.02),
    "国家": ("place", 0.01),
}
# infocodes that mean "too many requests now": retried. Others (bad key, bad parameters) fail at once.
_AMAP_RETRY_INFOCODES = {"10003", "10004", "10014", "10019", "10020", "10021", "10022", "10023"}


class AMapGeocoder(_HttpProvider):
    """AMap's geocoding API (``/v3/geocode/geo``); answers are converted from GCJ-02 to WGS-84.

    Parameters
    ----------
    key
        The web-service key.
    base_url
        Default ``"https://restapi.amap.com"``.
    city
        Restrict to a city (name, citycode or adcode), as AMap's ``city``.
    min_interval_s
        At least this long between requests.
    **kwargs
        ``retries``, ``backoff_s``, ``timeout_s``, ``cache``, ``min_confidence``.
    """

    name = "amap"

    def __init__(
        self,
        key: str,
        base_url: str = "https://restapi.amap.com",
        *,
        city: str | None = None,
        min_interval_s: float = 0.05,
        **kwargs: Any,
    ) -> None:
        if not key:
            msg = "AMap needs a web-service key"
            raise GeocodeError(msg)
        super().__init__(base_url, min_interval_s=min_interval_s, **kwargs)
        self._key = key
        self.city = city

    def _retryable(self, data: Any) -> bool:
        return (
            isinstance(data, dict)
            and str(data.get("status")) == "0"
            and str(data.get("infocode")) in _AMAP_RETRY_INFOCODES
        )

    def _query(self, address: str, text: str) -> GeocodeResult:
        params = {"key": self._key, "address": text, "output": "JSON"}
        if self.city:
            params["city"] = self.city
        data = self._get_json("/v3/geocode/geo", params)
        if not isinstance(data, dict):
            msg = f"amap answered {type(data).__name__}, expected an object"
            raise ProviderError(msg)
        if str(data.get("status")) != "1":
            msg = f"amap refused the request: {data.get('info')} (infocode {data.get('infocode')})"
            raise ProviderError(msg)
        geocodes = data.get("geocodes") or []
        if not geocodes:
            return GeocodeResult(
                address, None, "unresolved", 0.0, "unresolved", "no_match", "amap: no match", None, "amap"
            )
        item = geocodes[0]
        try:
            lon_s, lat_s = str(item["location"]).split(",")
            lat, lon = gcj02_to_wgs84(float(lat_s), float(lon_s))
            location = Location(lat, lon)
        except (KeyError, ValueError) as exc:
            msg = f"amap answered without a usable location: {item!r:.200}"
            raise ProviderError(msg) from exc
        level = str(item.get("level") or "")
        precision, confidence = _AMAP_LEVELS.get(level, ("place", 0.05))
        message = f"amap level {level or '?'}; converted from GCJ-02"
        return GeocodeResult(
            address,
            location,
            precision,
            confidence,
            "ok",
            None,
            message,
            str(item.get("formatted_address") or ""),
            "amap",
        )
