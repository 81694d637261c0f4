"""The one reader of service and user date-times: Graph's seven fraction digits and 'Z' on every
Python the collection supports, offsets, and None for what is not a date-time."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.partnercenter.secure_app.plugins.module_utils._times import parse_time

UTC = datetime.timezone.utc


@pytest.mark.parametrize("text,expected", [
    ("2026-10-01T12:30:45.1234567Z", datetime.datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),  # Graph
    ("2026-10-01T12:30:45Z", datetime.datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
    ("2026-10-01T12:30:45z", datetime.datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
    ("2026-10-01T12:30:45.5", datetime.datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),  # no zone: UTC
    ("2026-10-01 12:30:45,5+00:00", datetime.datetime(2026, 10, 1, 12, 30, 45, tzinfo=UTC)),
    ("2026-10-01T12:30:45+02:00", datetime.datetime(2026, 10, 1, 10, 30, 45, tzinfo=UTC)),
    ("2026-10-01T12:30:45-0130", datetime.datetime(2026, 10, 1, 14, 0, 45, tzinfo=UTC)),
    ("2026-10-01T12:30", datetime.datetime(2026, 10, 1, 12, 30, tzinfo=UTC)),
    ("2026-10-01", datetime.datetime(2026, 10, 1, tzinfo=UTC)),
    (" 2026-10-01T00:00:00Z\n", datetime.datetime(2026, 10, 1, tzinfo=UTC)),
])
def test_service_and_user_forms_read_in_utc_to_the_second(text, expected):
    """Broken by: fromisoformat alone on Python 3.10 (seven digits), an offset ignored, a zone-less
    time taken as local time."""
    moment = parse_time(text)
    assert moment == expected and moment.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize("text", [None, "", "soon", "2026-13-01T00:00:00Z", "2026-10-01T25:00:00Z",
                                  "2026-10-01T12:30:45+24:00", "2026-10-01T12:30:45Zjunk", "01/10/2026", 1700000000])
def test_what_is_not_a_date_time_is_none(text):
    assert parse_time(text) is None
