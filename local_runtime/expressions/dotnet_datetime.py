"""Timestamps the way ADF's .NET runtime handles them: 100-ns ticks, .NET format strings, DateTimeKind.

A :class:`Timestamp` is a wall-clock time in ticks (7 fractional digits survive a round trip) plus
whether it is UTC. Parsing a string with ``Z`` or an offset gives a UTC timestamp (offsets are
applied); a string without a zone gives an *unspecified* one, which formats without a zone suffix
(``K`` gives nothing), like a .NET ``DateTime`` of kind Unspecified. Formats follow .NET custom and
standard date format strings with en-US names (``'D'`` -> ``Tuesday, January 2, 2018``).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import EvaluationError

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_EPOCH = datetime(1, 1, 1)
_MAX_TICKS = 3_155_378_975_999_999_999  # 9999-12-31T23:59:59.9999999

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
_MONTH_ABBREVIATIONS = {name[:3].lower(): number for number, name in enumerate(MONTH_NAMES, 1)}

_STANDARD_FORMATS = {  # en-US patterns of the .NET standard date and time format specifiers
    "d": "M/d/yyyy", "D": "dddd, MMMM d, yyyy", "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt", "g": "M/d/yyyy h:mm tt", "G": "M/d/yyyy h:mm:ss tt",
    "m": "MMMM d", "M": "MMMM d", "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss", "t": "h:mm tt",
    "T": "h:mm:ss tt", "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'", "U": "dddd, MMMM d, yyyy h:mm:ss tt",
    "y": "MMMM yyyy", "Y": "MMMM yyyy",
}
DEFAULT_FORMAT = "o"

_ZONE = r"(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
_ISO = re.compile(rf"(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})(?:[Tt ]{_TIME})?\s*{_ZONE}")
_US = re.compile(rf"(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}})/(?P<year>\d{{4}})"
                 rf"(?:\s+{_TIME}(?:\s*(?P<ampm>[AaPp][Mm]))?)?\s*{_ZONE}")
_RFC1123 = re.compile(r"(?:[A-Za-z]{3},\s*)?(?P<day>\d{1,2})\s+(?P<mon>[A-Za-z]{3})\s+(?P<year>\d{4})\s+"
                      r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<gmt>GMT|UTC|Z)?")


@dataclass(frozen=True)
class Timestamp:
    ticks: int  # 100-ns ticks since 0001-01-01T00:00:00 of the wall clock
    utc: bool  # True: DateTimeKind.Utc ('Z'); False: Unspecified (no zone suffix)

    @classmethod
    def from_datetime(cls, value: datetime, extra_ticks: int = 0) -> Timestamp:
        """From a Python datetime; an aware one is converted to UTC, a naive one is unspecified."""
        utc = value.tzinfo is not None
        if utc:
            value = value.astimezone(UTC).replace(tzinfo=None)
        delta = value - _EPOCH
        ticks = (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10 + extra_ticks
        return cls(ticks, utc)

    def to_datetime(self) -> datetime:
        """The naive wall-clock datetime (microsecond precision; see ``sub_microsecond``)."""
        return _EPOCH + timedelta(microseconds=self.ticks // 10)

    @property
    def sub_microsecond(self) -> int:
        return self.ticks % 10

    def with_ticks(self, ticks: int) -> Timestamp:
        if not 0 <= ticks <= _MAX_TICKS:
            raise EvaluationError("the result is outside the range of dates .NET supports (years 1 to 9999)")
        return Timestamp(ticks, self.utc)

    def add_months(self, months: int) -> Timestamp:
        """Calendar months, clamping the day to the target month's length like .NET AddMonths."""
        moment = self.to_datetime()
        index = moment.year * 12 + moment.month - 1 + months
        year, month = divmod(index, 12)
        if not 1 <= year <= 9999:
            raise EvaluationError("the result is outside the range of dates .NET supports (years 1 to 9999)")
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        shifted = moment.replace(year=year, month=month + 1, day=day)
        return Timestamp.from_datetime(shifted, self.sub_microsecond).with_utc(self.utc)

    def with_utc(self, utc: bool) -> Timestamp:
        return Timestamp(self.ticks, utc)


def parse_timestamp(text: str) -> Timestamp:
    """Parse ISO 8601 (``2018-03-15T13:27:36.1234567Z``), US (``03/15/2018 1:00:00 PM``) or RFC 1123."""
    stripped = text.strip()
    for pattern, build in ((_ISO, _from_fields), (_US, _from_fields), (_RFC1123, _from_rfc1123)):
        match = pattern.fullmatch(stripped)
        if match:
            try:
                return build(match.groupdict())
            except ValueError as error:
                raise EvaluationError(f"'{text}' is not a valid timestamp: {error}") from None
    raise EvaluationError(f"'{text}' is not a valid timestamp: expected ISO 8601 such as '2018-03-15T13:27:36Z' "
                          f"(or 'MM/dd/yyyy HH:mm:ss')")


def _from_fields(fields: dict) -> Timestamp:
    hour = int(fields["hour"] or 0)
    if fields.get("ampm"):
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} is not valid with AM/PM")
        hour = hour % 12 + (12 if fields["ampm"].upper() == "PM" else 0)
    fraction = (fields["fraction"] or "")[:7].ljust(7, "0")
    moment = datetime(int(fields["year"]), int(fields["month"]), int(fields["day"]), hour,
                      int(fields["minute"] or 0), int(fields["second"] or 0))
    stamp = Timestamp.from_datetime(moment, int(fraction))
    zone = fields["zone"]
    if not zone:
        return stamp
    if zone in "Zz":
        return stamp.with_utc(True)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset_minutes = sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))
    return Timestamp(stamp.ticks - offset_minutes * 60 * TICKS_PER_SECOND, True)


def _from_rfc1123(fields: dict) -> Timestamp:
    month = _MONTH_ABBREVIATIONS.get(fields["mon"].lower())
    if month is None:
        raise ValueError(f"unknown month '{fields['mon']}'")
    moment = datetime(int(fields["year"]), month, int(fields["day"]), int(fields["hour"]),
                      int(fields["minute"]), int(fields["second"] or 0))
    return Timestamp.from_datetime(moment).with_utc(bool(fields["gmt"]))


def format_timestamp(stamp: Timestamp, fmt: str | None = None) -> str:
    """Format with a .NET standard (one letter) or custom format string; default ``'o'``."""
    fmt = fmt or DEFAULT_FORMAT
    if len(fmt) == 1:
        if fmt not in _STANDARD_FORMATS:
            raise EvaluationError(f"'{fmt}' is not a .NET standard date format specifier; use one of "
                                  f"{' '.join(sorted(_STANDARD_FORMATS))} or a custom format such as 'yyyy-MM-dd'")
        fmt = _STANDARD_FORMATS[fmt]
    return _format_custom(stamp, fmt)


def _format_custom(stamp: Timestamp, fmt: str) -> str:
    moment = stamp.to_datetime()
    fraction = f"{stamp.ticks % TICKS_PER_SECOND:07d}"
    out: list[str] = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char in "'\"":
            close = fmt.find(char, i + 1)
            if close == -1:
                raise EvaluationError(f"unterminated quoted text in the date format '{fmt}'")
            out.append(fmt[i + 1:close])
            i = close + 1
            continue
        if char in "\\%":
            if i + 1 >= len(fmt) or (char == "%" and fmt[i + 1] == "%"):
                raise EvaluationError(f"the date format '{fmt}' ends with an incomplete '{char}'")
            if char == "\\":
                out.append(fmt[i + 1])
                i += 2
                continue
            i += 1
            char = fmt[i]
        run = 1
        while i + run < len(fmt) and fmt[i + run] == char:
            run += 1
        i += run
        out.append(_specifier(char, run, moment, fraction, stamp.utc, out, fmt))
    return "".join(out)


def _specifier(char: str, n: int, moment: datetime, fraction: str, utc: bool, out: list[str], fmt: str) -> str:
    if char in "fF":
        if n > 7:
            raise EvaluationError(f"the date format '{fmt}' has more than 7 '{char}' (the precision is 100 ns)")
        digits = fraction[:n]
        if char == "F":
            digits = digits.rstrip("0")
            if not digits and out and out[-1].endswith("."):
                out[-1] = out[-1][:-1]  # .NET drops the '.' before an all-zero 'F' fraction
        return digits
    if char == "d":
        return (str(moment.day), f"{moment.day:02d}", DAY_NAMES[(moment.weekday() + 1) % 7][:3])[n - 1] \
            if n < 4 else DAY_NAMES[(moment.weekday() + 1) % 7]
    if char == "M":
        return (str(moment.month), f"{moment.month:02d}", MONTH_NAMES[moment.month - 1][:3])[n - 1] \
            if n < 4 else MONTH_NAMES[moment.month - 1]
    if char == "y":
        if n <= 2:
            return f"{moment.year % 100:0{n}d}"
        return f"{moment.year:0{n}d}"
    if char in "hHms":
        value = {"h": moment.hour % 12 or 12, "H": moment.hour, "m": moment.minute, "s": moment.second}[char]
        return f"{value:0{min(n, 2)}d}"
    if char == "t":
        marker = "AM" if moment.hour < 12 else "PM"
        return marker[:1] if n == 1 else marker
    if char == "K":
        return "Z" * n if utc else ""
    if char == "z":  # .NET uses the machine's offset for DateTime; ADF's machines run on UTC
        return ("+0", "+00")[n - 1] if n < 3 else "+00:00"
    if char == "g":
        return "A.D."
    return char * n
