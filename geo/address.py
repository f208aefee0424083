"""Address text normalisation and parsing for the offline geocoder.

Everything here is pure string work: no index, no I/O. Two kinds of output matter:

- *folded* text (``fold``): case-folded, diacritics stripped with a few letters folded by hand (``ø`` → ``o``,
  ``æ`` → ``ae``), full-width characters made ASCII, punctuation turned into spaces, whitespace collapsed;
- *keys* (``street_key``, ``housenumber_key``, ``place_key``): folded text with the spaces removed, so that
  ``"H.C. Ørsteds Vej"``, ``"HC Ørstedsvej"`` and ``"hc orsteds vej"`` all meet at ``"hcorstedsvej"``.

``parse_address`` splits a one-line address (``"Nørrebrogade 12A, 2200 København N"``,
``"12 Nørrebrogade"``, ``"Yrjönkatu 23 B, 00100 Helsinki"``, ``"深圳市龙岗区龙翔大道2001号"``) into street,
house number, postcode and city.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "ABBREVIATIONS",
    "ParsedAddress",
    "cjk_name_forms",
    "fold",
    "housenumber_key",
    "housenumber_value",
    "iter_address_candidates",
    "parse_address",
    "parse_address_candidates",
    "place_key",
    "street_key",
    "street_key_variants",
]

# Letters that NFKD does not decompose (or decomposes unhelpfully) and their usual ASCII spelling.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "ð": "d",
        "þ": "th",
        "ł": "l",
        "đ": "d",
        "ı": "i",
    }
)
_PUNCT_RE = re.compile(r"[^\w]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")

# Whole-token abbreviations and the words they may stand for. Which one is meant depends on the locale
# ("str" is a Danish "stræde" or a German "straße"), so the geocoder tries each expansion against its index
# instead of choosing here. Keys and values are folded.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    # Danish / Norwegian
    "v": ("vej",),
    "g": ("gade",),
    "gd": ("gade",),
    "pl": ("plads", "platz", "place"),
    "skt": ("sankt",),
    "st": ("sankt", "street", "straede"),
    "str": ("straede", "strasse", "street"),
    "boul": ("boulevard",),
    "blvd": ("boulevard", "bulevar"),
    "alle": ("alle",),
    # Finnish
    "k": ("katu",),
    "t": ("tie",),
    # Spanish / Mexican
    "av": ("avenida", "avenue"),
    "avda": ("avenida",),
    "c": ("calle",),
    "cda": ("cerrada",),
    "priv": ("privada",),
    "prol": ("prolongacion",),
    # English
    "ave": ("avenue",),
    "rd": ("road",),
}
# Abbreviations written as the end of a compound word with a full stop ("Ørstedsv.", "Mannerheimint.").
_SUFFIX_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "v": ("vej",),
    "g": ("gade",),
    "k": ("katu",),
    "t": ("tie",),
    "str": ("strasse", "straede"),
    "pl": ("plads", "platz"),
}
_MAX_VARIANTS = 24

_CJK_RE = re.compile(r"[\u3400-\u9fff]")
# Chinese administrative prefixes, removed before the street: 省 province, 市 city, 区 district, 县 county,
# 镇 town, 乡 township, 村 village (a village may also be the "street" of a rural address, so it is kept).
_CJK_ADMIN_RE = re.compile(
    r"^(?:[\u3400-\u9fff]{1,8}?(?:省|自治区|特别行政区)(?![\u3400-\u9fff]*(?:省|自治区)))?"
    r"(?:[\u3400-\u9fff]{1,8}?(?:市|自治州|地区|盟)(?![\u3400-\u9fff]*[省市]))*"
)
_CJK_DISTRICT_RE = re.compile(r"^[\u3400-\u9fff]{1,6}?(?:区|县|旗)(?=[\u3400-\u9fffA-Za-z0-9])")
# Town-level units (街道 sub-district, 镇 town, 乡 township) before the street or village.
_CJK_TOWN_RE = re.compile(r"^[\u3400-\u9fff]{1,6}?(?:街道|镇|乡)(?=[\u3400-\u9fff]{2})")
# Words around the address that say "near", "beside", "opposite", "entrance", "downstairs": noise.
_CJK_NOISE_RE = re.compile(r"(?:附近|旁边|旁|对面|对过|门口|周边|一带|楼下|隔壁|后面|东侧|西侧|南侧|北侧|这里|那里)+$")
# A flat detail after the house number: building 栋/幢/座/号楼, unit 单元, room 室, floor 层/楼, household 户.
_CJK_FLAT_RE = re.compile(r"(?:[A-Za-z]?\d+|[甲乙丙丁A-Za-z])(?:栋|幢|座|号楼|单元|室|层|楼|户).*$")
# 甲/乙/丙/丁 before a number are the Chinese "A/B/C/D" of a subdivided plot: part of the number.
_CJK_NUMBER_RE = re.compile(r"(?P<num>[甲乙丙丁]?\d+(?:-\d+)?)(?:号|$)")
_CJK_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK_UNITS = {"十": 10, "百": 100, "千": 1000}

# A house number: digits, an optional letter (maybe after a space: Finnish "23 B"), an optional range.
_HN = r"\d{1,5}(?:\s?[A-Za-z](?![^\W_]))?(?:\s?[-/]\s?\d{1,5}(?:\s?[A-Za-z](?![^\W_]))?)?"
_HN_TOKEN_RE = re.compile(rf"(?<![^\s,])(?P<num>{_HN})(?=$|[\s,])")
_LEADING_NUMBER_RE = re.compile(rf"^(?P<num>{_HN})[\s,]+(?P<street>[^\W\d_][^,]*)$")
_POSTCODE_RE = re.compile(r"^(?:[A-Za-z]{1,2}-?)?(?P<pc>\d{4,6}|\d{3}\s\d{2})(?:\s+(?P<city>.*))?$")
_CITY_POSTCODE_RE = re.compile(r"^(?P<city>\D+?)\s+(?P<pc>\d{4,6})$")
# Danish floor/door suffixes ("st. tv", "1. th", "2 mf") and similar flat details to drop.
_FLAT_RE = re.compile(
    r"^(?:st|kl|\d{1,2})\.?(?:\s*(?:sal|th|tv|mf)\.?|\s+\d{1,3})?$|^(?:lgh|apt|apto|int|piso|dpto|as|asunto)\b.*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """The parts found in a one-line address; each is the caller's raw text (stripped) or ``None``."""

    street: str | None
    housenumber: str | None
    postcode: str | None
    city: str | None


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Fold ``text`` for comparison: case, diacritics, width, punctuation and whitespace.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        Lower-case ASCII-ish text (non-Latin scripts such as Chinese are kept), words separated by one space.

    Examples
    --------
    >>> fold("  H.C. Ørsteds  VEJ ")
    'h c orsteds vej'
    >>> fold("Töölönlahdenkatu １２")
    'toolonlahdenkatu 12'
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL_FOLDS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _PUNCT_RE.sub(" ", text).replace("_", " ")
    return _SPACE_RE.sub(" ", text).strip()


def street_key(street: str) -> str:
    """The comparison key of a street name: folded, with abbreviations left as written, spaces removed."""
    return fold(street).replace(" ", "")


def place_key(text: str) -> str:
    """The comparison key of a city or postcode (folded, spaces removed)."""
    return fold(text).replace(" ", "")


def street_key_variants(street: str) -> list[str]:
    """Candidate keys of a street name as typed, its abbreviations expanded in every known way.

    The first variant is the plain ``street_key``; the others expand whole-token abbreviations
    (``"Skt. Hans Torv"`` → ``"sankthanstorv"``) and a final compound abbreviation ending in a full stop
    (``"Ørstedsv."`` → ``"orstedsvej"``). At most a couple of dozen variants are produced.
    """
    return list(_street_key_variants(street))


@functools.lru_cache(maxsize=1 << 14)
def _street_key_variants(street: str) -> tuple[str, ...]:
    tokens = fold(street).split()
    if not tokens:
        return ()
    options: list[tuple[str, ...]] = []
    for tok in tokens:
        expansions = ABBREVIATIONS.get(tok, ())
        options.append((tok, *[e for e in expansions if e != tok]))
    variants: list[str] = []
    for combo in itertools.islice(itertools.product(*options), _MAX_VARIANTS):
        key = "".join(combo)
        if key not in variants:
            variants.append(key)
    if street.rstrip().endswith("."):
        last = tokens[-1]
        base = "".join(tokens)
        for abbr, expansions in _SUFFIX_ABBREVIATIONS.items():
            if last.endswith(abbr) and len(last) > len(abbr):
                for exp in expansions:
                    key = base[: -len(abbr)] + exp
                    if key not in variants:
                        variants.append(key)
    return tuple(variants)


def housenumber_key(housenumber: str) -> str:
    """The comparison key of a house number: ``"23 B"`` → ``"23b"``, ``"12 - 14"`` → ``"12-14"``."""
    text = unicodedata.normalize("NFKC", housenumber).casefold().replace("号", "")
    text = text.split(",")[0]
    return re.sub(r"[^0-9a-z/\-甲乙丙丁]", "", text)


def housenumber_value(housenumber: str) -> int | None:
    """The leading integer of a house number (``"12-14"`` → 12, ``"5b"`` → 5), ``None`` when there is none."""
    m = re.match(r"\s*(\d+)", unicodedata.normalize("NFKC", housenumber))
    return int(m.group(1)) if m else None


def _cjk_numeral(text: str) -> str:
    """Chinese numerals in ``text`` as Arabic digits (``"二十三号"`` → ``"23号"``)."""

    def convert(match: re.Match[str]) -> str:
        total, current = 0, 0
        for ch in match.group(0):
            if ch in _CJK_DIGITS:
                current = _CJK_DIGITS[ch]
            else:
                total += (current or 1) * _CJK_UNITS[ch]
                current = 0
        return str(total + current)

    return re.sub(r"[零〇一二两三四五六七八九十百千]+(?=号|栋|幢|座|单元|室|楼|层|弄|巷)", convert, text)


def _cjk_all_numerals(text: str) -> str:
    """Every run of Chinese numerals as Arabic digits (``"清华东路二十七号院"`` → ``"清华东路27号院"``)."""

    def convert(match: re.Match[str]) -> str:
        total, current = 0, 0
        for ch in match.group(0):
            if ch in _CJK_DIGITS:
                current = _CJK_DIGITS[ch]
            else:
                total += (current or 1) * _CJK_UNITS[ch]
                current = 0
        return str(total + current)

    return re.sub(r"[零〇一二两三四五六七八九十百千]+", convert, text)


def cjk_name_forms(text: str) -> list[str]:
    """The ways a Chinese query may name a POI or building: administrative prefixes and noise removed, with and
    without its Chinese numerals as digits (``"广东省深圳市龙岗区祥波书院C座附近"`` → ``["祥波书院C座", …]``).

    The flat details are kept (``"C座"`` is part of a building's name); full-width forms are made ASCII.
    """
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    forms: list[str] = []
    for part in [text, *re.split(r"[,，;；]", text)]:
        if not part:
            continue
        admin = _CJK_ADMIN_RE.match(part)
        if admin and admin.group(0):
            part = part[admin.end() :]
        if district := _CJK_DISTRICT_RE.match(part):
            part = part[district.end() :]
        if town := _CJK_TOWN_RE.match(part):
            part = part[town.end() :]
        part = _CJK_NOISE_RE.sub("", part)
        for form in (part, _cjk_all_numerals(part)):
            if form and form not in forms:
                forms.append(form)
    return forms


def _parse_cjk(text: str) -> ParsedAddress:
    """Parse a Chinese address: admin prefixes, street, the number (before 号); flat details dropped.

    Both the Chinese order (``"深圳市龙岗区龙翔大道2001号"``) and the label order of this module
    (``"龙翔大道 2001号, 518172 深圳市"``) are understood.
    """
    parts = [p.replace(" ", "") for p in re.split(r"[,，;；]", text) if p.strip()]
    parts = [_cjk_numeral(p) for p in parts if p]
    postcode: str | None = None
    city: str | None = None
    head: str | None = None
    for part in parts:
        m = re.search(r"(?<!\d)(\d{6})(?!\d)", part)
        if m and "号" not in part[m.end() : m.end() + 1]:
            postcode = postcode or m.group(1)
            part = part[: m.start()] + part[m.end() :]
        if not part:
            continue
        if head is None:
            head = part
        elif city is None:
            city = part
    if head is None:
        return ParsedAddress(None, None, postcode, city)
    admin = _CJK_ADMIN_RE.match(head)
    if admin and admin.group(0):
        city = city or admin.group(0)
        head = head[admin.end() :]
    district = _CJK_DISTRICT_RE.match(head)
    if district:
        head = head[district.end() :]
    town = _CJK_TOWN_RE.match(head)
    if town:
        head = head[town.end() :]
    head = _CJK_NOISE_RE.sub("", head)
    numbered = _CJK_NUMBER_RE.search(head)
    if numbered is not None and head[numbered.end() - 1 : numbered.end()] == "号":
        head = head[: numbered.end()]  # everything after "…号" is building, unit and room
    else:
        head = _CJK_FLAT_RE.sub("", head) or head
    num = _CJK_NUMBER_RE.search(head)
    if num and num.start() > 0:
        return ParsedAddress(head[: num.start()], num.group("num"), postcode, city)
    return ParsedAddress(head or None, None, postcode, city)


def _split_postcode_city(part: str) -> tuple[str | None, str | None]:
    """``"2200 København N"`` → (``"2200"``, ``"København N"``); also ``"Helsinki 00100"``, ``"Helsinki"``."""
    part = part.strip()
    m = _POSTCODE_RE.match(part)
    if m:
        return m.group("pc"), (m.group("city") or "").strip() or None
    m = _CITY_POSTCODE_RE.match(part)
    if m:
        return m.group("pc"), m.group("city").strip()
    return None, part or None


def _split_street_number(head: str) -> tuple[str | None, str | None, str]:
    """Split ``"Calle 5 de Mayo 12 2. th"`` into street, house number and what follows the number.

    The number is the first number-like token after some letters whose remainder is empty, a flat detail or
    starts with a postcode; a number before the street (``"12 Nørrebrogade"``) is accepted too.
    """
    m = _LEADING_NUMBER_RE.match(head)
    if m:
        return m.group("street").strip(), m.group("num"), ""
    last: re.Match[str] | None = None
    for tok in _HN_TOKEN_RE.finditer(head):
        street = head[: tok.start()].strip(" ,")
        if not re.search(r"[^\W\d_]", street):
            continue
        rest = head[tok.end() :].strip(" ,")
        if not rest or _FLAT_RE.match(rest) or _POSTCODE_RE.match(rest):
            return street, tok.group("num"), rest
        last = tok
    if last is not None and not re.search(r"\d", head[last.end() :]):
        # "Nørrebrogade 12 København": a city after the last number, without a comma.
        street = head[: last.start()].strip(" ,")
        if re.search(r"[^\W\d_]", street):
            return street, last.group("num"), head[last.end() :].strip(" ,")
    return head, None, ""


def parse_address(text: str) -> ParsedAddress:
    """Split a one-line address into street, house number, postcode and city.

    Understands ``"Street 12A, 2100 City"`` (European order), ``"12 Street, City"`` (number first), no commas
    (``"Nørrebrogade 12 2200 København N"``), Danish floor/door details (``"…12, 2. tv"``, dropped) and
    simple Chinese addresses. Parts that cannot be told apart are left ``None``; nothing is guessed.

    Parameters
    ----------
    text
        The address as typed.

    Returns
    -------
    ParsedAddress
        The raw (unfolded) text of each part found.

    Examples
    --------
    >>> parse_address("Nørrebrogade 12A, 2200 København N")
    ParsedAddress(street='Nørrebrogade', housenumber='12A', postcode='2200', city='København N')
    >>> parse_address("12 Nørrebrogade")
    ParsedAddress(street='Nørrebrogade', housenumber='12', postcode=None, city=None)
    """
    text = _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    if not text:
        return ParsedAddress(None, None, None, None)
    if _CJK_RE.search(text):
        return _parse_cjk(text)
    # "S/N", "SN": sin número, no house number (Spanish).
    text = re.sub(r"(?i)(?<![^\s,])s\s?/?\s?n(?![^\s,])", "", text)
    parts = [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]
    if not parts:
        return ParsedAddress(None, None, None, None)
    # "12, Nørrebrogade, ..." -> the number belongs to the next part.
    if len(parts) > 1 and re.fullmatch(_HN, parts[0]):
        parts = [f"{parts[0]} {parts[1]}", *parts[2:]]
    head, tail = parts[0], parts[1:]

    street, number, rest = _split_street_number(head)
    if not tail and not rest and number is None and street is not None:
        # A single part without a number, e.g. "Nørrebrogade" or "Nørrebrogade 2200 København".
        return ParsedAddress(street, None, None, None)

    postcode: str | None = None
    city: str | None = None
    candidates = ([rest] if rest else []) + tail
    for part in candidates:
        if _FLAT_RE.match(part):
            continue
        pc, c = _split_postcode_city(part)
        if pc and postcode is None:
            postcode = pc
            if c and city is None:
                city = c
        elif c and city is None and not re.search(r"\d", c):
            city = c
    return ParsedAddress(street, number.replace(" ", "") if number else None, postcode, city)


def parse_address_candidates(text: str) -> list[ParsedAddress]:
    """Readings of an address, most likely first, for the geocoder to try in turn.

    After ``parse_address`` come: the address without leading name parts (``"Asemahalli, Kaivokatu 1"`` →
    ``"Kaivokatu 1"``), the parts rotated (``"2200 København N, Nørrebrogade 12"``), and the first part read wholly
    as a street name (``"Calle 5 de Mayo"``).
    """
    return list(iter_address_candidates(text))


def iter_address_candidates(text: str) -> Iterator[ParsedAddress]:
    """``parse_address_candidates`` one at a time: a caller that is satisfied early parses no further."""
    first = parse_address(text)
    yield first
    seen = [first]
    parts = [p.strip() for p in re.split(r"[,;\n]", unicodedata.normalize("NFKC", text)) if p.strip()]
    if len(parts) < 2:
        return
    cjk = bool(_CJK_RE.search(text))

    def later() -> Iterator[ParsedAddress]:
        if not cjk and not re.search(r"\d", parts[0]):
            for k in range(1, len(parts)):
                rest = parse_address(", ".join(parts[k:]))
                if rest.street and rest.housenumber:
                    yield rest
                    break
        if len(parts) <= 5 and not cjk:
            # Reordered parts ("2200 København N, Nørrebrogade 12"): read each later part as the head.
            for k in range(1, len(parts)):
                rotated = parse_address(", ".join(parts[k:] + parts[:k]))
                if rotated.street and rotated.housenumber and not re.search(r"\d", rotated.street):
                    yield rotated
        if first.housenumber is not None and first.street != parts[0]:
            yield ParsedAddress(parts[0], None, first.postcode, first.city)

    for candidate in later():
        if candidate not in seen:
            seen.append(candidate)
            yield candidate
