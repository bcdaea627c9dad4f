"""The county's fixed lists (data/reference/*.csv) and the look-ups that canonicalise names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import SetupError
from .text import norm

# The lists whose names are also senders' names (`2023-05__平头融合发展区.xlsx`, `__平头镇`).
SENDER_LISTS = ("zones", "townships")
REFERENCE_FILES = ("townships", "villages", "industry_chains", "zones", "mines", "submitters", "targets")
_HINT = "（参考名录目录由环境变量 SHOUYANG_REFERENCE_DIR 或 SHOUYANG_DATA_DIR 设定；本次运行未做任何改动）"


def read_reference_csv(reference_dir: Path, name: str) -> pd.DataFrame:
    """One reference list, checked: the file exists, is UTF-8 CSV, and has the declared columns.

    Anything else is a set-up error (SetupError), never a traceback or rows blamed on a clerk.
    """
    from .catalog.tables import REFERENCE  # the declared columns

    path = reference_dir / f"{name}.csv"
    if not reference_dir.is_dir():
        raise SetupError(f"找不到参考名录目录 {reference_dir}（当前目录：{Path.cwd()}）：请在项目目录中运行，或设置正确的路径{_HINT}")
    if path.exists() and not path.is_file():
        raise SetupError(f"参考名录 {path} 不是一个文件（可能是同名文件夹）：应为UTF-8编码的CSV文件{_HINT}")
    if not path.is_file():
        raise SetupError(f"缺少参考名录文件 {path}：请从项目的 data/reference/ 复制或由县里提供{_HINT}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SetupError(f"参考名录文件 {path} 无法读取（{type(exc).__name__}）：应为UTF-8编码的CSV文件{_HINT}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REFERENCE[name].column_names if c not in frame.columns]
    if missing:
        raise SetupError(f"参考名录文件 {path} 缺少列：{'、'.join(missing)}（现有列：{'、'.join(frame.columns)}）{_HINT}")
    if name == "targets":
        bad = [v for v in frame["target_value"] if pd.isna(pd.to_numeric(v, errors="coerce"))]
        if bad:
            raise SetupError(f"参考名录文件 {path} 的 target_value 列应为数字（当前值：{'、'.join(bad[:5])}）{_HINT}")
    if name == "submitters":
        from .catalog.datasets import DATASETS

        for row in frame.itertuples():
            problem = None
            if row.dataset not in DATASETS:
                problem = f"数据集“{row.dataset}”不存在（应为 {'、'.join(DATASETS)} 之一）"
            elif not str(row.due_day).strip().isdigit() or not 1 <= int(row.due_day) <= 28:
                problem = f"due_day“{row.due_day}”应为1到28之间的整数"
            elif not parse_months(row.months):
                problem = f"months“{row.months}”应写成 1-12、2-12 或 3,6,9,12 这样的月份"
            if problem:
                raise SetupError(f"参考名录文件 {path} 第{row.Index + 2}行：{problem}{_HINT}")
    return frame


def parse_months(text: str) -> tuple[int, ...]:
    """The months of a reporting calendar line: `1-12`, `2-12`, `3,6,9,12` (full-width forms and
    spaces allowed); () when the text is not that."""
    text = norm(text).replace("，", ",").replace("、", ",")
    months: set[int] = set()
    for part in filter(None, text.split(",")):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            return ()
        low, high = int(first), int(last) if dash else int(first)
        if not 1 <= low <= high <= 12:
            return ()
        months.update(range(low, high + 1))
    return tuple(sorted(months))


def check_reference(reference_dir: Path) -> None:
    """Raise SetupError unless every reference list is present and well formed."""
    for name in REFERENCE_FILES:
        read_reference_csv(reference_dir, name)


def reference_digest(reference_dir: Path) -> str | None:
    """Every file of the reference dir, by name and content; None when one cannot be read (then
    nothing is skipped, and nothing is kept). What a dataset-period's ingest reads besides its
    files (`pipeline._inputs_base`), and what `Reference.load` was last read from."""
    h = hashlib.sha256()
    try:
        for path in sorted(Path(reference_dir).iterdir()):
            if path.is_file():  # (a folder, a pipe, a device is never read: the reading says why)
                h.update(path.name.encode("utf-8", "surrogateescape") + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        return None
    return h.hexdigest()


# The last folder `Reference.load` read: (its path, its `reference_digest`, the look-ups made of it).
_LAST_READ: tuple[str, str, "Reference"] | None = None


@dataclass
class Reference:
    """Look-ups from normalised spellings to canonical names, built once per run."""

    townships: dict[str, str] = field(default_factory=dict)
    industry_chains: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    mines: dict[str, str] = field(default_factory=dict)
    # dataset -> [(normalised submitter, normalised department, submitter)]: the reporting calendar
    submitters: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    # (township_name, normalised village name) -> (village_code, village_name)
    villages: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # village_code -> (village_name, township_name)
    village_codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    # normalised village name -> townships that have it
    village_townships: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, reference_dir: Path) -> "Reference":
        """The look-ups of the lists in `reference_dir`, read again only when their contents
        changed since this process last read that folder: a run's datasets each ask for them (at a
        city's size the villages alone take 0.1 s to read). They are shared: nobody changes them."""
        global _LAST_READ
        key, contents = str(Path(reference_dir).absolute()), reference_digest(reference_dir)
        if contents is not None and _LAST_READ is not None and _LAST_READ[:2] == (key, contents):
            return _LAST_READ[2]
        ref = cls._read(reference_dir)
        if contents is not None:
            _LAST_READ = (key, contents, ref)
        return ref

    @classmethod
    def _read(cls, reference_dir: Path) -> "Reference":
        ref = cls()
        for row in read_reference_csv(reference_dir, "townships").itertuples():
            ref.townships[norm(row.township_name)] = row.township_name
        for row in read_reference_csv(reference_dir, "industry_chains").itertuples():
            ref.industry_chains[norm(row.chain_name)] = row.chain_name
            ref.industry_chains[norm(row.chain_code).casefold()] = row.chain_name
        for list_name, prefix in (("zones", "zone"), ("mines", "mine")):
            for row in read_reference_csv(reference_dir, list_name).to_dict("records"):
                ref.add_spellings(list_name, row[f"{prefix}_name"],
                                  [row[f"{prefix}_code"], *str(row["aliases"]).split(";")])
        for row in read_reference_csv(reference_dir, "submitters").itertuples():
            ref.submitters.setdefault(row.dataset, []).append(
                (norm(row.submitter).casefold(), norm(row.department).casefold(), row.submitter))
        for row in read_reference_csv(reference_dir, "villages").itertuples():
            code, name, township = row.village_code.strip(), row.village_name.strip(), row.township_name.strip()
            for spelling in {norm(name), norm(name).removesuffix("村")}:
                ref.villages[(township, spelling)] = (code, name)
                ref.village_townships.setdefault(spelling, []).append(township)
            ref.village_codes[code] = (name, township)
        return ref

    def add_spellings(self, list_name: str, name: str, others) -> None:
        """File `name` under itself and its other spellings (code, aliases) in a list."""
        table: dict[str, str] = getattr(self, list_name)
        for spelling in [name, *others]:
            if spelling.strip():
                table[norm(spelling).casefold()] = name

    def expected_submitter(self, dataset: str, submitter: str | None) -> str | None:
        """The calendar's `submitter` a file of `dataset` named `__<submitter>` belongs to
        (SUBMISSIONS.md 7: its submitter or department name, normalised; a file with no submitter
        belongs to the dataset's only calendar line); None: 名单外."""
        lines = self.submitters.get(dataset, [])
        if not submitter:
            return lines[0][2] if len(lines) == 1 else None
        keys = [norm(submitter).casefold()]
        # a park or township named by another of its names (`__平头融合区`) is the same sender
        keys += [norm(name).casefold() for list_name in SENDER_LISTS
                 if (name := self.canonical(list_name, submitter)) is not None]
        return next((name for key in keys for sub, dept, name in lines if key in (sub, dept)), None)

    def canonical(self, list_name: str, value: str) -> str | None:
        """The canonical name of `value` in the list, or None when it is not on it."""
        table: dict[str, str] = getattr(self, list_name)
        key = norm(value)
        return table.get(key) or table.get(key.casefold())

    def choices(self, list_name: str) -> set[str]:
        return set(getattr(self, list_name).values())

    def names(self, list_name: str) -> list[str]:
        """The canonical names of a list, in the order of its file."""
        return list(dict.fromkeys(getattr(self, list_name).values()))

    def find_village(self, township: str, name: str) -> tuple[str, str] | None:
        key = norm(name)
        return self.villages.get((township, key)) or self.villages.get((township, key.removesuffix("村")))
