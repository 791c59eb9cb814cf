"""Trends in a record: the results and vital signs a patient has more than once, as charts (gateway/trend_chart)
for the portal's lists (a sparkline) and detail pages (a chart and the values in a table).

A series is one test or measurement: the Observations of the same code and unit. A series of one point has no
trend. Dates are said as the reader writes them, on the practice's calendar day (gateway/web/locale_dates).
"""

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup

from gateway.record_sections import BLOOD_PRESSURE_PANELS, lab_name, lab_range, text_of, unit_of, vital_value
from gateway.trend_chart import trend_svg
from gateway.web.locale_dates import timezone, when_text

SPARKLINE = (96, 28)
CHART = (480, 160)


@dataclass
class Trend:
    """One series: its name, its newest Observation, its readings and the chart at both sizes."""

    name: str
    newest_id: str
    range_text: str  # the newest result's normal range in words, shaded on the chart ("" when none)
    readings: list  # [{"date": ISO, "day": words, "text": "8.1 %"}], newest first
    sparkline: Markup
    chart: Markup


def day_words(iso):
    """A result's day in the reader's words, on the practice's calendar ("Oct 16, 2026")."""
    if len(iso) > 10:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        iso = moment.astimezone(timezone()).date().isoformat() if moment.tzinfo else iso[:10]
    return when_text(iso)


def _series_key(obs):
    coding = (obs.get("code") or {}).get("coding") or [{}]
    quantity = obs.get("valueQuantity") or {}
    return coding[0].get("system"), coding[0].get("code"), quantity.get("code") or quantity.get("unit")


def _values(obs):
    """The numbers an Observation charts: its quantity, or a blood pressure's systolic and diastolic."""
    quantity = obs.get("valueQuantity")
    if quantity and isinstance(quantity.get("value"), (int, float)):
        return (quantity["value"],)
    codes = {c.get("code") for c in (obs.get("code") or {}).get("coding", ())}
    if codes & BLOOD_PRESSURE_PANELS:
        values = tuple((c.get("valueQuantity") or {}).get("value") for c in obs.get("component", ()))
        if len(values) == 2 and all(isinstance(v, (int, float)) for v in values):
            return values
    return None


def _band(obs):
    found = (obs.get("referenceRange") or [{}])[0]
    return (found.get("low") or {}).get("value"), (found.get("high") or {}).get("value")


def trends_by_id(observations, lab=True):
    """``{Observation id: Trend}`` for every Observation whose series has two dated numbers or more."""
    series = {}
    for obs in observations:
        date = obs.get("effectiveDateTime") or (obs.get("effectivePeriod") or {}).get("start")
        values = _values(obs)
        if date and values:
            series.setdefault(_series_key(obs), []).append((date, values, obs))
    found = {}
    for members in series.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: m[0])
        newest = members[-1][2]
        name = lab_name(newest.get("code")) if lab else text_of(newest.get("code"))
        unit = unit_of(newest.get("valueQuantity") or {}) if newest.get("valueQuantity") else vital_value(newest)[1]
        points = [(date, values) for date, values, _ in members]
        band, range_text = (_band(newest), lab_range(newest)) if lab else ((None, None), "")
        draw = dict(unit=unit, band=band, range_text=range_text, day_words=day_words)
        readings = [
            {"date": date, "day": day_words(date), "text": f"{'/'.join(f'{v:g}' for v in values)} {unit}".rstrip()}
            for date, values in reversed(points)
        ]
        trend = Trend(
            name,
            newest["id"],
            range_text if any(v is not None for v in band) else "",
            readings,
            Markup(trend_svg(points, name, width=SPARKLINE[0], height=SPARKLINE[1], **draw)),
            Markup(trend_svg(points, name, width=CHART[0], height=CHART[1], labels=True, **draw)),
        )
        found.update((obs["id"], trend) for _, _, obs in members)
    return found
