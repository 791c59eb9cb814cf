"""Dates as the reader writes them: the locale from Accept-Language, times in the practice's time zone.

Templates call ``when(value)``, which gives a ``<time>`` element with the ISO value for machines and the
locale's medium format for people; ``when_text(value)`` gives the words alone (PDF, file names).
"""

import datetime as dt
import zoneinfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time
from flask import current_app, g, has_request_context, request
from markupsafe import Markup, escape

DEFAULT_LOCALE = "en_US"
DEFAULT_TIMEZONE = "America/Los_Angeles"


def request_locale():
    """The first locale of the request's Accept-Language that Babel knows, else en_US."""
    if not has_request_context():
        return Locale.parse(DEFAULT_LOCALE)
    if "locale" not in g:
        g.locale = Locale.parse(DEFAULT_LOCALE)
        for tag in request.accept_languages.values():
            try:
                g.locale = Locale.parse(tag.replace("-", "_"))
                break
            except (ValueError, UnknownLocaleError):
                continue
    return g.locale


def timezone():
    """The time zone times are shown in (``GATEWAY_TIMEZONE``; UTC when the name is unknown here)."""
    name = current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def when_text(value, locale=None):
    """A FHIR date, partial date or instant in the reader's words ("Jan 5, 2026", "5 ene 2026, 8:00 PST")."""
    if not value:
        return ""
    locale = locale or request_locale()
    if len(value) == 4:
        return value
    if len(value) == 7:
        return format_skeleton("yMMM", dt.date.fromisoformat(value + "-01"), locale=locale)
    if len(value) == 10:
        return format_date(dt.date.fromisoformat(value), "medium", locale=locale)
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone())
    # The zone's abbreviation ("PST", "PDT") so staff and patient, wherever they read, know the clock meant.
    return (
        f"{format_date(moment.date(), 'medium', locale=locale)}, {format_time(moment, 'short', locale=locale)}"
        f" {moment.tzname()}"
    )


def day_text(value, locale=None):
    """The calendar day of a date or instant in the reader's words ("Mar 3, 2026"), in the practice's time zone."""
    if not value or len(value) <= 10:
        return when_text(value, locale)
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone())
    return format_date(moment.date(), "medium", locale=locale or request_locale())


def when(value):
    """A ``<time>`` element: the ISO value in ``datetime`` and the reader's words inside."""
    if not value:
        return ""
    return Markup('<time datetime="{}">{}</time>').format(escape(value), when_text(value))


def until(end, start):
    """The end of a span that began at ``start``: the time alone when both fall on one local day."""
    if not end or len(end) <= 10 or not start or len(start) <= 10 or _local_day(end) != _local_day(start):
        return when(end)
    moment = dt.datetime.fromisoformat(end.replace("Z", "+00:00")).astimezone(timezone())
    return Markup('<time datetime="{}">{}</time>').format(
        escape(end), format_time(moment, "short", locale=request_locale())
    )


def _local_day(instant):
    return dt.datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(timezone()).date()


def local_today(now_iso):
    """The calendar date of a UTC instant in the practice's time zone (file names match the dates inside)."""
    return _local_day(now_iso).isoformat()


def init_app(app):
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["until"] = until
    app.jinja_env.filters["when_text"] = when_text
    app.jinja_env.filters["day_text"] = day_text
