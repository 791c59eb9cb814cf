"""Read the parts of a UDI carrier in the GS1 human-readable form: ``(01)GTIN(11)YYMMDD(17)YYMMDD(10)lot(21)serial``.

A pure function for the implants mapper and the loaders. The FDA's UDI rule (21 CFR 801.20) makes the device
identifier (GS1 application identifier 01, a 14-digit GTIN) the first part and the production identifiers
follow: 11 manufacture date, 17 expiration date, 10 lot, 21 serial (GS1 General Specifications 3.4 and 3.2).
A carrier that does not read as that (another issuer, a typo, an unknown identifier) gives no parts at all,
so a half-read carrier never shows a wrong lot or serial; the carrier itself is still kept and served.
"""

import datetime as dt
import re

_PART = re.compile(r"\((\d{2})\)([^()]+)")
_FIELDS = {
    "01": "device_identifier",
    "11": "manufacture_date",
    "17": "expiration_date",
    "10": "lot_number",
    "21": "serial_number",
}
_LONGEST = {"10": 20, "21": 20}  # GS1 General Specifications 3.2: lot and serial are up to 20 characters
EMPTY = dict.fromkeys(_FIELDS.values())


def parse_hrf(carrier):
    """Return the UDI parts of a GS1 HRF carrier as a dict (keys of ``EMPTY``); all None when malformed."""
    text = (carrier or "").strip()
    if not text.startswith("(01)"):
        return dict(EMPTY)
    parts, end = {}, 0
    for match in _PART.finditer(text):
        if match.start() != end:
            return dict(EMPTY)
        end = match.end()
        ai, value = match.group(1), match.group(2).strip()
        field = _FIELDS.get(ai)
        if field is None or field in parts or len(value) > _LONGEST.get(ai, 20):
            return dict(EMPTY)
        if ai == "01":
            if not re.fullmatch(r"\d{14}", value):
                return dict(EMPTY)
        elif ai in ("11", "17"):
            value = _gs1_date(value)
            if value is None:
                return dict(EMPTY)
        parts[field] = value
    if end != len(text):
        return dict(EMPTY)
    return {**EMPTY, **parts}


def _gs1_date(value):
    """YYMMDD -> ISO date; day 00 means the month's last day (GS1 General Specifications 3.4.2-3.4.4)."""
    if not re.fullmatch(r"\d{6}", value):
        return None
    # The century: GS1 General Specifications 7.12 slides a window around the current year; devices scanned
    # now were made in this century, so 20YY holds until 2050.
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:])
    if not 1 <= month <= 12:
        return None
    if day == 0:
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return (following - dt.timedelta(days=1)).isoformat()
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None
