"""Dates on pages: Thai months and Buddhist-era years in Thai, day-month-year in English, local time."""

from datetime import datetime, timezone

from formserver.web.dates import shown_time

EVENING_IN_BANGKOK = datetime(2026, 12, 5, 12, 25, 7, tzinfo=timezone.utc)


def test_thai_reader_sees_thai_month_and_buddhist_era_year():
    assert shown_time(EVENING_IN_BANGKOK, "th", "Asia/Bangkok") == "5 ธ.ค. 2569 19:25"


def test_english_reader_sees_day_month_and_gregorian_year():
    assert shown_time(EVENING_IN_BANGKOK, "en", "Asia/Bangkok") == "5 Dec 2026 19:25"


def test_seconds_are_shown_when_asked():
    assert shown_time(EVENING_IN_BANGKOK, "en", "Asia/Bangkok", with_seconds=True) == "5 Dec 2026 19:25:07"


def test_the_organisations_time_zone_decides_the_day_and_year():
    new_year_in_yangon = datetime(2026, 12, 31, 18, 0, tzinfo=timezone.utc)
    assert shown_time(new_year_in_yangon, "th", "Asia/Yangon") == "1 ม.ค. 2570 00:30"
    assert shown_time(new_year_in_yangon, "en", "UTC") == "31 Dec 2026 18:00"


def test_an_unknown_time_zone_falls_back_to_utc():
    assert shown_time(EVENING_IN_BANGKOK, "en", "Mars/Olympus") == "5 Dec 2026 12:25"


def test_no_date_shows_nothing():
    assert shown_time(None, "th", "Asia/Bangkok") == ""
