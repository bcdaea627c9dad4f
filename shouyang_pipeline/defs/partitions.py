"""Reporting months: one Dagster partition per month that has data, kept in calendar order.

The partitions are dynamic (stored in the Dagster instance), not a calendar: a month becomes a
partition when a run of it is started by `shouyang run`, by the schedule or by the file sensor
(`add_months`), so the UI lists the months that have files or data instead of every month since
2020-01, and a month nobody submitted for is never materialised.

Dagster keeps dynamic partition keys in the order they were added, and a run over a range
(`dagster/asset_partition_range_start/end`, what `shouyang run` and a single-run backfill use)
takes the keys between the two ends in that order. So the keys must stay sorted: a month older
than the newest one already there (a late or corrected submission) is put in its place by
deleting the keys after it and adding them back in order. Deleting a key forgets nothing: its
materialisations and check results stay in the event log and show again once it is back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import dagster as dg


def _materialised_in_calendar_order() -> None:
    """A run over a range of months records its materialisations month by month in calendar
    order, so the latest of an asset (what the UI shows first) is the run's last month.

    Dagster 1.13 records them in the order `OutputContext.asset_partition_keys` lists them, which
    for a dynamic partition set is that of a Python `set` (it changes with every process's string
    hashing): after `shouyang run` of 2023 the UI said 2023-09 was every asset's latest. The
    property is wrapped to list keys that are all months (YYYY-MM, which sort as the calendar)
    sorted, and any other keys as Dagster does. This leans
    on Dagster's internals as `storage.py` does (dagster is pinned; re-check on an upgrade:
    shouyang_pipeline_tests/test_partition_metadata.py)."""
    from dagster._core.execution.context.output import OutputContext

    listed = OutputContext.asset_partition_keys
    if getattr(listed.fget, "_sorted", False):
        return

    def asset_partition_keys(self) -> list[str]:
        keys = listed.fget(self)
        # this project's months only: another partitioning's keys may not sort as its calendar
        return sorted(keys) if all(isinstance(k, str) and _MONTH.match(k) for k in keys) else keys

    asset_partition_keys._sorted = True
    OutputContext.asset_partition_keys = property(asset_partition_keys, doc=listed.__doc__)


TIMEZONE = "Asia/Shanghai"
PARTITIONS_NAME = "period"

monthly = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$", re.ASCII)

_materialised_in_calendar_order()


def add_months(instance: dg.DagsterInstance, months: Iterable[str]) -> list[str]:
    """Make `months` (YYYY-MM) partitions of the instance, keeping every key in calendar order;
    returns the months that were not partitions yet."""
    months = set(months)
    bad = sorted(m for m in months if not _MONTH.match(m))
    if bad:
        raise ValueError(f"not a month (YYYY-MM): {', '.join(bad)}")
    existing = list(instance.get_dynamic_partitions(PARTITIONS_NAME))
    new = sorted(months - set(existing))
    wanted = sorted(set(existing) | months)
    if wanted == existing:
        return []
    # The longest run of keys already in their place stays; the rest goes and comes back in order.
    keep = 0
    while keep < len(existing) and existing[keep] == wanted[keep]:
        keep += 1
    for key in existing[keep:]:
        instance.delete_dynamic_partition(PARTITIONS_NAME, key)
    instance.add_dynamic_partitions(PARTITIONS_NAME, wanted[keep:])
    return new


def months_of(instance: dg.DagsterInstance) -> list[str]:
    """The months that are partitions, in their stored order."""
    return list(instance.get_dynamic_partitions(PARTITIONS_NAME))


def remove_months(instance: dg.DagsterInstance, months: Iterable[str]) -> list[str]:
    """Stop `months` being partitions (deleting keys keeps the others' order); returns those
    that were. Their runs, materialisations and check results stay in the event log."""
    existing = set(instance.get_dynamic_partitions(PARTITIONS_NAME))
    gone = sorted(set(months) & existing)
    for key in gone:
        instance.delete_dynamic_partition(PARTITIONS_NAME, key)
    return gone


def months_of_run(instance: dg.DagsterInstance, tags: Mapping[str, str]) -> list[str]:
    """The months a run covers: its partition, or the partitions between its range's ends."""
    if key := tags.get("dagster/partition"):
        return [key]
    first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if not first or not last:
        return []
    return [m for m in months_of(instance) if first <= m <= last]
