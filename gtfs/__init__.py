"""GTFS and GTFS-JP feeds: loading (zip or folder, feed-scoped ids), calendars, columnar stop times,
validation issues with file, line and field, and GTFS-Flex v2 export (``flex_zip``)."""

from gtfs.calendar import ServiceCalendar
from gtfs.flex import flex_zip
from gtfs.loader import Feed, inspect_feed, load_feed
from gtfs.tables import read_table

__all__ = ["Feed", "ServiceCalendar", "flex_zip", "inspect_feed", "load_feed", "read_table"]
