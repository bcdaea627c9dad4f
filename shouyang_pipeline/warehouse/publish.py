"""Publishing a run: the warehouse and its exports replace the previous run's together, or not at all.

A run writes a private work file (`data/.work/warehouse.duckdb`), and its briefings and workbooks
into a staging folder, `<export dir>/.staged/` (`stage_exports`). `publish_run` then commits:

  (a) the checkpointed work file is copied, and fsynced, to a temp file beside the published one
      (`.warehouse.duckdb.<pid>.tmp`); the staged exports are fsynced too;
  (b) the commit record `.warehouse.duckdb.commit.json`, beside the published file, is written
      atomically: the temp warehouse, the staged exports to move into the export dir and the stale
      exports to delete. Once it is there, the run is published, whatever happens next;
  (c) applied: the temp file replaces the published warehouse (os.replace), each staged export
      replaces its namesake, the stale ones are deleted, the directories are fsynced;
  (d) the record and the staging folder are removed.

An export is a file of the export dir or of a folder in it (the departments' receipts,
`receipts/<period>/<file>__回执.xlsx`): it is staged at the same relative path under `.staged/`,
its folders are made when it is moved into place, and a folder emptied by deleting stale exports
is removed with them.

`recover_publish(work, published, export_dir)`, called before a run changes anything, finishes (c)
and (d) of a run killed after (b), and otherwise removes what a killed or failed run left
(temp files, the staging folder): the published warehouse and exports are then always those of
one and the same run. `roll_forward` alone (finishing a committed publish, touching nothing
else) is called by every entry point that reads or writes data, under the run lock
(`pipeline.finish_committed_publish`): the CLI's commands, the sensor's and schedule's ticks,
the start of every Dagster run. A failure before (b), a full disk included, removes this run's temp files
and staged exports on the way out and leaves the published files as they were.

An analyst's read-write session on the published file must not be replaced under them: DuckDB
keeps `warehouse.duckdb.wal` beside it and would replay it against the new file, which no client
could then open. Before (b) the published file is opened read-only; DuckDB's lock conflict (it
names the holder's PID) raises `PublishedWarehouseInUse` and nothing is published. A `.wal`
nobody holds (a session that ended uncleanly) is moved into the work dir, with a hard link to the
file it belongs to, before the warehouse is replaced.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from ..config import BEIJING
from ..errors import SetupError
from . import connection

STAGING_DIR = ".staged"
STAGE_MANIFEST = ".manifest.json"
RECORD_VERSION = 1
_CHUNK = 16 * 1024 * 1024
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class PublishedWarehouseInUse(SetupError):
    """Another process holds the published warehouse open read-write: it was not replaced."""

    def __init__(self, path: Path, pid: int | None, program: str | None, work: Path, *, before_run: bool = False):
        """`before_run`: found before the run began (`pipeline.preflight`), so that nothing was read
        or written; else at the publish, the run's results kept in the work file."""
        self.path, self.pid, self.program, self.work = Path(path), pid, program, Path(work)
        who = "、".join(x for x in (f"进程号 {pid}" if pid else "", program or "") if x) or "未知进程"
        done = "本次运行没有开始，什么都没有改动" if before_run else "本次运行没有替换它"
        then = ("会话关闭后重新运行即可。" if before_run
                else f"本次运行的结果保存在工作文件 {work} 中，下一次运行时会一并发布。")
        super().__init__(
            f"已发布的数据仓库文件 {path} 正被另一个程序（{who}）以读写方式打开，{done}"
            "（否则该会话的 .wal 日志会让所有人都打不开新文件）。"
            f"请该分析人员关闭这个读写会话，之后以只读方式重新打开：make sql（或 duckdb -readonly {path}）。"
            + then)


@dataclass
class Published:
    """What one publish (or the roll-forward of one) put in place."""

    warehouse: Path
    exports: list[Path] = field(default_factory=list)
    deleted: list[Path] = field(default_factory=list)
    stale_wal: Path | None = None  # where a stale `.wal` of the replaced file was moved
    rolled_forward: bool = False  # finished by recovery, for a run killed after its commit
    stage_found: bool = True  # False: the run's staged exports were gone, only the warehouse went out


@dataclass
class Recovery:
    published: Published | None  # the killed run's publish, finished; None when there was none
    removed: list[Path]  # leftovers of a killed or failed run


@dataclass
class Stage:
    """The exports of a run, written into `dir` and moved into `export_dir` when it is published."""

    dir: Path
    export_dir: Path
    run_id: str
    files: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    def add(self, paths: Iterable[Path]) -> list[Path]:
        """Files written into `dir`, or into a folder of it (`receipts/2023-02/…`); returns where
        they will be once published (the same place under the export dir)."""
        out = []
        base = self.dir.resolve()
        for path in paths:
            path = Path(path)
            try:
                name = path.parent.resolve().relative_to(base).joinpath(path.name).as_posix()
            except ValueError:
                name = ""
            if not _plain_name(name):
                raise ValueError(f"not a file of the staging folder {self.dir}: {path}")
            if name not in self.files:
                self.files.append(name)
            out.append(self.export_dir / name)
        return out

    def remove(self, name: str) -> None:
        """An export of the export dir to delete when the run is published (a month without data,
        a receipt whose file no longer needs one): a name, or a path under the export dir."""
        if not _plain_name(name):
            raise ValueError(f"not a file name: {name}")
        if name not in self.delete:
            self.delete.append(name)


# The one hidden export: the digests of what each month's exports were written from (`digests.py`).
DIGESTS_NAME = ".digests.json"


def _plain_name(name: str) -> bool:
    """A file name, or a relative path of such names joined by `/` (`receipts/2023-02/x.xlsx`):
    nothing hidden (but the exports' digests, `DIGESTS_NAME`), no `..`, no backslash, nothing absolute."""
    if name == DIGESTS_NAME:
        return True
    parts = name.split("/")
    return bool(name) and all(p and "\\" not in p and not p.startswith(".") for p in parts)


def _checkpoint(point: str) -> None:
    """Named points of the protocol; the fault tests replace this to kill the process there."""


# ------------------------------------------------------------------ writing, durably


def _write_all(fh, data: bytes) -> None:
    """Every byte written to the published side goes through here but what the kernel copies
    (`_copy_range`); the tests make it fail."""
    view = memoryview(data)
    while view:  # (an unbuffered file may take part of it at a time)
        view = view[fh.write(view):]


def _fsync(path: Path) -> None:
    """fsync a file or a directory (its entries: renames and deletions in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_range(fin, fout, count: int) -> int:
    """Up to `count` bytes copied by the kernel from `fin`'s position to `fout`'s, both advanced;
    0 at the end of `fin`. Every byte copied to the published side goes through here (the tests
    make it fail). Raises OSError, with an errno of `_NO_KERNEL_COPY` when the system cannot copy so."""
    return os.copy_file_range(fin.fileno(), fout.fileno(), count)


# What `copy_file_range` says where the kernel cannot copy between these two files (another
# file system on an older kernel, a file system or a system without it): copied by reading then.
_NO_KERNEL_COPY = {errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF}


def copy_file(src: Path, dst: Path, *, point: str | None = "copying") -> None:
    """Copy src to dst and fsync it; dst is left half-written on failure (the caller removes it).

    The kernel copies it (`copy_file_range`) where it can: no byte passes through this process.
    A 150 MB warehouse took 0.12 s so on this machine, and 0.16-1.48 s read and written a chunk
    at a time (the first time in a process mostly: the system time of memory the VM had not
    touched, BENCHMARKS.md), every time. Elsewhere it is read and written a chunk at a time."""
    with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
        first = True
        kernel = hasattr(os, "copy_file_range")
        while True:
            if kernel:
                try:
                    copied = _copy_range(fin, fout, _CHUNK)
                except OSError as exc:
                    if not first or exc.errno not in _NO_KERNEL_COPY:
                        raise  # a full disk, an I/O error: the caller's to handle
                    kernel = False  # nothing copied yet: read and written instead, from the start
                    continue
            else:
                chunk = fin.read(_CHUNK)
                if chunk:
                    _write_all(fout, chunk)
                copied = len(chunk)
            if not copied:
                break
            if first and point:
                _checkpoint(point)
            first = False
        os.fsync(fout.fileno())


def _write_json(path: Path, obj: dict, label: str) -> None:
    """Replace `path` with obj as JSON, atomically and durably; no temp file survives a failure."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            _write_all(fh, json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        _checkpoint(f"{label}:written")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync(path.parent)


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(src), str(dst))


# ------------------------------------------------------------------ where things are


def record_path(published: Path) -> Path:
    """The commit record of a publish under way, beside the published file."""
    published = Path(published)
    return published.with_name(f".{published.name}.commit.json")


def staging_dir(export_dir: Path) -> Path:
    return Path(export_dir) / STAGING_DIR


def _temp_warehouse(published: Path) -> Path:
    return published.with_name(f".{published.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _rel(path: Path, base: Path) -> str:
    """Paths in the record are relative to its folder: a moved data folder keeps its record valid."""
    return os.path.relpath(Path(path).resolve(), base)


def _at(record: dict, key: str) -> Path:
    return Path(record["_base"]) / record[key]


# ------------------------------------------------------------------ who holds the published file


@dataclass(frozen=True)
class Holder:
    pid: int | None
    program: str | None


def read_write_holder(path: Path) -> Holder | None:
    """The process holding `path` open read-write, from DuckDB's lock conflict on a read-only open.

    Readers (read-only sessions) share the lock and are no holder. Any other failure to open (a
    `.wal` that does not match, a damaged file) is no holder either: publishing replaces the file.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        conn = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        text = str(exc)
        m = _LOCK_HOLDER.search(text)
        if m:
            return Holder(int(m.group("pid")), m.group("program"))
        if "Could not set lock" in text:
            return Holder(None, None)
        return None
    conn.close()
    return None


def _refuse_if_held(published: Path, work: Path) -> None:
    holder = read_write_holder(published)
    if holder is not None:
        raise PublishedWarehouseInUse(published, holder.pid, holder.program, work)


def wal_path(database: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file while a read-write session has
    writes not yet checkpointed into it (left behind when such a session dies)."""
    return database.with_name(database.name + ".wal")


def stale_wal_note(kept: Path) -> str:
    """What a run or a command says of a `.wal` it set aside (`_set_aside_wal`, `kept`: where)."""
    moved = f"已发布的数据仓库旁有一个无人持有的 .wal 日志（某个读写会话未正常关闭），已移到 {kept}"
    if kept.with_suffix("").exists():
        return f"{moved}；打开同目录的 {kept.with_suffix('')} 可看到该会话写入的内容。"
    return f"{moved}（此处不能建立硬链接，只保留了日志本身，它属于被替换前的数据仓库文件）。"


def _set_aside_wal(published: Path, work_dir: Path) -> Path | None:
    """Move a `.wal` nobody holds into the work dir, with a hard link to the file it belongs to:
    opening `stale-wal-<time>.duckdb` there replays it (the analyst's writes are not lost)."""
    wal = wal_path(published)
    if not wal.exists():
        return None
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = f"stale-wal-{datetime.now(BEIJING):%Y%m%dT%H%M%S}"
    n = 1
    while (work_dir / f"{stem}.duckdb.wal").exists() or (work_dir / f"{stem}.duckdb").exists():
        n += 1
        stem = f"stale-wal-{datetime.now(BEIJING):%Y%m%dT%H%M%S}-{n}"
    kept_db, kept_wal = work_dir / f"{stem}.duckdb", work_dir / f"{stem}.duckdb.wal"
    if published.exists():
        try:
            os.link(published, kept_db)
        except OSError:
            pass  # no hard links here: the WAL alone is kept
    _move(wal, kept_wal)
    _fsync(work_dir)
    return kept_wal


# ------------------------------------------------------------------ staging the exports


@contextmanager
def stage_exports(work: Path, published: Path, export_dir: Path, run_id: str) -> Iterator[Stage]:
    """A fresh staging folder for this run's exports; its manifest is written when the body ends.

    A previous run's publish is finished (or its leftovers removed) first. When the body raises
    (a full disk, a bug), the staging folder goes with everything written into it.
    """
    recover_publish(work, published, export_dir)
    stage = Stage(staging_dir(export_dir), Path(export_dir), run_id)
    shutil.rmtree(stage.dir, ignore_errors=True)
    stage.dir.mkdir(parents=True)
    try:
        yield stage
        missing = [n for n in stage.files if not (stage.dir / n).is_file()]
        if missing:
            raise FileNotFoundError(f"staged exports missing from {stage.dir}: {missing}")
        _write_json(stage.dir / STAGE_MANIFEST,
                    {"run_id": run_id, "files": stage.files, "delete": stage.delete}, "manifest")
    except BaseException:
        shutil.rmtree(stage.dir, ignore_errors=True)
        raise


def _read_stage(export_dir: Path, run_id: str | None) -> Stage | None:
    """This run's complete staging folder, or None (a staging folder of another run is removed)."""
    d = staging_dir(export_dir)
    try:
        manifest = json.loads((d / STAGE_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if (not manifest or run_id is None or manifest.get("run_id") != run_id
            or not all((d / n).is_file() for n in manifest.get("files", []))):
        shutil.rmtree(d, ignore_errors=True)
        return None
    return Stage(d, Path(export_dir), run_id, list(manifest["files"]), list(manifest["delete"]))


# ------------------------------------------------------------------ publishing


def publish_run(work: Path, published: Path, export_dir: Path | None = None, run_id: str | None = None) -> Published:
    """Publish the work file, and the exports `stage_exports` staged in run `run_id`, as one step.

    Raises PublishedWarehouseInUse, with nothing published, when another process holds the
    published file read-write. Without `export_dir` (or without a staging folder of this run)
    only the warehouse is published.
    """
    work, published = Path(work), Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_warehouse(published)
    committed = False
    try:
        roll_forward(published, work)  # an earlier run's commit first, should recovery not have run
        with connection.connect(work) as conn:
            conn.execute("CHECKPOINT")
        stage = _read_stage(export_dir, run_id) if export_dir is not None else None
        copy_file(work, tmp)  # (a)
        if stage is not None:
            for name in stage.files:
                _fsync(stage.dir / name)
            for folder in _folders(stage.dir, stage.files):
                _fsync(folder)
        _checkpoint("copied")
        _refuse_if_held(published, work)
        base = published.parent.resolve()
        record = {
            "version": RECORD_VERSION,
            "run_id": run_id,
            "created_at": datetime.now(BEIJING).isoformat(timespec="seconds"),
            "published": published.name,
            "warehouse_tmp": tmp.name,
            "work_dir": _rel(work.parent, base),
            "export_dir": _rel(stage.export_dir, base) if stage is not None else None,
            "staging_dir": _rel(stage.dir, base) if stage is not None else None,
            "exports": stage.files if stage is not None else [],
            "delete": stage.delete if stage is not None else [],
        }
        rec = record_path(published)
        _write_json(rec, record, "commit")  # (b): from here on the run is published
        committed = True
        _checkpoint("committed")
        record["_base"] = str(base)
        done = _apply(record)  # (c)
        _finish(rec, record)  # (d)
        done.stage_found = stage is not None or export_dir is None
        return done
    finally:
        if not committed:
            tmp.unlink(missing_ok=True)
            if export_dir is not None:
                shutil.rmtree(staging_dir(export_dir), ignore_errors=True)


def _apply(record: dict) -> Published:
    """Step (c), idempotent: what an earlier attempt already moved is not there to move again.
    The warehouse goes first, so a missing temp file means it was replaced already."""
    tmp, published = _at(record, "warehouse_tmp"), _at(record, "published")
    done = Published(published)
    if tmp.exists():
        done.stale_wal = _set_aside_wal(published, _at(record, "work_dir"))
        os.replace(tmp, published)
        _checkpoint("warehouse-replaced")
    if record.get("export_dir"):
        export_dir, staged = _at(record, "export_dir"), _at(record, "staging_dir")
        for name in record["exports"]:
            src, dst = staged / name, export_dir / name
            if src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                _checkpoint("export-moved")
            done.exports.append(dst)
        for name in record["delete"]:
            stale = export_dir / name
            if stale.exists():
                stale.unlink()
                done.deleted.append(stale)
            _remove_empty_folders(stale.parent, export_dir)
        for folder in _folders(export_dir, [*record["exports"], *record["delete"]]):
            if folder.is_dir():
                _fsync(folder)
    _fsync(published.parent)
    _checkpoint("applied")
    return done


def _folders(root: Path, names: Iterable[str]) -> list[Path]:
    """`root` and every folder under it that holds one of `names` (relative paths), deepest first:
    the directories whose entries a move or deletion of those names changes."""
    found = {Path(root)}
    for name in names:
        parent = (Path(root) / name).parent
        while parent != Path(root) and Path(root) in parent.parents:
            found.add(parent)
            parent = parent.parent
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _remove_empty_folders(folder: Path, root: Path) -> None:
    """Remove `folder` and its parents up to (not including) `root` while they are empty: a
    period's receipts folder goes with its last receipt."""
    folder, root = Path(folder), Path(root)
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty, or gone already
        folder = folder.parent


def _finish(record_file: Path, record: dict) -> None:
    """Step (d): the record goes (only after (c) is durable), then the emptied staging folder."""
    record_file.unlink()
    _fsync(record_file.parent)
    _checkpoint("record-removed")
    if record.get("staging_dir"):
        shutil.rmtree(_at(record, "staging_dir"), ignore_errors=True)


# ------------------------------------------------------------------ recovery


def pending_warehouse(published: Path) -> Path | None:
    """The warehouse a committed but unfinished publish is about to put in place, if any."""
    record = _read_record(record_path(published))
    if record is None:
        return None
    tmp = _at(record, "warehouse_tmp")
    return tmp if tmp.exists() else None


def _read_record(rec: Path) -> dict | None:
    """The commit record, with `_base` (its folder) added; None if absent or not a record."""
    try:
        record = json.loads(rec.read_text(encoding="utf-8"))
        if record["version"] != RECORD_VERSION or record["published"] != rec.name[1:-len(".commit.json")]:
            return None
        for key in ("warehouse_tmp", "work_dir", "exports", "delete"):
            record[key]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    record["_base"] = str(rec.resolve().parent)
    return record


def roll_forward(published: Path, work: Path | None = None) -> Published | None:
    """Finish the publish of a run killed after its commit record was written; None if none.

    Raises PublishedWarehouseInUse (the record stays, for the next attempt) when the warehouse is
    still to be replaced and another process holds the published file read-write.
    """
    published = Path(published)
    rec = record_path(published)
    if not rec.exists():
        return None
    record = _read_record(rec)
    if record is None:
        # Records are written whole (fsync, then rename), so this is damage, not a kill: keep it
        # for a look and publish nothing (the published files stay as they are).
        work_dir = Path(work).parent if work else published.parent / ".work"
        work_dir.mkdir(parents=True, exist_ok=True)
        _move(rec, work_dir / f"broken-commit-{datetime.now(BEIJING):%Y%m%dT%H%M%S}.json")
        return None
    if _at(record, "warehouse_tmp").exists():
        _refuse_if_held(published, Path(work) if work else _at(record, "work_dir") / published.name)
    done = _apply(record)
    _finish(rec, record)
    done.rolled_forward = True
    return done


def recover_publish(work: Path, published: Path, export_dir: Path) -> Recovery:
    """Call before a run changes anything: finish a publish that was committed but not applied
    (a kill after step (b)), then remove what killed or failed runs left: temp files beside the
    published and the work file, the staging folder of the exports. Idempotent.

    Raises PublishedWarehouseInUse when a committed warehouse cannot replace the published file
    because another process holds it read-write (nothing changes; call again later).
    """
    work, published, export_dir = Path(work), Path(published), Path(export_dir)
    done = roll_forward(published, work)
    removed: list[Path] = []
    leftovers = [published.parent.glob(f".{published.name}.*.tmp"),
                 work.parent.glob(f".{work.name}.*.tmp")]
    if export_dir.is_dir():
        leftovers += [export_dir.glob(".briefing_*.tmp"), export_dir.glob(".marts_*.tmp")]
    for path in (p for group in leftovers for p in group):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    staged = staging_dir(export_dir)
    if staged.exists():
        shutil.rmtree(staged, ignore_errors=True)
        removed.append(staged)
    return Recovery(done, removed)
