"""Units in words a person knows: one table (gateway/unit_words.py) from UCUM codes, covering every unit the
demo practice and the synthetic generator chart, and used by the portal's results and vitals."""

import datetime as dt

import orjson
import pytest

from fixtures import synthetic
from gateway import store
from gateway.unit_words import unit_words


@pytest.mark.parametrize(
    "code, words",
    [
        ("10*3/uL", "thousand per µL"),
        ("10*6/uL", "million per µL"),
        ("m[IU]/L", "mIU/L"),
        ("mg/dL", "mg/dL"),
        ("mmol/L", "mmol/L"),
        ("%", "%"),
        ("g/dL", "g/dL"),
        ("fL", "fL"),
        ("pg", "pg"),
        ("U/L", "units per liter"),
        ("mL/min/{1.73_m2}", "mL/min/1.73 m²"),
        ("[lb_av]", "lb"),
        ("kg", "kg"),
        ("cm", "cm"),
        ("[in_i]", "inches"),
        ("Cel", "°C"),
        ("[degF]", "°F"),
        ("/min", "per minute"),
        ("mm[Hg]", "mmHg"),
        ("kg/m2", "kg/m²"),
        ("ug", "mcg"),
        ("{tablet}", "tablets"),
    ],
)
def test_a_ucum_code_in_words(code, words):
    assert unit_words(code) == words


def test_a_unit_the_table_lacks_is_shown_as_charted_and_nothing_stays_nothing():
    assert (unit_words("furlong/fortnight"), unit_words(""), unit_words(None)) == ("furlong/fortnight", "", "")


def _ucum_codes(db):
    codes = set()

    def walk(node):
        if isinstance(node, dict):
            if "unitsofmeasure.org" in node.get("system", "") and node.get("code"):
                codes.add(node["code"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for (body,) in db.execute("SELECT json FROM resources"):
        walk(orjson.loads(body))
    return codes


def test_every_unit_the_demo_and_the_generator_chart_has_words(demo_db_path, new_db_path):
    from gateway.unit_words import UNIT_WORDS

    generated = store.connect(new_db_path("generated"))
    synthetic.generate(generated, 300, 7, today=dt.date(2026, 11, 25))
    codes = _ucum_codes(store.connect(demo_db_path)) | _ucum_codes(generated)
    assert {"10*3/uL", "m[IU]/L", "mm[Hg]", "[lb_av]"} <= codes  # the walk finds what the charts hold
    assert sorted(code for code in codes if code not in UNIT_WORDS) == []
