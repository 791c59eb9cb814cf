"""The one rule of proxy access that ages with the child: who sees what of a record, at each birthday boundary."""

import datetime as dt
import zoneinfo

import pytest

from smart_auth import proxy_policy
from smart_auth.proxy_policy import DEFAULT_POLICY, Policy, decide

TODAY = dt.date(2026, 11, 25)


def born(years_ago, days=0):
    """A generated child: the birth date that makes them ``years_ago`` old today, ``days`` later."""
    return (dt.date(TODAY.year - years_ago, TODAY.month, TODAY.day) + dt.timedelta(days=days)).isoformat()


LIMITED = ("reproductive-health", "mental-health", "sexual-health", "substance-use", "confidential")


@pytest.mark.parametrize(
    ("birth_date", "stage", "withheld"),
    [
        (born(0), "whole", ()),
        (born(12, days=1), "whole", ()),  # 11 years and 364 days: the day before the 12th birthday
        (born(12), "limited", LIMITED),  # the 12th birthday
        (born(18, days=1), "limited", LIMITED),  # the day before the 18th birthday
        (born(18), "ended", ()),  # the 18th birthday
        (born(19), "ended", ()),
    ],
)
def test_a_parents_access_ages_with_the_child(birth_date, stage, withheld):
    access = decide("parent", "2020-01-01T00:00:00.000Z", birth_date, DEFAULT_POLICY, TODAY)
    assert (access.stage, access.allowed, access.withheld) == (stage, stage != "ended", withheld)


@pytest.mark.parametrize("relation", ["guardian", "caregiver", "other"])
def test_every_representative_of_a_minor_follows_the_same_rule(relation):
    assert decide(relation, "2020-01-01T00:00:00Z", born(13), DEFAULT_POLICY, TODAY).stage == "limited"
    assert decide(relation, "2020-01-01T00:00:00Z", born(18), DEFAULT_POLICY, TODAY).stage == "ended"


def test_the_patient_sees_their_whole_record_at_any_age():
    for years in (0, 12, 15, 18, 70):
        access = decide("self", "2020-01-01T00:00:00Z", born(years), DEFAULT_POLICY, TODAY)
        assert (access.stage, access.withheld) == ("whole", ())


def test_a_representative_an_adult_chose_after_18_keeps_the_whole_record():
    birth = born(30)
    access = decide("spouse", "2024-06-01T10:00:00Z", birth, DEFAULT_POLICY, TODAY)
    assert (access.stage, access.withheld) == ("whole", ())
    before = decide("parent", "2010-06-01T10:00:00Z", birth, DEFAULT_POLICY, TODAY)
    assert before.stage == "ended"


def test_a_child_born_on_29_february_turns_18_on_1_march_in_a_common_year():
    policy = DEFAULT_POLICY
    assert decide("parent", "2010-01-01", "2008-02-29", policy, dt.date(2026, 2, 28)).stage == "limited"
    assert decide("parent", "2010-01-01", "2008-02-29", policy, dt.date(2026, 3, 1)).stage == "ended"


def test_the_practice_sets_the_ages_and_the_withheld_categories():
    policy = Policy(limited_from=14, ends_at=18, withheld=("mental-health",))
    assert decide("parent", "2020-01-01", born(13), policy, TODAY).stage == "whole"
    access = decide("parent", "2020-01-01", born(14), policy, TODAY)
    assert (access.stage, access.withheld) == ("limited", ("mental-health", "confidential"))


def test_default_policy_withholds_reproductive_mental_sexual_health_and_substance_use():
    assert DEFAULT_POLICY == Policy(
        limited_from=12,
        ends_at=18,
        withheld=("reproductive-health", "mental-health", "sexual-health", "substance-use"),
    )


def test_notice_is_due_30_days_before_the_18th_birthday():
    assert proxy_policy.ending_on(born(17), DEFAULT_POLICY) == dt.date(2027, 11, 25)
    assert proxy_policy.notice_due(born(18, days=30), DEFAULT_POLICY, TODAY) is True
    assert proxy_policy.notice_due(born(18, days=31), DEFAULT_POLICY, TODAY) is False
    assert proxy_policy.notice_due(born(18), DEFAULT_POLICY, TODAY) is False


@pytest.mark.parametrize("bad", [None, "", "not-a-date"])
def test_a_chart_without_a_readable_birth_date_gives_representatives_the_limited_record(bad):
    access = decide("parent", "2020-01-01", bad, DEFAULT_POLICY, TODAY)
    assert (access.stage, access.withheld) == ("limited", LIMITED)


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown sensitive category 'gossip'"):
        Policy(limited_from=12, ends_at=18, withheld=("gossip",))


PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("instant", "local_day", "stage_at_12", "stage_at_18"),
    [
        # 23:30 Pacific on 28 November is 07:30 UTC on the 29th: not yet the birthday at the practice.
        ("2026-11-29T07:30:00+00:00", dt.date(2026, 11, 28), "whole", "limited"),
        # Midnight Pacific on the 29th: the birthday begins there.
        ("2026-11-29T08:00:00+00:00", dt.date(2026, 11, 29), "limited", "ended"),
        # 23:30 Pacific on the 29th is already the 30th in UTC: still the birthday there.
        ("2026-11-30T07:30:00+00:00", dt.date(2026, 11, 29), "limited", "ended"),
    ],
)
def test_ages_are_judged_on_the_practices_local_date(instant, local_day, stage_at_12, stage_at_18):
    day = proxy_policy.today(dt.datetime.fromisoformat(instant), PACIFIC)
    assert day == local_day
    assert decide("parent", "2015-01-01", "2014-11-29", DEFAULT_POLICY, day).stage == stage_at_12
    assert decide("parent", "2009-01-01", "2008-11-29", DEFAULT_POLICY, day).stage == stage_at_18


def test_the_practice_zone_is_the_gateways_time_zone(monkeypatch):
    monkeypatch.setenv("GATEWAY_TIMEZONE", "America/New_York")
    assert proxy_policy.practice_zone() == zoneinfo.ZoneInfo("America/New_York")
    monkeypatch.setenv("GATEWAY_TIMEZONE", "Not/AZone")
    assert proxy_policy.practice_zone() == dt.timezone.utc
    monkeypatch.delenv("GATEWAY_TIMEZONE")
    assert proxy_policy.practice_zone() == PACIFIC
