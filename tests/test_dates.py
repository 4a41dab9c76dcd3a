from datetime import UTC, datetime

import pytest

from bot.core.dates import babel_locale, format_datetime_local, format_slot_local

TZ = "Europe/Stockholm"
# 09:00 UTC on Tuesday 1 December 2026 is 10:00 in Stockholm (winter time).
WINTER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("sv", "tisdag 1 december 2026 kl. 10:00"),
        ("en", "Tuesday, 1 December 2026 at 10:00"),
        ("fi", "tiistai 1. joulukuuta 2026 klo 10.00"),
        ("ro", "marți, 1 decembrie 2026, la 10:00"),
        # CLDR has no Romani locale: Swedish formats, as residents see on Swedish letters.
        ("rmn", "tisdag 1 december 2026 kl. 10:00"),
        ("rmy", "tisdag 1 december 2026 kl. 10:00"),
    ],
)
def test_full_date_text_for_every_supported_locale(locale, expected):
    assert format_datetime_local(WINTER, locale, TZ) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("sv", "tis 1 dec. 10:00"),
        ("en", "Tue 1 Dec 10:00"),
        ("fi", "ti 1.12. 10.00"),
        ("ro", "mar., 1 dec. 10:00"),
        ("rmn", "tis 1 dec. 10:00"),
        ("rmy", "tis 1 dec. 10:00"),
    ],
)
def test_short_slot_text_fits_a_button(locale, expected):
    assert format_slot_local(WINTER, locale, TZ) == expected


def test_summer_time_is_applied():
    # 1 June 2027 08:00 UTC is 10:00 in Stockholm (CEST).
    assert format_datetime_local(datetime(2027, 6, 1, 8, 0, tzinfo=UTC), "sv", TZ) == (
        "tisdag 1 juni 2027 kl. 10:00"
    )


def test_naive_datetimes_are_read_as_utc():
    assert format_datetime_local(datetime(2026, 12, 1, 9, 0), "sv", TZ).endswith("kl. 10:00")


@pytest.mark.parametrize("odd", ["rmy", "rmn", "xx", "", "sv-SE", "not a locale"])
def test_unknown_locales_never_raise(odd):
    assert babel_locale(odd).language in {"sv"}
