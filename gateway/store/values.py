"""How stored FHIR values compare: a date as the half-open millisecond range it covers, a string folded.

Both the write side (the search index) and the read side (search parsing) use these, so they live in the store.
"""

import datetime as dt
import re
import unicodedata

END_OF_TIME = 253402300800000  # 10000-01-01T00:00:00Z in ms: the open end of a Period.
_DATE_RE = re.compile(
    r"(?P<y>\d{4})(-(?P<m>\d{2})(-(?P<d>\d{2})(T(?P<H>\d{2}):(?P<M>\d{2})(:(?P<S>\d{2})(\.(?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def normalize(text):
    """Fold case and strip accents, as FHIR string search requires."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def date_range(value):
    """Return the half-open range ``(low_ms, high_ms)`` a FHIR date, dateTime or instant covers.

    A partial date is the whole period it names; a time without a zone is taken as UTC (R4 3.1.1.4.2).
    """
    m = _DATE_RE.match(value or "")
    if not m:
        raise ValueError(f"'{value}' is not a FHIR date")
    g = m.groupdict()
    year, month, day = int(g["y"]), int(g["m"] or 1), int(g["d"] or 1)
    if g["H"] is None:
        low = dt.datetime(year, month, day, tzinfo=dt.timezone.utc)
        try:
            if g["d"]:
                high = low + dt.timedelta(days=1)
            elif g["m"]:
                high = low.replace(year=year + month // 12, month=month % 12 + 1)
            else:
                high = low.replace(year=year + 1)
        except (OverflowError, ValueError):  # a period that ends with the year 9999 ends with time itself
            return _ms(low), END_OF_TIME
        return _ms(low), _ms(high)
    tz = dt.timezone.utc
    if g["tz"] and g["tz"] != "Z":
        sign = 1 if g["tz"][0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6])))
    fraction = g["f"] or ""
    micro = int((fraction + "000000")[:6])
    low = dt.datetime(year, month, day, int(g["H"]), int(g["M"]), int(g["S"] or 0), micro, tzinfo=tz)
    if g["S"] is None:
        width = 60_000
    elif fraction:
        width = max(1, 10 ** (3 - min(len(fraction), 3)))
    else:
        width = 1000
    return _ms(low), _ms(low) + width


def _ms(moment):
    return int(moment.timestamp() * 1000) if moment.year < 9999 else END_OF_TIME
