"""One declaration per dataset: the single source of truth for parsing, validation, DDL and docs."""

from ..rules import Rule
from .base import Dataset, Field
from .city_indicators import DATASET as CITY_INDICATORS
from .industrial_output import DATASET as INDUSTRIAL_OUTPUT
from .key_projects import DATASET as KEY_PROJECTS
from .smart_mines import DATASET as SMART_MINES
from .talent import DATASET as TALENT
from .village_income import DATASET as VILLAGE_INCOME
from .zone_operations import DATASET as ZONE_OPERATIONS

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (KEY_PROJECTS, INDUSTRIAL_OUTPUT, CITY_INDICATORS, VILLAGE_INCOME,
                        SMART_MINES, ZONE_OPERATIONS, TALENT)
}

__all__ = ["DATASETS", "Dataset", "Field", "Rule"]
