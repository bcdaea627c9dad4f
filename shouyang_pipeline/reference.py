"""The county's fixed lists (data/reference/*.csv) and the look-ups that canonicalise names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .text import norm

REFERENCE_FILES = ("townships", "villages", "industry_chains", "zones", "targets")


def read_reference_csv(reference_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(reference_dir / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


@dataclass
class Reference:
    """Look-ups from normalised spellings to canonical names, built once per run."""

    townships: dict[str, str] = field(default_factory=dict)
    industry_chains: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    # (township_name, normalised village name) -> (village_code, village_name)
    villages: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # village_code -> (village_name, township_name)
    village_codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # normalised village name -> townships that have it
    village_townships: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, reference_dir: Path) -> "Reference":
        ref = cls()
        for row in read_reference_csv(reference_dir, "townships").itertuples():
            ref.townships[norm(row.township_name)] = row.township_name
        for row in read_reference_csv(reference_dir, "industry_chains").itertuples():
            ref.industry_chains[norm(row.chain_name)] = row.chain_name
            ref.industry_chains[norm(row.chain_code).casefold()] = row.chain_name
        for row in read_reference_csv(reference_dir, "zones").itertuples():
            for spelling in [row.zone_name, row.zone_code, *str(row.aliases).split(";")]:
                if spelling.strip():
                    ref.zones[norm(spelling).casefold()] = row.zone_name
        villages_csv = reference_dir / "villages.csv"
        if villages_csv.exists():
            for row in read_reference_csv(reference_dir, "villages").itertuples():
                code, name, township = row.village_code.strip(), row.village_name.strip(), row.township_name.strip()
                for spelling in {norm(name), norm(name).removesuffix("村")}:
                    ref.villages[(township, spelling)] = (code, name)
                    ref.village_townships.setdefault(spelling, []).append(township)
                ref.village_codes[code] = (name, township)
        return ref

    def canonical(self, list_name: str, value: str) -> str | None:
        """The canonical name of `value` in the list, or None when it is not on it."""
        table: dict[str, str] = getattr(self, list_name)
        key = norm(value)
        return table.get(key) or table.get(key.casefold())

    def choices(self, list_name: str) -> set[str]:
        return set(getattr(self, list_name).values())

    def find_village(self, township: str, name: str) -> tuple[str, str] | None:
        key = norm(name)
        return self.villages.get((township, key)) or self.villages.get((township, key.removesuffix("村")))
