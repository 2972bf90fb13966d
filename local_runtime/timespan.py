"""ADF timespans: `d.hh:mm:ss` (the day part optional)."""
import re

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


def parse_timespan(text: str) -> float:
    match = _TIMESPAN.match(str(text))
    if not match:
        raise ValueError(f"timespan {text!r} is not d.hh:mm:ss (for example 0.02:00:00 for two hours)")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)
