"""Timer definitions as Camunda 8 writes them, and the catch-up policy for cycles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.scheduler.timers import TimerDefinitionError, next_after, parse_date, parse_duration, schedule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10S", NOW + timedelta(seconds=10)),
        ("PT1.5S", NOW + timedelta(seconds=1.5)),
        ("PT5M", NOW + timedelta(minutes=5)),
        ("P1DT2H", NOW + timedelta(days=1, hours=2)),
        ("P2W", NOW + timedelta(weeks=2)),
        ("P1M", datetime(2026, 4, 1, 12, 0, tzinfo=UTC)),
        ("P1Y", datetime(2027, 3, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_a_duration_timer_is_due_that_long_after_now(text: str, expected: datetime) -> None:
    assert schedule("timeDuration", text, NOW).due == expected


def test_a_date_timer_is_due_at_its_date_in_any_zone() -> None:
    assert schedule("timeDate", "2026-03-02T09:00:00Z", NOW).due == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert parse_date("2026-07-01T10:00:00@Europe/Paris") == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert parse_date("2026-07-01T10:00:00+02:00") == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert parse_date("2026-07-01T10:00:00") == datetime(2026, 7, 1, 10, tzinfo=UTC)


def test_a_repeating_interval_counts_down_its_repetitions() -> None:
    plan = schedule("timeCycle", "R3/PT10S", NOW)
    seen = []
    while plan is not None:
        seen.append(plan.due)
        plan = next_after(plan, plan.due)
    assert seen == [NOW + timedelta(seconds=10 * i) for i in (1, 2, 3)]


def test_an_unbounded_cycle_with_a_start_date_begins_there() -> None:
    plan = schedule("timeCycle", "R/2026-03-05T00:00:00Z/P1D", NOW)
    assert plan.due == datetime(2026, 3, 5, tzinfo=UTC)
    assert plan.remaining is None
    following = next_after(plan, plan.due)
    assert following is not None and following.due == datetime(2026, 3, 6, tzinfo=UTC)


def test_a_cycle_that_missed_repetitions_while_down_fires_once_and_resumes_after_now() -> None:
    plan = schedule("timeCycle", "R10/PT1H", NOW)
    woke_up = NOW + timedelta(hours=5, minutes=30)
    following = next_after(plan, woke_up)
    assert following is not None
    assert following.due == NOW + timedelta(hours=6)
    assert following.remaining is not None and following.remaining < 9


def test_a_spring_style_cron_with_seconds_is_understood() -> None:
    plan = schedule("timeCycle", "0 0 9 * * MON", NOW)  # 2026-03-01 is a Sunday
    assert plan.due == datetime(2026, 3, 2, 9, tzinfo=UTC)
    following = next_after(plan, plan.due)
    assert following is not None and following.due == datetime(2026, 3, 9, 9, tzinfo=UTC)


def test_a_backward_clock_does_not_move_a_cycle_back() -> None:
    plan = schedule("timeCycle", "R/PT1H", NOW)
    following = next_after(plan, NOW - timedelta(hours=3))
    assert following is not None and following.due == plan.due + timedelta(hours=1)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("timeDuration", "5 minutes", "not an ISO 8601 duration"),
        ("timeDuration", "PT", "not an ISO 8601 duration"),
        ("timeDate", "tomorrow", "not an ISO 8601 date-time"),
        ("timeDate", "2026-01-01T00:00:00@Mars/Olympus", "unknown time zone"),
        ("timeCycle", "R2/PT0S", "must be a positive duration"),
        ("timeCycle", "every hour", "is not a timer cycle"),
        ("timeCycle", "R0/PT1H", "repeats zero times"),
    ],
)
def test_a_bad_timer_definition_says_what_is_wrong(kind: str, text: str, message: str) -> None:
    with pytest.raises(TimerDefinitionError, match=message):
        schedule(kind, text, NOW)


def test_durations_parse_to_calendar_aware_deltas() -> None:
    assert NOW + parse_duration("P1M") == datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert NOW + parse_duration("-PT1H") == NOW - timedelta(hours=1)


def test_a_cycle_whose_whole_schedule_passed_while_down_fires_once_and_ends() -> None:
    plan = schedule("timeCycle", "R5/PT1M", NOW)
    assert next_after(plan, NOW + timedelta(hours=1)) is None
