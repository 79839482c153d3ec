"""Business hours: whether a team is at work at a moment, and when it is back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far past the last day off "back at" is looked for: the week repeats after it, so a week
# with any working time has some within these days.
DAYS_PAST_THE_DAYS_OFF = 8


def parse_clock(value: str) -> time | None:
    """ "HH:MM" (24:00 for the end of a day) as a time; None for the end of the day."""
    hours, minutes = (int(part) for part in value.split(":"))
    if hours == 24 and minutes == 0:
        return None
    return time(hours, minutes)


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule in a time zone: ``week[0]`` is Monday's list of (start, end) clock
    strings; ``days_off`` are dates with no working time at all."""

    time_zone: str
    week: list[list[tuple[str, str]]]
    days_off: frozenset[date]

    def _intervals_on(self, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        if day in self.days_off:
            return []
        intervals = []
        for start, end in self.week[day.weekday()]:
            opens = datetime.combine(day, parse_clock(start) or time(0), zone)
            closes_at = parse_clock(end)
            closes = (
                datetime.combine(day, closes_at, zone)
                if closes_at is not None
                else datetime.combine(day + timedelta(days=1), time(0), zone)
            )
            intervals.append((opens, closes))
        return intervals

    def is_open(self, moment: datetime) -> bool:
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        return any(
            opens <= local < closes for opens, closes in self._intervals_on(local.date(), zone)
        )

    def back_at(self, moment: datetime) -> datetime | None:
        """When the next working time starts (``moment`` itself if open); None if the week has
        none at all. Days off may run for weeks (a long holiday): the search goes past them."""
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        today = local.date()
        last_off = max((day for day in self.days_off if day >= today), default=today)
        for offset in range((last_off - today).days + DAYS_PAST_THE_DAYS_OFF):
            day = local.date() + timedelta(days=offset)
            for opens, closes in sorted(self._intervals_on(day, zone)):
                if closes > local:
                    return max(opens, local)
        return None
