"""Parents are in France: times on the pages are Paris times (UTC if the zone data is missing)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    TIMEZONE = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without zone data
    TIMEZONE = ZoneInfo("UTC")
