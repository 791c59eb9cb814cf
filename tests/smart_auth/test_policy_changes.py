"""What a change of a practice's proxy policy changes today, in words, for whom (the console's confirmation)."""

import datetime as dt

from smart_auth.proxy_policy import DEFAULT_POLICY, Policy, policy_changes

TODAY = dt.date(2026, 6, 1)
LINKED = "2015-01-01T00:00:00.000Z"


def link(account, patient, birth, relation="parent"):
    return {
        "account_id": account,
        "patient_id": patient,
        "relation": relation,
        "linked_at": LINKED,
        "sections": None,
        "access_until": None,
        "birth_date": birth,
    }


# Three parents of two teenagers (14 and 16), a parent of a child of 8, and a guardian of a 17-year-old.
LINKS = [
    link(1, 10, "2012-03-01"),
    link(2, 10, "2012-03-01"),
    link(3, 11, "2010-01-15"),
    link(4, 12, "2018-05-05"),
]


def test_withholding_fewer_categories_lets_parents_see_them():
    after = Policy(12, 18, ("reproductive-health", "sexual-health", "substance-use"))
    assert policy_changes(LINKS, DEFAULT_POLICY, after, TODAY) == [
        "3 parents will start seeing mental health items of 2 teenagers."
    ]


def test_withholding_more_categories_hides_them_and_says_so():
    before = Policy(12, 18, ("sexual-health",))
    assert policy_changes(LINKS, before, DEFAULT_POLICY, TODAY) == [
        "3 parents will stop seeing reproductive health (pregnancy, contraception) items of 2 teenagers.",
        "3 parents will stop seeing mental health items of 2 teenagers.",
        "3 parents will stop seeing substance use items of 2 teenagers.",
    ]


def test_ages_move_records_between_whole_limited_and_ended():
    guardian = link(5, 13, "2009-01-10", relation="guardian")  # 17
    assert policy_changes(LINKS + [guardian], DEFAULT_POLICY, Policy(15, 17, DEFAULT_POLICY.withheld), TODAY) == [
        "1 guardian will lose access to the record of 1 teenager.",
        "2 parents will start seeing every item of 1 teenager (the whole record).",
    ]
    assert policy_changes(LINKS, DEFAULT_POLICY, Policy(8, 18, DEFAULT_POLICY.withheld), TODAY) == [
        "1 parent will stop seeing the sensitive items of 1 child (the limited record).",
    ]


def test_no_change_today_says_so():
    assert policy_changes(LINKS, DEFAULT_POLICY, DEFAULT_POLICY, TODAY) == []
    assert policy_changes([], DEFAULT_POLICY, Policy(12, 18, ()), TODAY) == []
