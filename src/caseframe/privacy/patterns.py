"""Detectors for identifiers that have a shape: e-mail, phone, ID numbers, postcodes, URLs.

Each pattern is a regular expression that finds candidates and, where the identifier carries
a check digit or a date, a validator that rejects look-alikes. The trade-offs (what each one
deliberately does not find) are described in docs/privacy.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from caseframe.errors import InvalidInput
from caseframe.privacy.hit import Hit

# -- validators -----------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """The Luhn check used by Swedish personal identity numbers (weights 2,1,2,1,... from left
    on the 10-digit form)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def personnummer_kind(candidate: str) -> str | None:
    """ "personnummer", "samordningsnummer" or None for an invalid number.

    Accepts YYMMDD-NNNN, YYMMDD+NNNN (100 years or older), YYMMDDNNNN and the 12-digit forms
    with century. A samordningsnummer (coordination number) adds 60 to the day.
    """
    digits = re.sub(r"[-+\s]", "", candidate)
    if len(digits) == 12:
        centuries = [int(digits[:2])]
        digits = digits[2:]
    elif len(digits) == 10:
        centuries = [19, 20, 18]
    else:
        return None
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    kind = "personnummer"
    if dd > 60:
        kind, dd = "samordningsnummer", dd - 60
    if not any(_is_date(c * 100 + yy, mm, dd) for c in centuries):
        return None
    return kind if luhn_valid(digits) else None


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def nhs_number_valid(candidate: str) -> bool:
    """NHS number check digit: modulus 11 with weights 10..2 on the first nine digits."""
    digits = re.sub(r"\D", "", candidate)
    if len(digits) != 10:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def phone_valid(candidate: str) -> bool:
    """Plausible length and prefix for a Swedish, UK or international number.

    Candidates must start with + or 00 (international) or a single 0 (national trunk prefix
    in both Sweden and the UK); that rule alone rules out counts, years and reference numbers.
    """
    cleaned = candidate.replace("(0)", "")
    digits = re.sub(r"\D", "", cleaned)
    if cleaned.startswith("+") or digits.startswith("00"):
        number = digits[2:] if digits.startswith("00") else digits
        if number.startswith("46"):
            return 7 <= len(number) - 2 <= 9
        if number.startswith("44"):
            return 9 <= len(number) - 2 <= 10
        return 8 <= len(number) <= 15 and number[0] != "0"
    if not digits.startswith("0") or digits.startswith("00"):
        return False
    first_group = re.match(r"\(?(\d+)", cleaned)
    # "0 10 20 30" is a list of numbers; every real trunk-prefixed area code has 2+ digits.
    return 8 <= len(digits) <= 11 and first_group is not None and len(first_group.group(1)) >= 2


def uk_postcode_valid(candidate: str) -> bool:
    # Postcodes are written in capitals, sometimes all in lower case; "Ab1 2cd" is not one.
    return candidate.isupper() or candidate.islower()


def reference_valid(candidate: str) -> bool:
    return sum(c.isdigit() for c in candidate) >= 4


# -- patterns -------------------------------------------------------------------------------

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "januari|februari|mars|maj|juni|juli|augusti|oktober|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|okt|nov|dec"
)
_DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})"
    rf"|\d{{1,2}}(?:st|nd|rd|th|:e|:a)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|(?:19|20)\d{2}"
)
_DOB_INTRO = (
    r"\b(?:born|DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|"
    r"född|födelsedatum|födelsedag)"
)


@dataclass(frozen=True)
class Pattern:
    name: str
    category: str
    regex: re.Pattern[str]
    validator: Callable[[str], bool] | None = None
    group: str | int = 0  # the part of the match that is replaced


def _p(name: str, category: str, regex: str, flags: int = 0, **kw) -> Pattern:
    return Pattern(name, category, re.compile(regex, flags), **kw)


PATTERNS: tuple[Pattern, ...] = (
    _p(
        "email",
        "email",
        r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])",
    ),
    _p(
        "url",
        "url",
        r"\b(?:https?://|www\.)[^\s<>\"'\u201c\u201d]+[^\s<>\"'\u201c\u201d.,;:!?)\]}]",
        re.IGNORECASE,
    ),
    _p(
        "personnummer",
        "personnummer",
        r"(?<![\d+-])(?:(?:18|19|20)\d{6}[-+]?|\d{6}[-+]?)\d{4}(?![\d-])",
        validator=lambda s: personnummer_kind(s) is not None,
    ),
    _p(
        "nhs_number",
        "nhs_number",
        r"(?<![\d-])\d{3}(?P<sep>[ -]?)\d{3}(?P=sep)\d{4}(?![\d-])",
        validator=nhs_number_valid,
    ),
    _p(
        "phone",
        "phone",
        r"(?<![\w+])(?:\+|00(?=[1-9]))?\(?\d[\d \u00a0()-]*\d(?![\w-])",
        validator=phone_valid,
    ),
    _p(
        "postcode_uk",
        "postcode",
        r"\b(?:GIR ?0AA|[A-PR-UWYZ](?:\d[\dA-HJKPSTUW]?|[A-HK-Y]\d[\dABEHMNPRV-Y]?) ?"
        r"\d[ABD-HJLNP-UW-Z]{2})\b",
        re.IGNORECASE,
        validator=uk_postcode_valid,
    ),
    # A bare "123 45" is as often a number as a postcode, so a Swedish postcode needs the
    # country prefix (SE-/S-) or the town after it, as in an address.
    _p(
        "postcode_se",
        "postcode",
        r"(?<![\w-])(?:(?:SE|S)-?\s?[1-9]\d{2}\s?\d{2}(?!\w)"
        r"|[1-9]\d{2}\s?\d{2}(?=[ \u00a0]{1,2}[A-ZÅÄÖ][A-ZÅÄÖa-zåäöé-]+))",
    ),
    _p(
        "date_of_birth",
        "date_of_birth",
        _DOB_INTRO + rf"\s*[:,]?\s*(?:(?:on|in|den|the|år)\s+)?(?P<v>{_DATE})(?!\d)",
        re.IGNORECASE,
        group="v",
    ),
    _p(
        "reference_number",
        "reference_number",
        r"\b(?:(?:incident|case|crew|call|job|patient|hospital|member|ärende|journal)\s*"
        r"(?:no\.?|nr\.?|number|num\.?|nummer|#)|ref(?:erence)?(?:\s*(?:no\.?|nr\.?|number|#))?)"
        r"\s*[:#]?\s*(?P<v>[A-Za-z]{0,3}\d[\dA-Za-z/-]*\d)(?![\w-])",
        re.IGNORECASE,
        validator=reference_valid,
        group="v",
    ),
    # A capitalised name right after a greeting or an introduction: "Hi, Jean", "I'm Lori",
    # "my name is Terri", "are you Julie Thompson?", "Hej Anna", "jag heter Anna". The words
    # excluded are capitalised words that often follow those phrases without being names.
    _p(
        "introduced_name",
        "person",
        r"(?i:\b(?:hi|hello|hey|hej|hallå|my\s+name\s+is|my\s+name's|my\s+name\u2019s|"
        r"call\s+me|i'm\s+called|i'm|i\u2019m|i\s+am|this\s+is|are\s+you|jag\s+heter|"
        r"jag\s+är|mitt\s+namn\s+är))"
        r",?[ \u00a0]+(?!(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Doctor|Nurse|Sir|Madam|I|I'm|You|Thank|"
        r"Thanks|Are|Good|Again|Everyone|Everybody|There|All|Alla|Guys|Welcome|Team|Och|Du|Ni|"
        r"OK|Okay|Sorry|Fine|Not|So|Just|Here|Back|Done|American|British|English|Scottish|"
        r"Welsh|Irish|Swedish|Catholic|Christian|Muslim|Jewish|Gay)\b)"
        r"(?P<v>[A-ZÅÄÖ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?"
        r"(?:[ \u00a0][A-ZÅÄÖ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?)?)",
        group="v",
    ),
    # English titles before a capitalised name: "Dr Patel", "Mrs Jane Smith".
    _p(
        "titled_name",
        "person",
        r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor)\.?[ \u00a0]+"
        r"(?P<v>[A-Z][a-z]+(?:[-'\u2019][A-Z]?[a-z]+)?(?:[ \u00a0][A-Z][a-z]+(?:-[A-Z][a-z]+)?)?)",
        group="v",
    ),
)
PATTERN_NAMES = tuple(p.name for p in PATTERNS)
# Order of preference when two patterns claim the same span: checksums first.
PATTERN_PRIORITY = {
    p.name: i
    for i, p in enumerate(
        sorted(PATTERNS, key=lambda p: p.name not in ("personnummer", "nhs_number"))
    )
}


def select_patterns(names: Iterable[str] | None = None) -> tuple[Pattern, ...]:
    if names is None:
        return PATTERNS
    wanted = list(names)
    unknown = [n for n in wanted if n not in PATTERN_NAMES]
    if unknown:
        raise InvalidInput(
            f"unknown pattern {', '.join(unknown)}", hint=f"use {', '.join(PATTERN_NAMES)}"
        )
    return tuple(p for p in PATTERNS if p.name in wanted)


def find_patterns(text: str, names: Iterable[str] | None = None) -> list[Hit]:
    """Every validated match of the selected patterns (all by default); overlaps included."""
    hits = []
    for pattern in select_patterns(names):
        for m in pattern.regex.finditer(text):
            start, end = m.span(pattern.group)
            value = text[start:end]
            if pattern.validator is not None and not pattern.validator(value):
                continue
            source = f"pattern:{pattern.name}"
            if pattern.name == "personnummer" and personnummer_kind(value) == "samordningsnummer":
                source = "pattern:samordningsnummer"
            hits.append(Hit(start, end, pattern.category, source, None, value))
    return hits
