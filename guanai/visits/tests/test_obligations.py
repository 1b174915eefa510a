"""Obligation windows, due dates and states at their boundaries (§8: monthly contact, quarterly home visit)."""

from __future__ import annotations

import datetime as dt

import pytest

from guanai.visits.obligations import DONE, DUE_SOON, OVERDUE, PENDING, Schedule, obligations_on, period

D = dt.date
ROLL = Schedule(on_roll_since=D(2025, 1, 1))


def states(schedule, visits, day, **settings):
    return {o.kind: o for o in obligations_on(schedule, visits, day, settings or None)}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 1), 1, (D(2026, 1, 1), D(2026, 1, 31))),
        (D(2026, 2, 28), 1, (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2024, 2, 29), 1, (D(2024, 2, 1), D(2024, 2, 29))),
        (D(2026, 3, 31), 3, (D(2026, 1, 1), D(2026, 3, 31))),
        (D(2026, 4, 1), 3, (D(2026, 4, 1), D(2026, 6, 30))),
        (D(2026, 12, 31), 3, (D(2026, 10, 1), D(2026, 12, 31))),
    ],
)
def test_periods_are_calendar_months_and_quarters(day, months, expected):
    assert period(day, months) == expected


def test_a_phone_call_satisfies_the_contact_but_not_the_home_visit():
    found = states(ROLL, [(D(2026, 11, 3), "phone")], D(2026, 11, 10))
    assert found["contact"].state == DONE
    assert found["contact"].done_on == D(2026, 11, 3)
    assert found["home_visit"].state != DONE


def test_a_home_visit_also_counts_as_the_months_contact():
    found = states(ROLL, [(D(2026, 11, 3), "home")], D(2026, 11, 10))
    assert found["contact"].state == DONE
    assert found["home_visit"].state == DONE


def test_month_boundary_last_months_contact_does_not_count_this_month():
    visits = [(D(2026, 10, 31), "phone")]
    assert states(ROLL, visits, D(2026, 10, 31))["contact"].state == DONE
    nov = states(ROLL, visits, D(2026, 11, 1))["contact"]
    assert nov.state == PENDING
    assert (nov.window_start, nov.due) == (D(2026, 11, 1), D(2026, 11, 30))


def test_a_missed_month_makes_the_next_one_overdue_until_done():
    day = D(2026, 11, 10)
    found = states(ROLL, [(D(2026, 9, 15), "phone")], day)["contact"]
    assert found.state == OVERDUE
    assert found.overdue_since == D(2026, 10, 31)
    assert states(ROLL, [(D(2026, 9, 15), "phone"), (D(2026, 11, 10), "phone")], day)["contact"].state == DONE


@pytest.mark.parametrize(
    ("day", "expected"), [(D(2026, 11, 23), PENDING), (D(2026, 11, 24), DUE_SOON), (D(2026, 11, 30), DUE_SOON)]
)
def test_due_soon_starts_seven_days_before_the_window_closes(day, expected):
    visits = [(D(2026, 10, 5), "phone")]
    assert states(ROLL, visits, day)["contact"].state == expected


def test_quarter_boundary_home_visit():
    visits = [(D(2026, 9, 30), "home")]
    assert states(ROLL, visits, D(2026, 9, 30))["home_visit"].state == DONE
    oct1 = states(ROLL, visits, D(2026, 10, 1))["home_visit"]
    assert oct1.state == PENDING
    assert (oct1.window_start, oct1.due) == (D(2026, 10, 1), D(2026, 12, 31))
    assert states(ROLL, [(D(2026, 8, 1), "phone")], D(2026, 10, 1))["home_visit"].state == OVERDUE


def test_a_child_registered_mid_quarter_has_a_first_window_from_registration_and_no_carried_overdue():
    newcomer = Schedule(on_roll_since=D(2026, 11, 20))
    found = states(newcomer, [], D(2026, 11, 25))
    assert found["home_visit"].window_start == D(2026, 11, 20)
    assert found["home_visit"].due == D(2026, 12, 31)
    assert found["home_visit"].state == PENDING
    assert found["contact"].state == DUE_SOON  # the November contact is still owed by 30 November
    assert states(newcomer, [], D(2026, 11, 19)) == {}


def test_a_trigger_appearing_raises_the_cadence_from_that_day():
    raised = Schedule(on_roll_since=D(2025, 1, 1), raised=((D(2026, 11, 12), None),))
    visits = [(D(2026, 10, 20), "home")]  # the quarter's home visit was done before the trigger
    before = states(raised, visits, D(2026, 11, 11))["home_visit"]
    assert before.state == DONE and not before.raised
    after = states(raised, visits, D(2026, 11, 12))["home_visit"]
    assert after.raised
    assert (after.window_start, after.due) == (D(2026, 11, 12), D(2026, 11, 30))
    assert after.state == PENDING  # a fresh monthly window, nothing carried from the quarterly cadence
    december = states(raised, visits, D(2026, 12, 5))["home_visit"]
    assert december.state == OVERDUE  # November's raised visit was missed


def test_a_trigger_disappearing_returns_to_the_quarterly_cadence():
    was_raised = Schedule(on_roll_since=D(2025, 1, 1), raised=((D(2026, 6, 1), D(2026, 11, 15)),))
    visits = [(D(2026, 10, 10), "home")]
    found = states(was_raised, visits, D(2026, 11, 20))["home_visit"]
    assert not found.raised
    assert (found.window_start, found.due) == (D(2026, 10, 1), D(2026, 12, 31))
    assert found.state == DONE  # October's (raised) home visit lies in the quarter


def test_the_raised_cadence_is_configurable():
    raised = Schedule(on_roll_since=D(2025, 1, 1), raised=((D(2025, 1, 1), None),))
    found = states(raised, [], D(2026, 11, 20), raised_home_visit_months=2)["home_visit"]
    assert (found.window_start, found.due) == (D(2026, 11, 1), D(2026, 12, 31))


def test_a_late_entry_dated_in_the_window_counts():
    # Recorded on 2 December about a visit on 28 November: it fills November's window.
    found = states(ROLL, [(D(2026, 11, 28), "video")], D(2026, 11, 30))["contact"]
    assert found.state == DONE
