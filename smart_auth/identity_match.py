"""The rule that decides whether an identity verified by a digital ID is the person a chart describes.

Pure: a chart row and the provider's verified claims (OpenID Connect Core 1.0 section 5.1 names) in, the names of
the fields that disagree out. An empty list is a match.

- **Given name**: ``given_name`` equals the chart's first name, or first and middle names together (OIDC allows
  several given names separated by spaces).
- **Family name**: ``family_name`` equals the chart's last name.
- Names are compared without case, accents, hyphens, spaces, apostrophes or other punctuation
  ("RAMÍREZ-LÓPEZ" = "Ramirez Lopez"); a name that is missing, or empty once normalised, never matches.
- **Date of birth**: ``birthdate`` equals the chart's exactly (YYYY-MM-DD); missing, or a year withheld as 0000,
  never matches.
- **Address**, only when the provider sends one: its postal code (first five digits, so ZIP+4 is fine) and the first
  line of ``street_address`` (case, accents and punctuation ignored, common USPS suffixes such as Street/St
  treated alike) must equal the chart's, each compared when both sides have it.
"""

import re
import unicodedata

# USPS Publication 28, Appendix C1 (street suffixes) and C2 (secondary unit designators): the common ones.
_ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "boulevard": "blvd",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "circle": "cir",
    "square": "sq",
    "apartment": "apt",
    "suite": "ste",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}


def _folded(text):
    """Lower case without accents: "JOSÉ" -> "jose"."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalized_name(text):
    """A name for comparison: letters and digits only, folded ("Ramírez-López" -> "ramirezlopez")."""
    return re.sub(r"[\W_]+", "", _folded(text))


def normalized_street(text):
    """An address line for comparison: folded words, punctuation dropped, USPS suffixes abbreviated."""
    words = re.findall(r"[a-z0-9]+", _folded(text))
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def _postal(text):
    return re.sub(r"\D", "", str(text or ""))[:5]


def _names_equal(verified, *chart_forms):
    wanted = normalized_name(verified)
    return bool(wanted) and any(wanted == normalized_name(form) for form in chart_forms if normalized_name(form))


def _address_matches(chart, address):
    if not isinstance(address, dict):
        return False
    lines = str(address.get("street_address") or "").splitlines()
    first_line = lines[0] if lines else ""
    if (
        first_line
        and chart.get("address_line")
        and normalized_street(first_line) != normalized_street(chart["address_line"])
    ):
        return False
    postal = _postal(address.get("postal_code"))
    return not (postal and chart.get("postal_code") and postal != _postal(chart["postal_code"]))


def mismatched_fields(chart, claims):
    """Which fields of ``claims`` (given name, family name, date of birth, address) disagree with ``chart``."""
    first, middle = chart.get("first_name") or "", chart.get("middle_name") or ""
    problems = []
    if not _names_equal(claims.get("given_name"), first, f"{first} {middle}" if middle else ""):
        problems.append("given name")
    if not _names_equal(claims.get("family_name"), chart.get("last_name")):
        problems.append("family name")
    birth = str(claims.get("birthdate") or "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth) or birth.startswith("0000") or birth != chart.get("birth_date"):
        problems.append("date of birth")
    if "address" in claims and not _address_matches(chart, claims["address"]):
        problems.append("address")
    return problems
