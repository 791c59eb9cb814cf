import datetime as dt

import pytest

from gateway.errors import InvalidSearch, SearchTooCostly
from gateway.fhir.search import MAX_INCLUDES, date_range, normalize, parse_search, split_values
from gateway.store.values import END_OF_TIME


def ms(*args, tz=dt.timezone.utc):
    return int(dt.datetime(*args, tzinfo=tz).timestamp() * 1000)


@pytest.mark.parametrize(
    "value, low, high",
    [
        ("2023", ms(2023, 1, 1), ms(2024, 1, 1)),
        ("2023-12", ms(2023, 12, 1), ms(2024, 1, 1)),
        ("2023-02", ms(2023, 2, 1), ms(2023, 3, 1)),
        ("2024-02-29", ms(2024, 2, 29), ms(2024, 3, 1)),
        ("2023-05-06T10:20", ms(2023, 5, 6, 10, 20), ms(2023, 5, 6, 10, 21)),
        ("2023-05-06T10:20:30Z", ms(2023, 5, 6, 10, 20, 30), ms(2023, 5, 6, 10, 20, 31)),
        ("2023-05-06T10:20:30.5Z", ms(2023, 5, 6, 10, 20, 30) + 500, ms(2023, 5, 6, 10, 20, 30) + 600),
        ("2023-05-06T10:20:30+02:00", ms(2023, 5, 6, 8, 20, 30), ms(2023, 5, 6, 8, 20, 31)),
    ],
)
def test_date_range_covers_the_precision_given(value, low, high):
    assert date_range(value) == (low, high)


@pytest.mark.parametrize("value", ["9999", "9999-12", "9999-12-31"])
def test_a_period_ending_with_the_year_9999_ends_with_time(value):
    assert date_range(value)[1] == END_OF_TIME


@pytest.mark.parametrize("bad", ["", "20230101", "2023-13", "2023-02-30", "2023-1-1", "tomorrow", "2023-05-06T25:00"])
def test_date_range_rejects_non_dates(bad):
    with pytest.raises(ValueError):
        date_range(bad)


def test_split_values_honours_escapes():
    assert split_values(r"a,b\,c,d\|e") == ["a", "b,c", "d|e"]


def test_normalize_folds_case_and_accents():
    assert normalize("Ramírez-ÖSTRÖM") == "ramirez-ostrom"


def test_parse_search_builds_clauses_and_paging():
    query = parse_search("Condition", [("patient", "Patient/p1"), ("category", "a,b"), ("_count", "5")])
    assert [c.param.name for c in query.clauses] == ["patient", "category"]
    assert query.clauses[0].values == ["Patient/p1"]
    assert query.clauses[1].values == [(None, "a"), (None, "b")]
    assert query.count == 5


def test_parse_search_token_forms():
    query = parse_search("Condition", [("code", "http://snomed.info/sct|44054006,|E11,http://x|")])
    assert query.clauses[0].values == [("http://snomed.info/sct", "44054006"), ("", "E11"), ("http://x", None)]


def test_parse_search_date_prefixes():
    query = parse_search("Condition", [("onset-date", "ge2020-01"), ("onset-date", "lt2021")])
    assert [v[0][0] for v in (c.values for c in query.clauses)] == ["ge", "lt"]


def test_parse_search_reference_forms():
    base = "http://127.0.0.1:8080/fhir"
    for value in ("Patient/p1", "p1", f"{base}/Patient/p1"):
        assert parse_search("Condition", [("patient", value)], base).clauses[0].values == ["Patient/p1"]


def test_unknown_parameters_are_ignored_or_refused_when_strict():
    assert parse_search("Condition", [("colour", "blue")]).ignored == ["colour"]
    with pytest.raises(InvalidSearch, match="colour"):
        parse_search("Condition", [("colour", "blue")], strict=True)


@pytest.mark.parametrize(
    "pairs, message",
    [
        ([("onset-date", "ge2020-13")], "not a valid date"),
        ([("onset-date", "yesterday")], "not a valid date"),
        ([("_count", "-1")], "whole number"),
        ([("_count", "ten")], "whole number"),
        ([("_summary", "true")], "not supported"),
        ([("_elements", "code,<x>")], "element names"),
        ([("code", "")], "needs a code"),
        ([("code:above", "x")], "not supported"),
        ([("patient", "Patient/")], "not a reference"),
        ([("_include", "Observation:subject")], "must start with Condition"),
        ([("_include", "Condition:code")], "not a reference parameter"),
        ([("_revinclude", "Nope:x")], "ResourceType:parameter"),
        ([("code:missing", "maybe")], "true or false"),
    ],
)
def test_malformed_values_are_400(pairs, message):
    with pytest.raises(InvalidSearch, match=message):
        parse_search("Condition", pairs)


def test_count_is_capped():
    assert parse_search("Condition", [("_count", "100000")]).count == 1000


def test_repeated_includes_are_kept_once():
    query = parse_search(
        "Patient", [("_revinclude", "Observation:patient")] * 50 + [("_include", "Patient:organization")] * 3
    )
    assert query.revincludes == [("Observation", "patient")]
    assert query.includes == [("Patient", "organization")]


def test_too_many_distinct_includes_is_too_costly():
    pairs = [
        ("_revinclude", f"{t}:patient")
        for t in (
            "Condition",
            "Observation",
            "Procedure",
            "Immunization",
            "CarePlan",
            "AllergyIntolerance",
            "Appointment",
            "DiagnosticReport",
            "MedicationRequest",
        )
    ]
    pairs += [("_include", "Patient:organization"), ("_include", "Patient:general-practitioner")]
    assert len(pairs) > MAX_INCLUDES
    with pytest.raises(SearchTooCostly, match=f"at most {MAX_INCLUDES}"):
        parse_search("Patient", pairs)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "\uff11", "1.0", "+1", " 1"])
def test_counts_take_ascii_digits_only(value):
    with pytest.raises(InvalidSearch, match="whole number"):
        parse_search("Condition", [("_count", value)])
