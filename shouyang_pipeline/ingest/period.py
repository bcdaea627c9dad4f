"""Ingest one partition: every current file of one dataset and period, checked together.

Plain Python: returns the frames the warehouse loads (staging rows, rejected rows, cell
warnings, the ingest log) and touches nothing but the archive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import chain, compress
from pathlib import Path

import pandas as pd

from ..collector import collector_paused
from ..config import Settings
from ..catalog import rules as codes
from ..catalog.datasets import DATASETS, Dataset, Field
from ..reference import Reference
from ..catalog.tables import (FILE_LOG_COLUMNS, ISSUE_COLUMNS, ROW_KINDS, STAGING, UNREAD_KEY_PART, PeriodFrames,
                              dataset_period_key)
from .discover import RawFile, raw_files, take
from .layout import find_layout, money_unit, unread_sheets_note, unread_unit_hint
from .parse import Issue, ParsedFile, Row, display_name, issue, parse_file, parse_lines
from .register import Register, read_register
from ..text import as_written
from .read import FileRejected, csv_lines, read_grids
from .validate import RuleContext, rule_failures, values_frame
from .villages import check_village

# The cross-column checks a dataset declares by name in `Dataset.row_checks`.
ROW_CHECKS = {"village": check_village}
# A duplicate key's reason names at most this many of the other rows, then their count.
DUPLICATES_NAMED = 3

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    raw: RawFile
    sha256: str | None
    parsed: ParsedFile | None = None
    rejection: str | None = None  # why the whole file is rejected, Chinese
    all_rows_rejected: bool = False  # rejected because every data row was (`rejection` says so for a run)

    @property
    def rows(self) -> list[Row]:
        return self.parsed.rows if self.parsed and not self.rejection else []


@dataclass
class PeriodIngest(PeriodFrames):
    """The frames for the warehouse, and how each file went (for `shouyang check` and metadata)."""

    files: list[FileOutcome] = field(default_factory=list)

    def release(self) -> None:
        """Lets go of the rows read; the frames stay. A row refers to its file and the file to its
        rows: a cycle that only the garbage collector would free, and ingest holds it off
        (`collector_paused`). Called once the rows are no longer needed, they are freed at once."""
        super().release()
        for o in self.files:
            if o.parsed is not None:
                o.parsed.rows, o.parsed.columns, o.parsed.row_lines = [], {}, None


def ingest_period(settings: Settings, dataset_name: str, period: str, reference: Reference,
                  files: list[RawFile] | None = None, *, archive: bool = True) -> PeriodIngest:
    """Read, check and shape every current file of one dataset-period. `archive=False` keeps no
    copy (a clerk's `shouyang check`, which must not write anything)."""
    with collector_paused():
        return _ingest_period(settings, dataset_name, period, reference, files, archive=archive)


def _ingest_period(settings: Settings, dataset_name: str, period: str, reference: Reference,
                   files: list[RawFile] | None, *, archive: bool) -> PeriodIngest:
    dataset = DATASETS[dataset_name]
    if files is None:
        files = [f for f in raw_files(settings) if f.dataset_period == (dataset_name, period)]
    register = read_register(settings.raw_dir)
    archive_dir = settings.archive_dir if archive else None
    outcomes: list[FileOutcome] = []
    first_by_sha: dict[str, str] = {}
    for raw in sorted(files, key=lambda f: f.rel_path):
        outcomes.append(_read_one(raw, dataset, reference, archive_dir, first_by_sha))
    try:
        return _checked(dataset, period, outcomes, register, reference)
    except Exception as exc:  # noqa: BLE001 - a checker's bug on one file's rows must not stop the county
        log.exception("校验%s %s的文件时程序出错，正逐个文件重新校验", dataset_name, period)
        failure = exc
    kept, passed = _without_faulty(dataset, period, outcomes, register, reference, archive_dir)
    if not passed:
        # No file of the period checks alone: nothing tells a file's content from the pipeline's
        # own fault (a bug every file meets would reject them all and publish the period empty).
        raise failure
    return _checked(dataset, period, kept, register, reference)


def _without_faulty(dataset: Dataset, period: str, outcomes: list[FileOutcome], register: Register,
                    reference: Reference, archive_dir: Path | None) -> tuple[list[FileOutcome], int]:
    """The period's files once checking them together failed, and how many of those read check
    alone: each read again (checking changed its rows) and checked alone. A file that fails alone
    is rejected as unreadable (its rows are accounted for by that, as a file a reader failed on);
    the others are returned read afresh, to be checked together (a fault that shows only then
    still fails the period). A file replaced in between is read as it is now, and archived (the
    log records that version: the next run sees it as read)."""
    kept, passed = [], 0
    for o in outcomes:
        if o.parsed is not None:  # read (a file rejected once every row was, too: its keys count)
            alone = _read_one(o.raw, dataset, reference, archive_dir, {})
            try:
                _checked(dataset, period, [alone], register, reference)
            except Exception as exc:  # noqa: BLE001 - said in the file's rejection, and in the log
                log.exception("单独校验%s时程序出错", o.raw.rel_path)
                kept.append(FileOutcome(o.raw, alone.sha256, rejection=_unreadable(exc)))
                continue
            passed += 1
            o = _read_one(o.raw, dataset, reference, archive_dir, {})
        kept.append(o)
    return kept, passed


def _unreadable(exc: BaseException) -> str:
    """A whole file's rejection when reading or checking it failed on something no rule foresaw."""
    return (f"文件内容异常，无法读取（{type(exc).__name__}）：请用Excel打开后另存为新的“.xlsx”或“CSV UTF-8”文件重新报送；"
            "如仍不行请联系县政府办")


def _checked(dataset: Dataset, period: str, outcomes: list[FileOutcome], register: Register,
             reference: Reference) -> PeriodIngest:
    """The period's files read (`outcomes`) checked together: the rules, the cross-column checks
    and the duplicate keys over all their rows, then the frames."""
    rows = [row for o in outcomes for row in o.rows]
    read = [o.parsed.columns for o in outcomes if o.rows]  # the columns of those rows, file by file
    _canonicalise(dataset, read, reference)
    values = _apply_rules(dataset, rows, _joined(read, [f.name for f in dataset.all_fields]), reference, period)
    for check in dataset.row_checks:
        for row in rows:
            ROW_CHECKS[check](row, reference)
    if dataset.row_checks:
        values = None  # (a row check may change a value: the staging rows are taken from the columns again)
    _reject_duplicate_keys(dataset, rows, _joined(read, dataset.key))
    for o in outcomes:
        if o.parsed and not o.rejection and o.rows and all(r.errors for r in o.rows):  # (every row rejected)
            o.all_rows_rejected = True
            o.rejection = _all_rejected(len(o.rows), RUN)
    loaded = None  # the values of the rows loaded (no error: a file sent back has one on every row)
    if values is not None:
        taken = [not row.errors for row in rows]
        loaded = values if all(taken) else values[taken].reset_index(drop=True)
    return PeriodIngest(
        dataset=dataset.name,
        period=period,
        files=outcomes,
        staging=_staging_frame(dataset, period, outcomes, loaded),
        rejected=_issue_frame(dataset, period, outcomes, "errors"),
        warnings=_issue_frame(dataset, period, outcomes, "warnings"),
        log=pd.DataFrame([_log_row(o, dataset, period, register, reference) for o in outcomes],
                         columns=FILE_LOG_COLUMNS),
    )


def _read_one(raw: RawFile, dataset: Dataset, reference: Reference, archive_dir: Path | None,
              first_by_sha: dict[str, str]) -> FileOutcome:
    taken = take(raw, archive_dir)
    digest, data = taken.digest, taken.data
    if raw.naming_problem or taken.rejection:
        return FileOutcome(raw, digest, rejection=raw.naming_problem or taken.rejection)
    if digest in first_by_sha:
        return FileOutcome(raw, digest, rejection=f"重复提交：内容与{first_by_sha[digest]}完全相同，本文件不入库")
    first_by_sha[digest] = raw.rel_path
    try:
        needs_formats = any(f.kind == "percent" for f in dataset.fields)
        # a big CSV file of one record a line is read a column at a time (`parse_lines`)
        lines = csv_lines(data) if raw.suffix == ".csv" else None
        grids = [lines.grid()] if lines else read_grids(data, raw.suffix, percent_formats=needs_formats)
        layout = find_layout(grids, dataset)
        from_submitter = _submitter_values(raw, dataset, reference, layout)
        missing = [f for f in dataset.fields if f.required and layout.column(f.name) is None
                   and f.name not in from_submitter]
        if missing:
            names = "；".join(f"{f.header}（也可写作：{'、'.join(f.aliases)}）" if f.aliases else f.header for f in missing)
            raise FileRejected(f"缺少必填列：{names}" + "".join(_submitter_hint(f, raw, reference) for f in missing)
                               + "".join(unread_unit_hint(f, layout.ignored) for f in missing))
        parsed = _parsed_in_columns(raw, layout, dataset, lines) if lines else None
        if parsed is None:  # (read as records; also a big file the columnar reading failed on)
            if lines:
                layout = find_layout(read_grids(data, raw.suffix, percent_formats=needs_formats), dataset)
            parsed = parse_file(raw.rel_path, layout, dataset, reference)
    except FileRejected as exc:
        return FileOutcome(raw, digest, rejection=str(exc))
    except Exception as exc:  # noqa: BLE001 - a reader's bug on one file must not stop the county
        log.exception("读取%s时程序出错，该文件按“文件内容异常”退回", raw.rel_path)
        return FileOutcome(raw, digest, rejection=_unreadable(exc))
    for name, value in from_submitter.items():
        parsed.columns[name] = [value] * len(parsed.rows)
    if not parsed.rows:
        return FileOutcome(raw, digest, parsed, rejection="文件中没有数据行（表头以下只有空行、合计或表尾），未入库")
    return FileOutcome(raw, digest, parsed)


def _parsed_in_columns(raw: RawFile, layout, dataset: Dataset, lines) -> ParsedFile | None:
    """`parse_lines` of a big CSV file; None, said in the log, when it fails on something no rule
    foresaw (Polars' own error, a panic in its Rust included): the file is then read as records,
    which say what is wrong with it, if anything."""
    try:
        return parse_lines(raw.rel_path, layout, dataset, lines)
    except BaseException as exc:  # noqa: BLE001 - a Rust panic arrives as a BaseException
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise  # an interrupt (Ctrl-C, Dagster stopping the step), an exit: not the file's doing
        log.exception("按列读取%s时程序出错，改为逐行读取", raw.rel_path)
        return None


def _submitter_values(raw: RawFile, dataset: Dataset, reference: Reference, layout) -> dict[str, str]:
    """Columns the file lacks that its submitter names (`2023-03__平头镇.xlsx` has no 乡镇 column),
    the submitter read as its calendar line says (`__平头镇人民政府` is 平头镇), as templates read it."""
    values = {}
    if not raw.submitter:
        return values
    who = reference.expected_submitter(dataset.name, raw.submitter) or raw.submitter
    for f in dataset.fields:
        if f.from_submitter and layout.column(f.name) is None:
            value = reference.canonical(f.from_submitter, who)
            if value:
                values[f.name] = value
    return values


def _submitter_hint(f: Field, raw: RawFile, reference: Reference) -> str:
    """How a column that the submitter may give (`Field.from_submitter`) can be left out:
    `。只报一个园区时也可不设此列，而在文件名中写明园区，如“2023-05__平头融合发展区.csv”`."""
    if not f.from_submitter:
        return ""
    # What the list holds, as its look-up rule names it (园区, 乡镇).
    what = next((r.what for r in f.rules if getattr(r, "list_name", None) == f.from_submitter), f.header)
    names = reference.names(f.from_submitter)
    example = f"{raw.period}__{names[0] if names else what}{raw.suffix}"
    hint = f"。只报一个{what}时也可不设此列，而在文件名中写明{what}，如“{example}”"
    if raw.submitter:
        hint += f"（文件名中的“{raw.submitter}”不在{what}名录中）"
    return hint


def _joined(files: list[dict[str, list]], names) -> dict[str, list]:
    """The columns `names` of several files' rows, one after the other."""
    return {name: list(chain.from_iterable(columns[name] for columns in files)) for name in names}


def _canonicalise(dataset: Dataset, files: list[dict[str, list]], reference: Reference) -> None:
    """Each canonicalising rule applied to its column in every file (`ParsedFile.columns`), in place."""
    for f in dataset.all_fields:
        for rule in f.rules:
            if rule.canonicalises:
                # The same few spellings recur on every row: each distinct one canonicalised once
                # (the first of equal ones, in row order over the files, stands for them), then
                # every cell written back in one pass in C (a file has every field's column,
                # `parse_file`). Equal cells stay one object (the list's own copy of a name), which
                # the frames and checks after hash once and compare by identity, and a worker's
                # result pickles once: giving equal cells their own copies (tried) made the rules
                # and the result frames about 6 s slower at 1000×.
                cells = chain.from_iterable(columns[f.name] for columns in files)
                seen = {v: rule.canonical(v, reference) for v in dict.fromkeys(cells)}
                for columns in files:
                    columns[f.name] = list(map(seen.__getitem__, columns[f.name]))


def _apply_rules(dataset: Dataset, rows: list[Row], columns: dict[str, list], reference: Reference,
                 period: str) -> pd.DataFrame | None:
    """Every declared rule checked over the period's rows (`columns`: their values, in order); a
    failing cell is a problem of its row, and an optional one's value dropped. Returns the rows'
    values as checked (`values_frame`), the values dropped dropped there too (None for no row)."""
    if not rows:
        return None
    frame = values_frame(dataset, columns, len(rows))
    dropped: list[tuple[int, str]] = []
    failures = rule_failures(dataset, frame, reference, period)
    context = RuleContext.for_period(reference, period)
    # A comparison with a column that itself broke a rule says nothing useful (总投资 -200 is
    # the error, not 年度计划投资 > -200): only the other column's own failure is reported.
    own = {(position, f.name) for position, f, rule in failures if not rule.is_comparison}
    for position, f, rule in failures:
        if rule.is_comparison and (position, rule.other) in own:
            continue
        row = rows[position]
        if pd.isna(frame.at[position, f.name]) and any(i.column == f.name for i in row.errors + row.warnings):
            # A rule that fails on a NULL (`filled_when`) about a cell that is NULL because it could
            # not be read (`2023年13月`): the cell already has its one problem, and it is not blank.
            continue
        cm = row.file.column_map(f.name)
        raw_value = row.cells[cm.index] if cm and cm.index < len(row.cells) else row.values.get(f.name)
        other = other_value = unit = other_unit = ""
        if rule.is_comparison:
            other_cm = row.file.column_map(rule.other)
            other = display_name(other_cm) if other_cm else dataset.field(rule.other).header
            if other_cm and other_cm.index < len(row.cells):
                other_value = as_written(row.cells[other_cm.index]) or ""
            if cm and other_cm and cm.field.kind == other_cm.field.kind == "money":
                # amounts in different units are compared in 万元: the figures as written say which is which
                units = money_unit(row.file.layout, cm), money_unit(row.file.layout, other_cm)
                if units[0] != units[1]:
                    unit, other_unit = units
        found = issue(row.number, cm, raw_value, rule.code, rule.reason, declared=f, other=other,
                      other_value=other_value, unit=unit, other_unit=other_unit, **rule.reason_fields(context))
        if f.required:
            row.errors.append(found)
        else:
            row.warnings.append(found)
            row.values[f.name] = None
            dropped.append((position, f.name))
    for position, name in dropped:  # (after the loop: a cell's other failures are told from its value)
        frame.at[position, name] = None
    return frame


def _reject_duplicate_keys(dataset: Dataset, rows: list[Row], keys: dict[str, list]) -> None:
    """Reject every row whose key another row of the period has, as a whole row's problem (no
    cell, no column), naming the other rows: by row
    number in the same file (本文件第N行), by file and row number in another. `keys`: the rows'
    values of the key's columns."""
    groups = _repeated_keys(dataset.key, rows, keys)
    key_header = "、".join(dataset.field(k).header for k in dataset.key)
    for key, dupes in groups.items():
        shown = "、".join(str(v) for v in key)
        for row in dupes:
            # Name the first few other rows and count the rest: a key repeated n times would
            # otherwise cost n² text.
            named = [o for o in dupes[:DUPLICATES_NAMED + 1] if o is not row][:DUPLICATES_NAMED]
            others = "；".join(f"本文件第{o.number}行" if o.file is row.file else f"{o.file.rel_path} 第{o.number}行"
                              for o in named)
            if len(dupes) - 1 > len(named):
                others += f"等，共{len(dupes) - 1}行"
            # A whole row's problem (WAREHOUSE.md): no cell, no column; the value is the key as
            # written in its last key column (村名称 rather than 所属乡镇), the reason names the key.
            cm = next((c for c in map(row.file.column_map, reversed(dataset.key)) if c is not None), None)
            written = as_written(row.cells[cm.index]) if cm and cm.index < len(row.cells) else None
            row.errors.append(Issue(
                source_row=row.number, source_cell=None, column=None, source_column=None,
                value=written if written is not None else shown, rule=codes.DUPLICATE_KEY,
                reason=f"{key_header}“{shown}”在本期重复出现（另见：{others}），重复的各行均不入库，请核对后只保留一行",
            ))


def _repeated_keys(key: tuple[str, ...], rows: list[Row], columns: dict[str, list]) -> dict[tuple, list[Row]]:
    """Every key (all its columns filled) that more than one row has -> those rows, in row order
    (`columns`: the rows' values of the key's columns). A key of one column is looked up by its
    value: no tuple a row for the collector to count."""
    first: dict = {}  # key -> the first row that has it
    repeated: dict = {}  # key -> every row that has it, once it has a second one
    if len(key) == 1:
        keys = columns[key[0]]
    else:
        keys = (k if all(v is not None and v != "" for v in k) else None
                for k in zip(*(columns[name] for name in key)))
    for row, k in zip(rows, keys):
        if k is None or k == "":
            continue
        seen = first.setdefault(k, row)
        if seen is not row:
            if k in repeated:
                repeated[k].append(row)
            else:
                repeated[k] = [seen, row]
    if len(key) == 1:
        return {(k,): dupes for k, dupes in repeated.items()}
    return repeated


def _staging_frame(dataset: Dataset, period: str, outcomes: list[FileOutcome],
                   loaded_values: pd.DataFrame | None = None) -> pd.DataFrame:
    """The loaded rows of the period's files; `loaded_values`, when given, is their values as
    `_apply_rules` checked them (`_checked`), taken rather than made into a frame again."""
    table = STAGING[dataset.name]
    kept: list[tuple[dict[str, list], list[bool]]] = []  # each loaded file's columns, and which rows are loaded
    files: list[str] = []
    numbers: list[int] = []
    for o in outcomes:
        if o.rejection or not o.rows:
            continue
        loaded = [not row.errors for row in o.rows]  # not row.is_rejected
        kept.append((o.parsed.columns, loaded))
        numbers += [row.number for row in compress(o.rows, loaded)]
        files += [o.raw.rel_path] * sum(loaded)
    if loaded_values is not None and len(loaded_values) == len(numbers):
        frame = loaded_values
    else:
        columns = {f.name: list(chain.from_iterable(compress(c[f.name], loaded) for c, loaded in kept))
                   for f in dataset.all_fields}
        frame = values_frame(dataset, columns, len(numbers))
    frame["period"] = pd.Series([period] * len(numbers), dtype="object")
    frame["source_file"] = pd.Series(files, dtype="object")
    frame["source_row"] = pd.Series(numbers, dtype="Int64")
    return frame[table.column_names]


def row_key_text(dataset: Dataset, row: Row) -> str | None:
    """A row's key as text, its columns joined by `/` as audit.cross_period_flags.key writes it
    (`平头镇/黑水村`); a key column whose cell broke a rule reads `*` (`*/黑水村`: the row still
    says which village it was). None when no key column could be read."""
    # a key repeated in the period is still the row's key (duplicate_key is about the row, not its cell)
    failed = {i.column for i in (*row.errors, *row.warnings) if i.rule != codes.DUPLICATE_KEY}
    parts = []
    for k in dataset.key:
        value = row.values.get(k)
        parts.append(UNREAD_KEY_PART if k in failed or value is None or value == "" else str(value))
    if all(p == UNREAD_KEY_PART for p in parts):
        return None
    return "/".join(parts)


def _issue_frame(dataset: Dataset, period: str, outcomes: list[FileOutcome], which: str) -> pd.DataFrame:
    records = []
    for o in outcomes:
        if not o.parsed:
            continue
        for row in o.parsed.rows:
            if not row.errors and not row.warnings:
                continue  # nothing to list, whether it was loaded or not
            loaded = not (o.rejection or row.errors)  # (the row not rejected)
            if which == "warnings":
                issues = row.warnings if loaded else []
            else:
                # A row that is not loaded lists every failing cell, optional ones included.
                issues = [] if loaded else row.errors + row.warnings
            raw_row = row.raw_json() if issues else None  # once per row, not per failing cell
            row_key = row_key_text(dataset, row) if issues else None
            for i in issues:
                records.append({
                    "file_path": o.raw.rel_path, "dataset": dataset.name, "period": period,
                    "source_row": i.source_row, "source_cell": i.source_cell, "column": i.column,
                    "source_column": i.source_column, "value": i.value, "rule": i.rule,
                    "reason": i.reason, "raw_row": raw_row, "row_key": row_key,
                })
    return pd.DataFrame(records, columns=ISSUE_COLUMNS)


@dataclass(frozen=True)
class Audience:
    """Who reads a file's message: where it sends them for the rows and cells, and whether the
    file has been loaded (a run) or would be (`shouyang check`)."""

    rejected_rows: str
    cell_warnings: str
    loaded: bool


RUN = Audience("audit.rejected_rows", "audit.cell_warnings", loaded=True)
CLERK = Audience("下表“不能入库的行”", "下表“需要留意的单元格”", loaded=False)

# What became of a cell a warning is about, by rule: (what it is, what a run did, what a run would do).
_WARNING_OUTCOMES = {
    codes.GARBLED_TEXT: ("疑似乱码", "已按原样保存", "将按原样保存"),
    codes.MIXED_ENCODING: ("以另一种编码保存", "已按该编码读取", "已按该编码读取"),
    codes.UNKNOWN_CODE: ("代码不在名录中", "已按名称改用名录中的代码", "将按名称改用名录中的代码"),
    codes.MISSING_DATE: ("应填写而未填写", "所在行已照常入库", "所在行将照常入库"),
    codes.UNCOMPUTED_FORMULA: ("是没有计算结果的公式", "已存为空值", "入库时将存为空值"),
    codes.NOTE_READ_AS_DATA: ("以说明文字开头、后面还有数据行", "已按数据行读取", "将按数据行读取"),
}
_NULLED = ("无法识别或不符合规则", "已存为空值", "入库时将存为空值")


def _all_rejected(n: int, audience: Audience) -> str:
    """The note of a file whose every row failed (`catalog.tables.ALL_ROWS_REJECTED_NOTE` recognises it)."""
    return (f"全部{n}行数据均未通过校验，整个文件{'未' if audience.loaded else '不能'}入库，"
            f"请按{audience.rejected_rows}中的原因改正后重新报送")


def warnings_note(warnings: list[Issue], audience: Audience) -> str | None:
    """`另有2个单元格无法识别或不符合规则，已存为空值（见audit.cell_warnings）`, or several kinds
    counted together; None when the loaded rows have no warning."""
    if not warnings:
        return None
    counts: dict[tuple[str, str, str], list[int]] = {kind: [0, 0] for kind in (_NULLED, *_WARNING_OUTCOMES.values())}
    for w in warnings:
        counts[_WARNING_OUTCOMES.get(w.rule, _NULLED)][w.source_cell is None] += 1
    phrases = []  # (what, what became of it)
    for (what, done, would), by_unit in counts.items():
        for n, unit in zip(by_unit, ("个单元格", "行")):
            if n:
                phrases.append((f"{n}{unit}{what}", done if audience.loaded else would))
    where = f"见{audience.cell_warnings}"
    if len(phrases) == 1:
        ((what, outcome),) = phrases
        return f"另有{what}，{outcome}（{where}）"
    return f"另有{len(warnings)}处需要留意（{where}）：" + "、".join(f"{what}（{outcome}）" for what, outcome in phrases)


def file_message(o: FileOutcome, audience: Audience = RUN) -> str:
    """Everything about one file in a few Chinese sentences: how many rows loaded and why not,
    the cells to look at, the totals check, ignored columns and sheets not read."""
    pf = o.parsed
    rows = pf.rows if pf else []
    read = len(rows)
    rejected = sum(1 for r in rows if r.errors)  # (r.is_rejected, a property: a million rows read at once)
    notes = []
    if o.all_rows_rejected:
        notes.append(_all_rejected(read, audience))
    elif o.rejection:
        notes.append(o.rejection)
    elif rejected == 0:
        notes.append(f"读取{read}行数据，全部{'入库' if audience.loaded else '可以入库'}")
    elif audience.loaded:
        notes.append(f"读取{read}行数据，入库{read - rejected}行，拒收{rejected}行（原因见{audience.rejected_rows}）")
    else:
        notes.append(f"读取{read}行数据，{read - rejected}行可以入库，{rejected}行有错、不能入库"
                     f"（原因见{audience.rejected_rows}）")
    if not o.rejection:
        loaded_warnings = [w for r in rows if r.warnings and not r.errors for w in r.warnings]
        if note := warnings_note(loaded_warnings, audience):
            notes.append(note)
    if pf:
        notes += pf.totals_notes
        if pf.layout.ignored:
            notes.append("已忽略无法识别的列：" + "、".join(pf.layout.ignored))
        if unread := unread_sheets_note(pf.layout):
            notes.append(unread)
    return "；".join(notes)


def _log_row(o: FileOutcome, dataset: Dataset, period: str, register: Register, reference: Reference) -> dict:
    pf = o.parsed
    rows = pf.rows if pf else []
    read = len(rows)
    rejected = sum(1 for r in rows if r.errors)
    if o.rejection:
        status = "rejected"
        loaded = 0
        rejected = read
    else:
        loaded = read - rejected
        status = "loaded" if rejected == 0 else "partial"
    skipped = pf.skipped if pf else {k: 0 for k in ROW_KINDS}
    return {
        "file_path": o.raw.rel_path, "dataset": dataset.name, "period": period,
        "submitter": o.raw.submitter, "sha256": o.sha256, "status": status,
        "rows_read": read, "rows_loaded": loaded, "rows_rejected": rejected,
        "rows_skipped": sum(skipped.values()),
        **{f"rows_{k}": skipped[k] for k in ROW_KINDS},
        "ignored_columns": "、".join(pf.layout.ignored) if pf and pf.layout.ignored else None,
        "totals_check": pf.totals_check if pf else None,
        "message": file_message(o, RUN),
        **_received(o.raw, register),
        "expected_submitter": reference.expected_submitter(dataset.name, o.raw.submitter),
        "partition_key": dataset_period_key(dataset.name, period),
    }


def _received(raw: RawFile, register: Register) -> dict:
    received_at, received_from = register.received(raw.rel_path, raw.path)
    return {"received_at": received_at, "received_from": received_from}


def unplaced_log(settings: Settings, files: list[RawFile] | None = None) -> pd.DataFrame:
    """Ingest-log rows for files no partition can hold (unknown folder, bad or out-of-range period)."""
    if files is None:
        files = raw_files(settings)
    register = read_register(settings.raw_dir)
    records = []
    for raw in files:
        if raw.dataset_period is not None:
            continue
        digest = take(raw, settings.archive_dir, max_bytes=0).digest  # archived, never parsed
        records.append({
            "file_path": raw.rel_path, "dataset": raw.dataset, "period": raw.period, "submitter": raw.submitter,
            "sha256": digest, "status": "rejected", "rows_read": 0, "rows_loaded": 0, "rows_rejected": 0,
            "rows_skipped": 0, **{f"rows_{k}": 0 for k in ROW_KINDS}, "ignored_columns": None,
            "totals_check": None, "message": raw.naming_problem, **_received(raw, register),
            "expected_submitter": None, "partition_key": None,
        })
    return pd.DataFrame(records, columns=FILE_LOG_COLUMNS)
