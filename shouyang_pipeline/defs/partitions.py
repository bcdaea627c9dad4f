"""Reporting months: one partition per month from 2020-01 to the current month, Asia/Shanghai."""

import dagster as dg

from ..ingest.discover import FIRST_PERIOD

TIMEZONE = "Asia/Shanghai"

monthly = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_PERIOD, fmt="%Y-%m", timezone=TIMEZONE, end_offset=1,
)
