"""Dagster definitions: `dagster dev -w workspace.yaml` and `shouyang run` both load `defs` from here."""

import dagster as dg

from ..config import Settings
from .assets import ALL_ASSETS
from .automation import monthly_refresh, monthly_schedule, raw_files_sensor
from .resources import WarehouseResource


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[monthly_refresh],
        schedules=[monthly_schedule],
        sensors=[raw_files_sensor],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
