"""v2 times: RFC 3339 strings in UTC with milliseconds, such as `2024-06-01T12:00:00.000Z`."""

from __future__ import annotations

import re
from datetime import datetime, timezone

# A full date-time with seconds and an explicit offset, as RFC 3339 requires (ISO 8601's other
# forms, which `datetime.fromisoformat` also reads, are refused).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)

_FINER_THAN_MICROSECONDS = re.compile(r"(\.\d{6})\d+")


def parse_rfc3339(text: str) -> datetime | None:
    """The UTC time `text` names, or None if it is not an RFC 3339 date-time."""
    if not _RFC3339.match(text):
        return None
    text = _FINER_THAN_MICROSECONDS.sub(r"\1", text)  # datetime keeps microseconds only
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:  # e.g. month 13
        return None
    except OverflowError:  # an offset that moves year 1 or 9999 past the calendar's ends
        return None


def format_rfc3339(moment: datetime | int) -> str:
    """A time (or Unix seconds) as Stripe's v2 API writes it: UTC, milliseconds, `Z`."""
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def unix_seconds(moment: datetime) -> int:
    """Whole Unix seconds (rounded down), the resolution meter events are aggregated at."""
    return int(moment.timestamp() // 1)
