"""Which results make a trend: the same test (code and unit) twice or more, with numbers and dates."""

import pytest

from gateway.trends import trends_by_id

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def obs(rid, code, name, when, value, unit="mg/dL", low=None, high=None):
    found = {
        "resourceType": "Observation",
        "id": rid,
        "code": {"coding": [{"system": LOINC, "code": code}], "text": name},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }
    if low is not None or high is not None:
        found["referenceRange"] = [
            {
                k: {"value": v, "unit": unit, "system": UCUM, "code": unit}
                for k, v in (("low", low), ("high", high))
                if v
            }
        ]
    return found


@pytest.fixture
def app_context(make_app, empty_db_path):
    with make_app(empty_db_path).app_context():
        yield


def test_a_test_taken_twice_is_a_trend_and_one_taken_once_is_not(app_context):
    found = trends_by_id(
        [
            obs("ldl-1", "13457-7", "LDL Cholesterol", "2026-04-19T16:30:00Z", 154, high=99),
            obs("ldl-2", "13457-7", "LDL Cholesterol", "2026-10-16T16:30:00Z", 139, high=99),
            obs("tsh-1", "3016-3", "Thyrotropin", "2026-05-09T16:30:00Z", 5.8, unit="m[IU]/L", low=0.4, high=4.0),
            obs("ldl-3", "13457-7", "LDL Cholesterol", "2026-11-01T16:30:00Z", 3.6, unit="mmol/L"),
        ]
    )
    assert sorted(found) == ["ldl-1", "ldl-2"]  # TSH once; the LDL in mmol/L is another series, of one
    trend = found["ldl-1"]
    assert trend is found["ldl-2"] and trend.newest_id == "ldl-2" and trend.range_text == "up to 99 mg/dL"
    assert trend.readings == [
        {"date": "2026-10-16T16:30:00Z", "day": "Oct 16, 2026", "text": "139 mg/dL"},
        {"date": "2026-04-19T16:30:00Z", "day": "Apr 19, 2026", "text": "154 mg/dL"},
    ]
    # The name is the everyday one of gateway/portal/words.py (LOINC 13457-7), not the chart's display.
    words = "LDL (bad) cholesterol: 154 mg/dL on Apr 19, 2026, 139 mg/dL on Oct 16, 2026. Normal range: up to 99 mg/dL."
    assert f'aria-label="{words}" width="96" height="28"' in trend.sparkline
    assert f'aria-label="{words}" width="480" height="160"' in trend.chart


def test_a_result_without_a_number_or_a_date_is_left_out(app_context):
    worded = obs("a", "5778-6", "Color of Urine", "2026-01-01", None)
    worded.pop("valueQuantity")
    worded["valueString"] = "Yellow"
    undated = obs("b", "5778-6", "Color of Urine", None, 1)
    undated.pop("effectiveDateTime")
    assert trends_by_id([worded, undated, obs("c", "5778-6", "Color of Urine", "2026-01-02", 2)]) == {}
