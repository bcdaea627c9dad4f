"""The catalogue: what every room speaks of, below every room.

- `datasets/`: one declaration per kind of submission (fields, kinds, units, rules, key, cadence);
- `rules`: the rule codes a row or cell can get, with their Chinese names, and the rules a field
  declares, as objects carrying their check, canonical spelling, description, code and reason;
- `tables`: every warehouse table and column (reference, staging derived from the datasets, audit);
- `marts`: the analyst-facing tables.

It imports no room (ingest, warehouse, marts, exports, defs): they all import it.
"""
