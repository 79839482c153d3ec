"""Business hours: at work or not at a moment, and when the team is back — across midnight,
time zones and days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from impserver.domains.routing.hours import Schedule

WEEKDAYS = [[("09:00", "18:00")] for _ in range(5)]


def schedule(
    week: list[list[tuple[str, str]]] | None = None,
    zone: str = "Europe/Moscow",
    days_off: frozenset[date] = frozenset(),
) -> Schedule:
    return Schedule(zone, week if week is not None else [*WEEKDAYS, [], []], days_off)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_open_within_hours_in_the_schedules_time_zone() -> None:
    # Thursday 2026-12-03: 06:00 UTC is 09:00 in Moscow.
    hours = schedule()
    assert not hours.is_open(utc(2026, 12, 3, 5, 59))
    assert hours.is_open(utc(2026, 12, 3, 6, 0))
    assert hours.is_open(utc(2026, 12, 3, 14, 59))
    assert not hours.is_open(utc(2026, 12, 3, 15, 0))  # 18:00 Moscow: closed
    # The same moment is outside hours for a team in Vladivostok (UTC+10).
    assert not schedule(zone="Asia/Vladivostok").is_open(utc(2026, 12, 3, 14, 0))


def test_back_on_monday_after_the_weekend() -> None:
    friday_evening = utc(2026, 12, 4, 16, 0)  # 19:00 Moscow, Friday
    back = schedule().back_at(friday_evening)
    assert back == utc(2026, 12, 7, 6, 0)  # Monday 09:00 Moscow


def test_a_night_shift_runs_across_midnight() -> None:
    night = [[("22:00", "24:00"), ("00:00", "06:00")] for _ in range(7)]
    hours = schedule(night, zone="UTC")
    assert hours.is_open(utc(2026, 12, 3, 23, 59))
    assert hours.is_open(utc(2026, 12, 4, 0, 0))
    assert hours.is_open(utc(2026, 12, 4, 5, 59))
    assert not hours.is_open(utc(2026, 12, 4, 6, 0))
    assert hours.back_at(utc(2026, 12, 4, 12, 0)) == utc(2026, 12, 4, 22, 0)


def test_a_day_off_is_skipped() -> None:
    hours = schedule(days_off=frozenset({date(2026, 12, 7)}))
    assert not hours.is_open(utc(2026, 12, 7, 8, 0))
    assert hours.back_at(utc(2026, 12, 4, 16, 0)) == utc(2026, 12, 8, 6, 0)


def test_no_working_time_at_all_has_no_return() -> None:
    assert schedule([[] for _ in range(7)]).back_at(utc(2026, 12, 3, 12, 0)) is None


def test_back_after_a_holiday_longer_than_two_weeks_whatever_day_it_starts() -> None:
    # Seventeen days off from each day of a week: back at 09:00 Moscow (06:00 UTC) on the first
    # weekday after them.
    for start in range(7):
        first = date(2026, 12, 5) + timedelta(days=start)
        off = frozenset(first + timedelta(days=i) for i in range(17))
        expected = max(off) + timedelta(days=1)
        while expected.weekday() >= 5:
            expected += timedelta(days=1)
        back = schedule(days_off=off).back_at(utc(first.year, first.month, first.day, 12, 0))
        assert back == utc(expected.year, expected.month, expected.day, 6, 0)
