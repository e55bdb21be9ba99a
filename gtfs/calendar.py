"""Service calendars: calendar.txt patterns plus calendar_dates.txt exceptions.

Japanese feeds often list public holidays explicitly in calendar_dates; for feeds that do not, a
``holiday_service`` mapping (e.g. weekday service id -> holiday service id) can be applied on the
holidays ``jpholiday`` knows, since Japanese buses run their Sunday timetable on public holidays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import jpholiday

from gtfs.model import ServicePattern


@dataclass(frozen=True)
class ServiceCalendar:
    patterns: Mapping[str, ServicePattern]
    added: Mapping[date, frozenset[str]] = field(default_factory=dict)
    removed: Mapping[date, frozenset[str]] = field(default_factory=dict)
    holiday_service: Mapping[str, str] = field(default_factory=dict)

    @property
    def service_ids(self) -> frozenset[str]:
        ids = set(self.patterns)
        for s in self.added.values():
            ids |= s
        return frozenset(ids)

    def active(self, day: date) -> frozenset[str]:
        """Service ids running on ``day`` (a service date, as GTFS counts trips past midnight)."""
        on = {
            sid for sid, p in self.patterns.items() if p.start <= day <= p.end and p.weekdays[day.weekday()]
        }
        if (
            self.holiday_service
            and jpholiday.is_holiday(day)
            and day not in self.added
            and day not in self.removed
        ):
            for weekday_sid, holiday_sid in self.holiday_service.items():
                if weekday_sid in on:
                    on.discard(weekday_sid)
                    on.add(holiday_sid)
        on |= self.added.get(day, frozenset())
        on -= self.removed.get(day, frozenset())
        return frozenset(on)

    def date_range(self) -> tuple[date, date] | None:
        days = [p.start for p in self.patterns.values()] + [p.end for p in self.patterns.values()]
        days += list(self.added)
        return (min(days), max(days)) if days else None
