"""Words that name whose record a person is looking at or about to join, for the portal's templates."""

_POSSESSIVE = {"F": "her", "female": "her", "M": "his", "male": "his"}


def whose_record(row):
    """ "your record" for the patient; else "Linh Nguyen's record, as her caregiver" (the chart's sex picks the
    pronoun; "their" when it says neither)."""
    if row["relation"] == "self":
        return "your record"
    name = f"{row['first_name']} {row['last_name']}"
    pronoun = _POSSESSIVE.get(row.get("patient_sex") or row.get("sex") or "", "their")
    return f"{name}'s record, as {pronoun} {row['relation']}"
