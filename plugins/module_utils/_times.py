# -*- coding: utf-8 -*-
# Copyright: partnercenter.secure_app contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to partnercenter.secure_app: not a public API, may change at any time.

The one reader of the date-times Microsoft's services write (Graph, Partner Center, Key Vault,
and ISO 8601 values a user gives). Graph writes up to seven fraction digits and a 'Z', which
datetime.fromisoformat refuses before Python 3.11, so the value is read with one pattern here."""

from __future__ import annotations

import datetime
import re
from typing import Any

# Date, optional time (seconds and any number of fraction digits optional), optional zone.
_ISO_8601 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?)?"
    r"(?P<zone>Z|z|[+-]\d{2}:?\d{2})?")


def parse_time(value: Any) -> datetime.datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime, to the second (the collection counts days
    and Unix seconds); without a zone it is taken as UTC. None when the value is empty or not such
    a date-time: the caller decides whether that is an error."""
    match = _ISO_8601.fullmatch(str(value).strip()) if value not in (None, "") else None
    if not match:
        return None
    zone = match.group("zone") or "Z"
    try:
        moment = datetime.datetime.strptime(
            f"{match.group('date')}T{match.group('hour') or '00'}:{match.group('minute') or '00'}:"
            f"{match.group('second') or '00'}", "%Y-%m-%dT%H:%M:%S")
        offset = datetime.timedelta(0) if zone in ("Z", "z") else \
            int(zone[0] + "1") * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
        return moment.replace(tzinfo=datetime.timezone(offset)).astimezone(datetime.timezone.utc)
    except ValueError:  # a month 13, an hour 25, an offset of a day or more
        return None
