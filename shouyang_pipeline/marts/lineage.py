"""Which tables each mart reads, and so the order the marts are built in, from their SQL alone.

`tables_read(sql)` parses a SELECT with DuckDB's own parser (`json_serialize_sql`, the parser
that will run it) and returns every schema-qualified table it names, as asset keys
`schema/table`; names of its CTEs are not tables, table functions (`duckdb_tables()`) are not
read tables, and a table named without its schema is refused (a mart names `staging.x`,
`reference.x`, `marts.x`). The macros of `macros.sql` read no table, so the SQL text of a mart is
its whole lineage.

`mart_inputs(name)` is that of `marts/<name>.sql`: the Dagster asset's deps. `build_order()` puts
every mart after the marts it reads (in the declared order otherwise) and refuses a mart that
reads an undeclared mart or a cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache

import duckdb

from ..catalog.marts import MARTS


class LineageError(ValueError):
    """A mart's SQL cannot be placed: unparseable, a table without schema, an unknown mart, a cycle."""


def _nodes(tree):
    """Every JSON object in a parse tree, depth first."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """An in-memory database to parse with, opened once a process (an open costs about 13 ms, a
    cursor on it well under one: the twelve marts' lineage is read at every start-up)."""
    return duckdb.connect(":memory:")


def parse_tree(sql: str) -> dict:
    """DuckDB's parse tree of one SELECT (JSON), or LineageError with DuckDB's message."""
    with _parser().cursor() as cur:  # a cursor of its own a call: a connection is not for two threads
        tree = json.loads(cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise LineageError(f"{tree.get('error_type')}: {tree.get('error_message')}")
    return tree


def tables_read(sql: str) -> tuple[str, ...]:
    """The tables a SELECT reads, as sorted asset keys `schema/table`."""
    tree = parse_tree(sql)
    nodes = list(_nodes(tree))
    ctes = {entry["key"] for n in nodes if isinstance(n.get("cte_map"), dict) for entry in n["cte_map"]["map"]}
    read = set()
    for n in nodes:
        if n.get("type") != "BASE_TABLE":
            continue
        schema, name = n.get("schema_name") or "", n["table_name"]
        if n.get("catalog_name"):
            raise LineageError(f"{n['catalog_name']}.{schema}.{name}: a mart reads this warehouse only")
        if not schema:
            if name in ctes:
                continue
            raise LineageError(f"table {name} without its schema (staging.{name}, reference.{name}, marts.{name}?)")
        read.add(f"{schema}/{name}")
    return tuple(sorted(read))


@cache
def mart_inputs(name: str) -> tuple[str, ...]:
    """The tables marts.<name> reads (asset keys), from marts/<name>.sql."""
    from .build import mart_sql

    try:
        return tables_read(mart_sql(name))
    except LineageError as exc:
        raise LineageError(f"marts/{name}.sql: {exc}") from None


def marts_read(inputs: Iterable[str]) -> list[str]:
    """The marts among asset keys."""
    return [key.split("/", 1)[1] for key in inputs if key.startswith("marts/")]


def build_order(inputs: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """Every mart after the marts it reads; otherwise in the order of `catalog.marts.MARTS`.

    `inputs` (mart -> asset keys it reads) defaults to what the SQL files read."""
    names = list(inputs) if inputs is not None else list(MARTS)
    reads = {n: marts_read(inputs[n] if inputs is not None else mart_inputs(n)) for n in names}
    order: list[str] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed:
            return
        if name in path:
            cycle = " → ".join((*path[path.index(name):], name))
            raise LineageError(f"marts read each other in a cycle: {cycle}")
        for upstream in reads[name]:
            if upstream not in reads:
                raise LineageError(f"marts.{name} reads marts.{upstream}, which is not a declared mart")
            place(upstream, (*path, name))
        placed.add(name)
        order.append(name)

    for name in names:
        place(name, ())
    return order
