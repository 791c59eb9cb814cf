"""Units in words a person knows: UCUM codes (https://ucum.org/ucum, as US Core quantities carry them) to the
words a patient reads in the portal ("10*3/uL" -> "thousand per µL", "m[IU]/L" -> "mIU/L").

One table, pure, importing nothing: every portal page that shows a quantity asks ``unit_words``. A code the
table lacks is shown as charted; tests/gateway/test_unit_words.py fails when the demo or generator charts one.
"""

UNIT_WORDS = {
    # Counts of cells: UCUM writes powers of ten as 10*n.
    "10*3/uL": "thousand per µL",
    "10*6/uL": "million per µL",
    "10*9/L": "billion per liter",
    "10*12/L": "trillion per liter",
    # Concentrations, as US lab reports print them.
    "%": "%",
    "g/dL": "g/dL",
    "g/L": "g/L",
    "mg/dL": "mg/dL",
    "mg/L": "mg/L",
    "ug/dL": "mcg/dL",
    "ug/mL": "mcg/mL",
    "ng/dL": "ng/dL",
    "ng/mL": "ng/mL",
    "pg/mL": "pg/mL",
    "mmol/L": "mmol/L",
    "umol/L": "µmol/L",
    "meq/L": "mEq/L",
    "mosm/kg": "mOsm/kg",
    "m[IU]/L": "mIU/L",
    "u[IU]/mL": "µIU/mL",
    "[IU]/L": "IU/L",
    "U/L": "units per liter",
    "fL": "fL",
    "pg": "pg",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "mL/min": "mL/min",
    "mg/g": "mg/g",
    "mg/g{creat}": "mg/g creatinine",
    # Vital signs.
    "mm[Hg]": "mmHg",
    "/min": "per minute",
    "/d": "per day",
    "{score}": "points",  # a screening instrument's total (PHQ-9 7 points)
    "{beats}/min": "beats per minute",
    "{breaths}/min": "breaths per minute",
    "L/min": "liters per minute",
    "Cel": "°C",
    "[degF]": "°F",
    "kg": "kg",
    "g": "g",
    "[lb_av]": "lb",
    "[oz_av]": "oz",
    "cm": "cm",
    "m": "m",
    "[in_i]": "inches",
    "[ft_i]": "feet",
    "kg/m2": "kg/m²",
    "m2": "m²",
    # Doses and supplies (medications, vaccines): "mcg", not "µg", which is misread as "mg" (ISMP).
    "mg": "mg",
    "ug": "mcg",
    "mL": "mL",
    "L": "L",
    "[iU]": "units",
    "{tablet}": "tablets",
    "{capsule}": "capsules",
    "{puff}": "puffs",
    "{inhaler}": "inhalers",
    # Durations.
    "s": "seconds",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "wk": "weeks",
    "mo": "months",
    "a": "years",
}


def unit_words(code):
    """The words for a UCUM code; a code the table lacks as charted, and no code as ""."""
    if not code:
        return ""
    return UNIT_WORDS.get(code, code)
