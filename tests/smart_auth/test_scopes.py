import pytest

from smart_auth.scopes import Decision, InvalidScope, decide, parse_scope, parse_scopes


@pytest.mark.parametrize(
    "scope, context, rtype, letters",
    [
        ("patient/Condition.read", "patient", "Condition", "rs"),
        ("patient/*.read", "patient", "*", "rs"),
        ("user/Observation.write", "user", "Observation", "cud"),
        ("system/*.*", "system", "*", "cruds"),
        ("patient/Condition.rs", "patient", "Condition", "rs"),
        ("patient/Observation.r", "patient", "Observation", "r"),
        ("system/Patient.cruds", "system", "Patient", "cruds"),
    ],
)
def test_parse_v1_and_v2(scope, context, rtype, letters):
    parsed = parse_scope(scope)
    assert (parsed.context, parsed.resource_type, parsed.interactions) == (context, rtype, frozenset(letters))
    assert parsed.query == ()


def test_parse_granular_scope_keeps_its_query():
    parsed = parse_scope(
        "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
    )
    assert parsed.query == (("category", "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"),)


@pytest.mark.parametrize(
    "bad",
    [
        "patient/Condition.sr",  # v2 letters must be in c r u d s order
        "patient/Condition.x",
        "patient/Condition",
        "everyone/Condition.read",
        "patient/.read",
        "patient/Condition.read?category=x",  # granular needs v2 permissions
        "patient/Condition.rs?",
        "patient/Condition.rs?category=",
        "bogus",
    ],
)
def test_malformed_scopes_are_refused(bad):
    with pytest.raises(InvalidScope):
        parse_scope(bad)


def test_non_resource_scopes_are_dropped():
    assert parse_scopes("openid fhirUser launch/patient offline_access patient/Patient.rs") == (
        parse_scope("patient/Patient.rs"),
    )


def test_decide_holds_patient_scopes_to_the_token_patient():
    scopes = parse_scopes("patient/Condition.rs")
    assert decide(scopes, "search", "Condition", "p1") == Decision("p1", None, "patient")
    assert decide(scopes, "read", "Condition", "p1") == Decision("p1", None, "patient")
    assert decide(scopes, "search", "Observation", "p1") is None
    assert decide(scopes, "search", "Condition", None) is None  # no patient context, no patient/ access


def test_decide_read_only_scope_does_not_allow_search():
    assert decide(parse_scopes("patient/Condition.r"), "search", "Condition", "p1") is None
    assert decide(parse_scopes("patient/Condition.s"), "read", "Condition", "p1") is None


def test_decide_system_scope_is_not_held_to_a_compartment():
    assert decide(parse_scopes("system/*.read patient/Condition.rs"), "read", "Condition", "p1") == Decision(
        None, None, "system"
    )


def test_decide_granular_scopes_are_alternatives():
    scopes = parse_scopes(
        "patient/Condition.rs?category=problem-list-item patient/Condition.rs?category=health-concern"
    )
    decision = decide(scopes, "search", "Condition", "p1")
    assert decision.patient == "p1"
    assert decision.filters == ((("category", "problem-list-item"),), (("category", "health-concern"),))


def test_decide_resource_level_scope_lifts_granular_filters():
    scopes = parse_scopes("patient/Observation.rs?category=laboratory patient/Observation.rs")
    assert decide(scopes, "search", "Observation", "p1") == Decision("p1", None, "patient")


@pytest.mark.parametrize(
    "scope, context",
    [
        ("patient/Patient.rs", "patient"),
        ("user/Patient.rs", "user"),
        ("system/Patient.rs", "system"),
        ("user/Patient.rs patient/Patient.rs", "user"),
        ("system/*.rs user/Patient.rs patient/*.rs", "system"),
        # A granular scope grants less than a whole one, so the whole one is what granted the access.
        ("system/Patient.rs?gender=male user/Patient.rs", "user"),
        ("system/Patient.rs?gender=male user/Patient.rs?gender=female", "system"),
    ],
)
def test_decide_says_which_context_granted_the_access(scope, context):
    decision = decide(parse_scopes(scope), "read", "Patient", "p1")
    assert decision.context == context
    assert decision.patient == ("p1" if context == "patient" else None)


@pytest.mark.parametrize(
    "scope",
    [
        "patient/*.rs",
        "patient/*.read",
        "patient/*.r",
        "patient/Condition.rs patient/Observation.rs?category=laboratory",
        "patient/Observation.rs?category=laboratory patient/Observation.rs",
        "user/*.rs patient/*.rs",
        "system/*.rs",
        "openid fhirUser",
    ],
)
def test_patient_wide_is_exactly_the_types_decide_grants_whole_to_the_patient(scope):
    from mappers import REGISTRY
    from smart_auth.scopes import patient_wide

    scopes, types = parse_scopes(scope), tuple(REGISTRY)
    expected = {t for t in types if decide(scopes, "search", t, "p1") == Decision("p1", None, "patient")}
    assert patient_wide(scopes, "search", types) == expected
    assert patient_wide(scopes, "read", types) == {
        t for t in types if decide(scopes, "read", t, "p1") == Decision("p1", None, "patient")
    }
