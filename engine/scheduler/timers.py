"""Timer definitions as Camunda 8 accepts them: ISO 8601 durations, dates and cycles, and cron.

Pure functions of the definition text and the current time, so the step can
compute due dates deterministically.

Catch-up policy for cycles (RELIABILITY D10): a cycle timer that came due
several times while the engine was down fires once, and its next due date is
the first one after the time it fired; missed repetitions are skipped, never
fired in a burst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from dateutil.relativedelta import relativedelta

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
_MAX_CATCH_UP = 100_000


class TimerDefinitionError(ValueError):
    """The timer's text is not a duration, date, cycle or cron expression."""


@dataclass(frozen=True, slots=True)
class TimerSchedule:
    """When a timer fires next, and how it repeats.

    ``remaining`` counts the repetitions left after this one (None: forever);
    a repeating timer has either an ``interval`` (ISO duration) or a ``cron``.
    """

    due: datetime
    remaining: int | None = 0
    interval: str | None = None
    cron: str | None = None

    @property
    def repeats(self) -> bool:
        return (self.remaining is None or self.remaining > 0) and (self.interval is not None or self.cron is not None)


def parse_duration(text: str) -> relativedelta:
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise TimerDefinitionError(f"'{text}' is not an ISO 8601 duration like PT10S, PT5M, P1D or P1Y2M")
    parts = {k: v for k, v in match.groupdict().items() if v is not None and k != "sign"}
    seconds = float(parts.pop("seconds", "0").replace(",", "."))
    delta = relativedelta(
        years=int(parts.get("years", 0)), months=int(parts.get("months", 0)), weeks=int(parts.get("weeks", 0)),
        days=int(parts.get("days", 0)), hours=int(parts.get("hours", 0)), minutes=int(parts.get("minutes", 0)),
        seconds=int(seconds), microseconds=round((seconds - int(seconds)) * 1_000_000),
    )
    return -delta if match.group("sign") else delta


_DURATION_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def duration_seconds(text: str) -> float:
    """The length of the ISO 8601 duration ``text`` in seconds, counted from a fixed date (a month or a year
    has no length of its own); TimerDefinitionError when it is not one."""
    return ((_DURATION_EPOCH + parse_duration(text)) - _DURATION_EPOCH).total_seconds()


def parse_date(text: str) -> datetime:
    raw = text.strip()
    zone = None
    if "@" in raw:
        raw, _, zone_name = raw.partition("@")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise TimerDefinitionError(f"unknown time zone '{zone_name}' in '{text}'") from None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise TimerDefinitionError(f"'{text}' is not an ISO 8601 date-time like 2026-01-31T09:00:00Z") from None
    if zone is not None:
        moment = moment.replace(tzinfo=zone)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _cron(text: str) -> str | None:
    """Camunda 8 cron (Spring: second minute hour day month weekday) in croniter's order, or None."""
    fields = text.split()
    if len(fields) == 6:
        candidate = " ".join([*fields[1:], fields[0]])
    elif len(fields) == 5 or (len(fields) == 1 and fields[0].startswith("@")):
        candidate = text.strip()
    else:
        return None
    return candidate if croniter.is_valid(candidate) else None


def _next_cron(cron: str, after: datetime) -> datetime:
    value = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


def _positive(delta: relativedelta, text: str, now: datetime) -> relativedelta:
    if now + delta <= now:
        raise TimerDefinitionError(f"the cycle interval '{text}' must be a positive duration")
    return delta


def schedule(kind: str, text: str, now: datetime) -> TimerSchedule:
    """The first due date of a timer defined by ``kind`` (timeDuration, timeDate, timeCycle) and ``text``."""
    text = text.strip()
    if kind == "timeDuration":
        return TimerSchedule(due=now + parse_duration(text))
    if kind == "timeDate":
        return TimerSchedule(due=parse_date(text))
    if kind != "timeCycle":
        raise TimerDefinitionError(f"unknown timer definition type '{kind}'")
    if text.startswith("R"):
        parts = text.split("/")
        count = parts[0][1:]
        if not (count == "" or count.isdigit()) or len(parts) not in (2, 3):
            raise TimerDefinitionError(f"'{text}' is not a repeating interval like R5/PT10S or R/2026-01-01T00:00Z/P1D")
        remaining = None if count == "" else int(count) - 1
        if remaining is not None and remaining < 0:
            raise TimerDefinitionError(f"'{text}' repeats zero times")
        interval = parts[-1]
        _positive(parse_duration(interval), interval, now)
        if len(parts) == 3:
            start = parse_date(parts[1])
            return TimerSchedule(due=start, remaining=remaining, interval=interval)
        return TimerSchedule(due=now + parse_duration(interval), remaining=remaining, interval=interval)
    cron = _cron(text)
    if cron is None:
        raise TimerDefinitionError(
            f"'{text}' is not a timer cycle: use an ISO 8601 repeating interval (R5/PT10S) or a cron expression "
            "(seconds minutes hours day month weekday, e.g. '0 0 9 * * MON-FRI')"
        )
    return TimerSchedule(due=_next_cron(cron, now), remaining=None, cron=cron)


def next_after(current: TimerSchedule, now: datetime) -> TimerSchedule | None:
    """The schedule after ``current`` fired at ``now``, skipping repetitions missed while down; None when done."""
    if not current.repeats:
        return None
    remaining = None if current.remaining is None else current.remaining - 1
    if current.cron is not None:
        return TimerSchedule(due=_next_cron(current.cron, max(now, current.due)), remaining=None, cron=current.cron)
    assert current.interval is not None
    step = parse_duration(current.interval)
    due = current.due + step
    for _ in range(_MAX_CATCH_UP):
        if due > now:
            break
        if remaining == 0:  # the whole schedule passed while the engine was down: it fired once, and ends
            return None
        if remaining is not None:
            remaining -= 1
        due = due + step
    else:
        due = now + step
    return TimerSchedule(due=due, remaining=remaining, interval=current.interval)


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


__all__ = ["TimerDefinitionError", "TimerSchedule", "duration_seconds", "from_millis", "next_after", "parse_date",
           "parse_duration", "schedule", "to_millis"]
