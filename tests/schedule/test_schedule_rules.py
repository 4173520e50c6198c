"""The arithmetic of reminders and digests without a database: rounds, calendar days, ISO weeks, keys."""

from __future__ import annotations

import datetime as dt

from partnerprojekte.mailing.digests import digest_week
from partnerprojekte.mailing.planned import idempotency_key
from partnerprojekte.mailing.reminders import reminder_moment, round_due
from partnerprojekte.reading.owed import days_waiting, waiting_cutoff
from tests.schedule.conftest import berlin

TZ = "Europe/Berlin"


def test_rounds_start_at_the_threshold_and_repeat() -> None:
    assert [round_due(d, 14, 7) for d in (13, 14, 20, 21, 27, 28)] == [0, 1, 1, 2, 2, 3]
    assert [round_due(d, 21, 14) for d in (20, 21, 34, 35, 49)] == [0, 1, 1, 2, 3]


def test_days_are_calendar_days_in_berlin() -> None:
    assert days_waiting(berlin(2026, 3, 2, 23, 59), dt.date(2026, 3, 3), TZ) == 1
    assert days_waiting(berlin(2026, 3, 2, 0, 1), dt.date(2026, 3, 2), TZ) == 0
    # Across the change to summer time (29 March) a day is still a day.
    assert days_waiting(berlin(2026, 3, 28, 9), dt.date(2026, 4, 11), TZ) == 14
    cutoff = waiting_cutoff(dt.date(2026, 3, 16), 14, TZ)
    assert cutoff == berlin(2026, 3, 3, 0, 0)  # everything from 2 March (Berlin) on is 14 days old or more


def test_a_date_on_the_command_line_means_0730_berlin() -> None:
    assert reminder_moment(dt.date(2026, 3, 16), TZ) == dt.datetime(2026, 3, 16, 6, 30, tzinfo=dt.UTC)
    assert reminder_moment(dt.date(2026, 7, 1), TZ) == dt.datetime(2026, 7, 1, 5, 30, tzinfo=dt.UTC)


def test_the_digest_week_and_its_past_week() -> None:
    week = digest_week(dt.date(2026, 3, 11), TZ)  # a Wednesday
    assert (week.key, week.label) == ("2026-W11", "KW 11/2026")
    assert (week.start, week.end) == (berlin(2026, 3, 2, 7), berlin(2026, 3, 9, 7))
    # The week after the change to summer time is an hour shorter, and still ends at 07:00 Berlin.
    april = digest_week(dt.date(2026, 3, 30), TZ)
    assert (april.start, april.end) == (berlin(2026, 3, 23, 7), berlin(2026, 3, 30, 7))
    assert april.end - april.start == dt.timedelta(days=7, hours=-1)


def test_iso_weeks_at_the_turn_of_the_year() -> None:
    assert digest_week(dt.date(2027, 1, 1), TZ).key == "2026-W53"
    assert digest_week(dt.date(2027, 1, 1), TZ).label == "KW 53/2026"
    assert digest_week(dt.date(2027, 1, 4), TZ).key == "2027-W01"


def test_an_overlong_address_still_gives_a_short_unique_key() -> None:
    long_mail = "x" * 190 + "@example.org"
    key = idempotency_key("reminder:PP-0007:eingereicht:round-1", long_mail)
    assert len(key) <= 200
    assert key != idempotency_key("reminder:PP-0007:eingereicht:round-1", "y" + long_mail[1:])
    assert idempotency_key("digest:2026-W11", "a@b.example") == "digest:2026-W11:a@b.example"
