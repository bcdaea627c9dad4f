"""Faults at the publish step: kills, a full disk, an analyst's read-write session.

The published warehouse and the exports must always be of one and the same run. The protocol
tests publish small "runs" whose warehouse holds a marker (A, B, C) that every export repeats;
the end-to-end tests run the Dagster job and compare the published briefing with one written
afresh from the published warehouse. Kills are real SIGKILLs of a subprocess at the named points
of `publish.py`; the read-write sessions are real second processes (Python, the duckdb CLI).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from shouyang_pipeline.warehouse import publish
from shouyang_pipeline.warehouse.connection import STORAGE_COMPATIBILITY, ensure_work_copy

# The protocol tests' subprocesses import this module: Dagster, pandas and the exports (the
# end-to-end part) are imported where used, so that a killed "run" starts in a fraction of a second.
TESTS = Path(__file__).resolve().parent
COMPAT = {"storage_compatibility_version": STORAGE_COMPATIBILITY}

# ------------------------------------------------------------------ protocol-level "runs"
#
# A run writes `marker(run)` into the work file, stages briefing/workbook stand-ins that repeat the
# marker, and publishes. Run A has data for 2023-02 and 2023-03; B and C only for 2023-02, so
# they also delete the 2023-03 exports: a mixed state shows as a wrong marker or a wrong file set.

PERIODS = {"A": ["2023-02", "2023-03"], "B": ["2023-02"], "C": ["2023-02"]}
NAMES = ("briefing_{}.md", "briefing_{}.html", "marts_{}.xlsx")


def paths(root: Path) -> tuple[Path, Path, Path]:
    published = root / "wh" / "warehouse.duckdb"
    return published.parent / ".work" / published.name, published, root / "exports"


def expected_exports(marker: str) -> set[str]:
    return {n.format(p) for p in PERIODS[marker] for n in NAMES}


def write_work(root: Path, marker: str) -> None:
    work, _, _ = paths(root)
    work.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(work), config=COMPAT) as conn:
        conn.execute("CREATE OR REPLACE TABLE marker AS SELECT ? AS run, range AS i FROM range(20000)", [marker])


def stage(root: Path, marker: str, *, size: int = 2000, writer=None) -> None:
    """The briefing step of a run: its exports into the staging folder (writer(path, data))."""
    work, published, export_dir = paths(root)
    writer = writer or (lambda path, data: path.write_bytes(data))
    with publish.stage_exports(work, published, export_dir, f"run-{marker}") as st:
        for period in PERIODS[marker]:
            for name in NAMES:
                path = st.dir / name.format(period)
                writer(path, f"marker={marker}\n".encode() + b"#" * size)
                st.add([path])
                publish._checkpoint("test:staged-one")
        for period in sorted(set(PERIODS["A"]) - set(PERIODS[marker])):
            for name in NAMES:
                st.remove(name.format(period))


def publish_marker(root: Path, marker: str) -> publish.Published:
    work, published, export_dir = paths(root)
    return publish.publish_run(work, published, export_dir, f"run-{marker}")


def run(root: Path, marker: str) -> publish.Published:
    write_work(root, marker)
    stage(root, marker)
    return publish_marker(root, marker)


def published_marker(root: Path) -> str:
    _, published, _ = paths(root)
    with duckdb.connect(str(published), read_only=True) as conn:
        return conn.execute("SELECT DISTINCT run FROM marker").fetchone()[0]


def leftovers(root: Path) -> list[str]:
    """Temp files, staging folders and commit records anywhere under root."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if (p.is_file() and p.name.endswith((".tmp", ".part", ".commit.json")))
                  or (p.is_dir() and p.name == publish.STAGING_DIR))


def assert_one_run(root: Path, marker: str) -> None:
    """The published warehouse and every export are of run `marker`, and nothing is left over."""
    _, _, export_dir = paths(root)
    assert published_marker(root) == marker
    files = {p.name for p in export_dir.iterdir() if not p.name.startswith(".")}
    assert files == expected_exports(marker)
    for name in files:
        assert (export_dir / name).read_bytes().startswith(f"marker={marker}\n".encode()), name
    assert leftovers(root) == []


KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import test_faults as t
    from shouyang_pipeline.warehouse import publish

    root, what, point, nth = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    hits = 0
    def checkpoint(name):
        global hits
        if name == point:
            hits += 1
            if hits == nth:
                os.kill(os.getpid(), signal.SIGKILL)
    publish._checkpoint = checkpoint
    if what == "recover":
        work, published, export_dir = t.paths(root)
        publish.recover_publish(work, published, export_dir)
    else:
        t.run(root, what)
    print("not killed", flush=True)
""")


def killed(root: Path, what: str, point: str, nth: int = 1) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", KILLED, str(root), what, point, str(nth)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)


# (point, nth hit, the run the published files are of after recovery)
KILL_POINTS = [
    ("test:staged-one", 1, "A"),  # the briefing step, half-way through writing its exports
    ("manifest:written", 1, "A"),  # staging complete but for the manifest's rename
    ("copying", 1, "A"),  # (a) half-way through copying the warehouse
    ("copied", 1, "A"),  # (a) done
    ("commit:written", 1, "A"),  # (b) the record written but not yet renamed into place
    ("committed", 1, "B"),  # (b) done, nothing applied
    ("warehouse-replaced", 1, "B"),  # (c) the new warehouse over the old exports
    ("export-moved", 1, "B"),  # (c) in the middle of the exports
    ("export-moved", 3, "B"),  # (c) every export moved, the stale ones not yet deleted
    ("applied", 1, "B"),  # (c) done
    ("record-removed", 1, "B"),  # (d) the record gone, the staging folder not yet
]


@pytest.mark.parametrize("point,nth,expected", KILL_POINTS, ids=[f"{p}#{n}" for p, n, _ in KILL_POINTS])
def test_a_publish_killed_anywhere_leaves_one_runs_files_after_recovery(tmp_path, point, nth, expected):
    run(tmp_path, "A")
    assert_one_run(tmp_path, "A")
    killed(tmp_path, "B", point, nth)
    work, published, export_dir = paths(tmp_path)
    committed = publish.record_path(published).exists()
    assert committed == (expected == "B" and point != "record-removed")

    recovery = publish.recover_publish(work, published, export_dir)
    assert (recovery.published is not None) == committed
    assert_one_run(tmp_path, expected)
    # Recovery is idempotent, and the next run publishes normally.
    again = publish.recover_publish(work, published, export_dir)
    assert again.published is None and again.removed == []
    run(tmp_path, "C")
    assert_one_run(tmp_path, "C")


@pytest.mark.parametrize("point", ["warehouse-replaced", "export-moved"])
def test_a_recovery_killed_half_way_is_finished_by_the_next(tmp_path, point):
    run(tmp_path, "A")
    killed(tmp_path, "B", "committed")
    killed(tmp_path, "recover", point)
    work, published, export_dir = paths(tmp_path)
    assert publish.recover_publish(work, published, export_dir).published.rolled_forward
    assert_one_run(tmp_path, "B")


def test_a_lost_work_file_after_a_committed_publish_starts_from_the_committed_warehouse(tmp_path):
    run(tmp_path, "A")
    killed(tmp_path, "B", "committed")
    work, published, export_dir = paths(tmp_path)
    work.unlink()
    ensure_work_copy(work, published)  # what a run's first connection does
    with duckdb.connect(str(work), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT run FROM marker").fetchone()[0] == "B"
    publish.recover_publish(work, published, export_dir)
    assert_one_run(tmp_path, "B")


def test_a_damaged_commit_record_publishes_nothing_and_is_kept_aside(tmp_path):
    run(tmp_path, "A")
    work, published, export_dir = paths(tmp_path)
    publish.record_path(published).write_text("{not json", encoding="utf-8")
    publish.recover_publish(work, published, export_dir)
    assert_one_run(tmp_path, "A")
    assert [p.name.startswith("broken-commit-") for p in work.parent.glob("broken-commit-*.json")] == [True]


# ------------------------------------------------------------------ a full disk


# The files written on the way to a publish, by name (`_write_all` writes every byte of them).
WRITE_POINTS = {
    "manifest": lambda name: name.startswith(publish.STAGE_MANIFEST),
    "warehouse copy": lambda name: name.startswith(".warehouse.duckdb.") and ".commit.json" not in name,
    "commit record": lambda name: name.startswith(".warehouse.duckdb.commit.json"),
}


def enospc_copy_after_half(fin, fout, count):
    """A `_copy_range` (the kernel's copy of the warehouse) that copies half of what it is asked,
    then fails as a full disk does."""
    data = fin.read(count)
    fout.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fout.name)


def no_kernel_copy(fin, fout, count):
    """A `_copy_range` on a system that cannot copy in the kernel: the copy is read and written."""
    raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))


def enospc_after_half(is_target):
    """A `_write_all` that writes half the bytes of the target file, then fails as a full disk does."""
    original = publish._write_all

    def write(fh, data):
        if is_target(Path(fh.name).name):
            fh.write(data[: len(data) // 2])
            fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fh.name)
        original(fh, data)

    return write


def enospc_export_writer(path: Path, data: bytes) -> None:
    """Writes the second export as the briefing's `_write` does (a temp file, then rename) and fails."""
    if path.name.endswith(".html"):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    path.write_bytes(data)


@pytest.mark.parametrize("where", ["export", "manifest", "warehouse copy", "warehouse copy, read and written",
                                   "commit record"])
def test_a_full_disk_at_any_write_leaves_the_previous_run_and_no_temp_file(tmp_path, monkeypatch, where):
    run(tmp_path, "A")
    write_work(tmp_path, "B")
    with pytest.raises(OSError) as err:
        if where == "export":
            stage(tmp_path, "B", writer=enospc_export_writer)
        else:
            with monkeypatch.context() as m:
                if where == "warehouse copy":  # copied by the kernel
                    m.setattr(publish, "_copy_range", enospc_copy_after_half)
                else:
                    if where == "warehouse copy, read and written":  # where the kernel cannot copy it
                        m.setattr(publish, "_copy_range", no_kernel_copy)
                    m.setattr(publish, "_write_all", enospc_after_half(WRITE_POINTS[where.split(",")[0]]))
                stage(tmp_path, "B")
                publish_marker(tmp_path, "B")
    assert err.value.errno == errno.ENOSPC
    assert_one_run(tmp_path, "A")  # no recovery needed: the failing run cleaned up after itself
    run(tmp_path, "C")
    assert_one_run(tmp_path, "C")


# ------------------------------------------------------------------ the copy itself


@pytest.mark.parametrize("size", [0, 1, 4096, 3 * 4096 + 17])
@pytest.mark.parametrize("kernel", [True, False], ids=["by the kernel", "read and written"])
def test_a_copy_is_the_file_byte_for_byte_and_says_when_its_first_chunk_is_copied(tmp_path, monkeypatch, size, kernel):
    monkeypatch.setattr(publish, "_CHUNK", 4096)  # several chunks
    if not kernel:
        monkeypatch.setattr(publish, "_copy_range", no_kernel_copy)
    copied, points = [], []
    original_copy, original_write = publish._copy_range, publish._write_all
    # each chunk counted once it is copied (the refused kernel copy is not)
    monkeypatch.setattr(publish, "_copy_range", lambda fin, fout, n: (k := original_copy(fin, fout, n), copied.append(k))[0])
    monkeypatch.setattr(publish, "_write_all", lambda fh, data: (original_write(fh, data), copied.append(len(data)))[0])
    monkeypatch.setattr(publish, "_checkpoint", lambda point: points.append((point, len(copied))))
    src, dst = tmp_path / "src.duckdb", tmp_path / "dst.duckdb"
    data = os.urandom(size)
    src.write_bytes(data)
    dst.write_bytes(b"x" * (size + 5000))  # an older, longer file there: replaced, not overwritten in part
    publish.copy_file(src, dst)
    assert dst.read_bytes() == data
    # the named point once, after the first chunk (none for an empty file: nothing was copied)
    assert points == ([("copying", 1)] if size else [])
    assert sum(copied) == size and all(n <= 4096 for n in copied)


@pytest.mark.parametrize("code", [errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP])
def test_a_copy_the_kernel_cannot_do_between_two_files_is_read_and_written(tmp_path, monkeypatch, code):
    def refused(fin, fout, count):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(publish, "_copy_range", refused)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"warehouse" * 1000)
    publish.copy_file(src, dst, point=None)
    assert dst.read_bytes() == b"warehouse" * 1000


def test_a_copy_failing_half_way_or_for_another_reason_is_not_read_again(tmp_path, monkeypatch):
    """An error after the kernel copied part of the file (a full disk half-way), or one that is no
    sign of a missing kernel copy (an I/O error at once), is the caller's: not hidden by copying again."""
    monkeypatch.setattr(publish, "_CHUNK", 4096)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(os.urandom(3 * 4096))
    original = publish._copy_range
    calls = []

    def second_fails(fin, fout, count):
        calls.append(count)
        if len(calls) == 2:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        return original(fin, fout, count)

    monkeypatch.setattr(publish, "_copy_range", second_fails)
    monkeypatch.setattr(publish, "_write_all", lambda fh, data: pytest.fail("read and written after a partial copy"))
    with pytest.raises(OSError) as err:
        publish.copy_file(src, dst, point=None)
    assert err.value.errno == errno.EXDEV

    def io_error(fin, fout, count):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(publish, "_copy_range", io_error)
    with pytest.raises(OSError) as err:
        publish.copy_file(src, dst, point=None)
    assert err.value.errno == errno.EIO


@pytest.fixture
def small_disk(tmp_path):
    """A real 16 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Leave `leave` bytes free on the disk (a multiple of its block size)."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    assert free > leave
    with open(disk / "filler", "ab") as fh:
        os.posix_fallocate(fh.fileno(), os.fstat(fh.fileno()).st_size, free - leave)
    st = os.statvfs(disk)
    assert st.f_bavail * st.f_frsize == leave


def blocks(n: int, size: int = 4096) -> int:
    return -(-n // size) * size


@pytest.mark.parametrize("where", ["export", "manifest", "warehouse copy", "commit record"])
def test_a_really_full_disk_leaves_the_previous_run_and_no_temp_file(small_disk, monkeypatch, where):
    root = small_disk
    run(root, "A")
    write_work(root, "B")
    work, _, _ = paths(root)
    with duckdb.connect(str(work), config=COMPAT) as conn:
        conn.execute("CHECKPOINT")  # as publishing does: the work file needs no more space
    export_size = 200_000
    room = {"export": 0}  # the space left: enough for every write before `where`, not for it
    room["manifest"] = sum(blocks(len("marker=B\n") + export_size) for _ in expected_exports("B"))
    room["warehouse copy"] = room["manifest"] + blocks(1)
    room["commit record"] = room["warehouse copy"] + blocks(work.stat().st_size)
    fill(root, room[where])
    written = []  # the files `_write_all` or `_copy_range` was asked to write, to see which one the disk refused
    original, original_copy = publish._write_all, publish._copy_range
    monkeypatch.setattr(publish, "_write_all", lambda fh, data: (written.append(Path(fh.name).name),
                                                                 original(fh, data)))
    monkeypatch.setattr(publish, "_copy_range", lambda fin, fout, count: (written.append(Path(fout.name).name),
                                                                          original_copy(fin, fout, count))[1])
    with pytest.raises(OSError) as err:
        stage(root, "B", size=export_size)
        publish_marker(root, "B")
    assert err.value.errno == errno.ENOSPC
    if where == "export":
        assert written == []  # the harness's own export writer was refused
    else:
        assert WRITE_POINTS[where](written[-1]), written
    (root / "filler").unlink()
    assert_one_run(root, "A")
    run(root, "C")
    assert_one_run(root, "C")


# ------------------------------------------------------------------ other processes on the published file

HOLDER = textwrap.dedent("""
    import sys, duckdb
    path, mode, query = sys.argv[1], sys.argv[2], sys.argv[3]
    conn = duckdb.connect(path, read_only=mode == "ro",
                          config={} if mode == "ro" else {"storage_compatibility_version": "v1.4.0"})
    if mode == "rw":
        conn.execute("CREATE TABLE main.x AS SELECT 1 AS analysts_own")
    print(conn.execute(query).fetchone()[0], flush=True)
    sys.stdin.read()  # connected until stdin closes
    conn.close()
""")


def hold(path: Path, mode: str, query: str = "SELECT DISTINCT run FROM marker") -> tuple[subprocess.Popen, str]:
    """Another process connected to `path`, read-only ("ro") or read-write having written ("rw")."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode, query],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def test_a_read_write_session_on_the_published_file_stops_the_publish_and_names_the_process(tmp_path):
    run(tmp_path, "A")
    work, published, export_dir = paths(tmp_path)
    inode = published.stat().st_ino
    analyst, seen = hold(published, "rw")
    assert seen == "A"
    try:
        assert wal(published).exists()  # the session's writes are in its WAL
        write_work(tmp_path, "B")
        stage(tmp_path, "B")
        with pytest.raises(publish.PublishedWarehouseInUse) as err:
            publish_marker(tmp_path, "B")
        assert err.value.pid == analyst.pid
        message = str(err.value)
        assert str(published) in message and f"进程号 {analyst.pid}" in message
        assert f"duckdb -readonly {published}" in message and str(work) in message
        # Nothing was published and nothing is left over; the analyst's file is not replaced.
        assert published.stat().st_ino == inode
        assert leftovers(tmp_path) == []
        assert {p.name for p in export_dir.iterdir()} == expected_exports("A")
        # Recovery does not touch a file held read-write either (there is nothing to recover).
        publish.recover_publish(work, published, export_dir)
        assert published.stat().st_ino == inode
    finally:
        release(analyst)
    # The analyst closed the session: their own table is in the file, which still opens.
    assert not wal(published).exists()
    with duckdb.connect(str(published), read_only=True) as conn:
        assert conn.execute("SELECT analysts_own FROM main.x").fetchall() == [(1,)]
    assert_one_run(tmp_path, "A")
    run(tmp_path, "B")  # the next run publishes the kept results
    assert_one_run(tmp_path, "B")


def test_a_read_write_session_of_the_duckdb_cli_stops_the_publish(tmp_path):
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists():
        pytest.skip("no duckdb CLI in this environment")
    run(tmp_path, "A")
    _, published, _ = paths(tmp_path)
    analyst = subprocess.Popen([str(cli), str(published), "-csv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        analyst.stdin.write("CREATE TABLE main.x AS SELECT 1;\nSELECT 'ready' AS r;\n")
        analyst.stdin.flush()
        assert [analyst.stdout.readline().strip() for _ in range(2)] == ["r", "ready"]
        write_work(tmp_path, "B")
        stage(tmp_path, "B")
        with pytest.raises(publish.PublishedWarehouseInUse) as err:
            publish_marker(tmp_path, "B")
        # The pip wrapper runs the real binary as its child: the lock names one or the other.
        assert err.value.pid in (analyst.pid, *children(analyst.pid))
        assert f"进程号 {err.value.pid}" in str(err.value)
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=60)
    assert_one_run(tmp_path, "A")
    run(tmp_path, "B")
    assert_one_run(tmp_path, "B")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_a_wal_left_by_a_session_that_died_is_set_aside_and_the_new_file_opens(tmp_path):
    run(tmp_path, "A")
    work, published, export_dir = paths(tmp_path)
    analyst, seen = hold(published, "rw")
    assert seen == "A"
    analyst.kill()  # the session ends without a checkpoint: its WAL stays beside the file
    analyst.wait()
    assert wal(published).exists()

    done = run(tmp_path, "B")
    assert done.stale_wal is not None and done.stale_wal.parent == work.parent
    assert done.stale_wal.name.startswith("stale-wal-") and done.stale_wal.name.endswith(".wal")
    assert not wal(published).exists()
    assert_one_run(tmp_path, "B")
    # New connections, read-only and read-write, in another process, open the new file.
    check = ("import duckdb, sys\n"
             "for ro in (True, False):\n"
             "    c = duckdb.connect(sys.argv[1], read_only=ro)\n"
             "    print(c.execute('SELECT DISTINCT run FROM marker').fetchone()[0]); c.close()\n")
    out = subprocess.run([sys.executable, "-c", check, str(published)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["B", "B"]
    # The analyst's writes are kept: the set-aside WAL replays onto the old file kept beside it.
    kept = done.stale_wal.with_suffix("")
    with duckdb.connect(str(kept), read_only=True) as conn:
        assert conn.execute("SELECT analysts_own FROM main.x").fetchall() == [(1,)]
        assert conn.execute("SELECT DISTINCT run FROM marker").fetchone()[0] == "A"


def test_a_reader_holding_the_published_file_read_only_does_not_stop_a_publish(tmp_path):
    run(tmp_path, "A")
    _, published, _ = paths(tmp_path)
    reader, seen = hold(published, "ro")
    assert seen == "A"
    try:
        done = run(tmp_path, "B")
        assert done.stale_wal is None
        assert_one_run(tmp_path, "B")
        assert reader.poll() is None  # still connected, to the previous file
    finally:
        release(reader)


# ------------------------------------------------------------------ the Dagster job

PERIOD = "2023-02"


def write_period(raw: Path, total: float) -> None:
    from conftest import KP_HEADER, kp_row, write_csv

    write_csv(raw / "key_projects" / f"{PERIOD}__发改局.csv", [
        KP_HEADER, kp_row("XM001", total=total, plan=5000, ytd=800), kp_row("XM002", total=8000, plan=2000, ytd=0)])
    write_csv(raw / "city_indicators" / f"{PERIOD}.csv", [["指标名称", "全市数值"], ["规模以上工业增加值增速", "9.5%"]])


def materialize(settings):
    import dagster as dg

    from shouyang_pipeline.defs import build_definitions
    from shouyang_pipeline.defs.partitions import add_months

    job = build_definitions(settings).resolve_job_def("monthly_refresh")
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, [PERIOD])  # the months are Dagster partitions once a run adds them
    return job.execute_in_process(partition_key=PERIOD, instance=instance, raise_on_error=False)


def published_total(settings) -> float:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return float(conn.execute("SELECT sum(total_investment) FROM staging.key_projects").fetchone()[0])


def assert_briefing_of_published_warehouse(settings, tmp_path: Path) -> None:
    """The published briefing is the one the published warehouse gives, and nothing is left over."""
    from shouyang_pipeline.exports import briefing as briefing_module

    fresh = tmp_path / "fresh"
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        briefing_module.write_briefing(conn, PERIOD, fresh)
    for name in (f"briefing_{PERIOD}.md", f"briefing_{PERIOD}.html"):
        assert (settings.export_dir / name).read_text(encoding="utf-8") == (fresh / name).read_text(encoding="utf-8")
    assert (settings.export_dir / f"marts_{PERIOD}.xlsx").exists()
    assert leftovers(tmp_path) == []


def failure_descriptions(result) -> list[str]:
    return [e.step_failure_data.user_failure_data.description for e in result.all_events
            if e.is_step_failure and e.step_failure_data.user_failure_data is not None]


KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import dagster as dg
    from shouyang_pipeline.config import Settings
    from shouyang_pipeline.defs import build_definitions
    from shouyang_pipeline.warehouse import publish

    def checkpoint(name):
        if name == sys.argv[2]:
            os.kill(os.getpid(), signal.SIGKILL)
    publish._checkpoint = checkpoint
    tmp = Path(sys.argv[1])
    settings = Settings(tmp / "raw", tmp / "warehouse" / "warehouse.duckdb", tmp / "exports", tmp / "archive", tmp / "reference")
    from shouyang_pipeline.defs.partitions import add_months
    instance = dg.DagsterInstance.ephemeral()
    add_months(instance, ["2023-02"])
    build_definitions(settings).resolve_job_def("monthly_refresh").execute_in_process(
        partition_key="2023-02", instance=instance)
""")


def test_a_run_killed_while_publishing_is_rolled_forward_with_its_briefing(settings, tmp_path):
    write_period(settings.raw_dir, 20000)
    assert materialize(settings).success
    write_period(settings.raw_dir, 30000)
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, str(tmp_path), "export-moved"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert publish.record_path(settings.warehouse).exists()  # committed, half applied
    recovery = publish.recover_publish(settings.work_warehouse, settings.warehouse, settings.export_dir)
    assert recovery.published.rolled_forward
    assert published_total(settings) == 38000.0
    assert_briefing_of_published_warehouse(settings, tmp_path)


def test_a_full_disk_while_writing_the_exports_fails_the_run_and_publishes_nothing(settings, tmp_path, monkeypatch):
    from shouyang_pipeline.exports import briefing as briefing_module
    from shouyang_pipeline.exports import workbook as workbook_module

    write_period(settings.raw_dir, 20000)
    assert materialize(settings).success
    write_period(settings.raw_dir, 30000)

    def full_write(path: Path, text: str) -> None:  # the briefing's writer, on a full disk
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text[: len(text) // 2], encoding="utf-8")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    with monkeypatch.context() as m:
        m.setattr(briefing_module, "_write", full_write)
        assert not materialize(settings).success
    assert published_total(settings) == 28000.0
    assert_briefing_of_published_warehouse(settings, tmp_path)

    class FullWorkbook(workbook_module.xlsxwriter.Workbook):
        def close(self):
            super().close()  # the temp file is written, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.filename)

    with monkeypatch.context() as m:
        m.setattr(workbook_module.xlsxwriter, "Workbook", FullWorkbook)
        assert not materialize(settings).success
    assert published_total(settings) == 28000.0
    assert_briefing_of_published_warehouse(settings, tmp_path)


def test_a_run_facing_a_read_write_session_fails_saying_so_then_sets_its_wal_aside(settings, tmp_path):
    write_period(settings.raw_dir, 20000)
    assert materialize(settings).success
    write_period(settings.raw_dir, 30000)
    analyst, seen = hold(settings.warehouse, "rw", "SELECT sum(total_investment) FROM staging.key_projects")
    try:
        assert float(seen) == 28000.0
        result = materialize(settings)
        assert not result.success
        [description] = failure_descriptions(result)
        assert str(settings.warehouse) in description and f"进程号 {analyst.pid}" in description
        assert leftovers(tmp_path) == []
    finally:
        analyst.kill()  # and the session dies without closing: its WAL stays
        analyst.wait()
    assert wal(settings.warehouse).exists()

    result = materialize(settings)
    assert result.success
    mats = {e.asset_key.to_user_string(): e.materialization for e in result.get_asset_materialization_events()}
    stale = Path(mats["exports/published_warehouse"].metadata["stale_wal"].value)
    assert stale.parent == settings.work_warehouse.parent and stale.exists()
    assert not wal(settings.warehouse).exists()
    assert published_total(settings) == 38000.0
    assert_briefing_of_published_warehouse(settings, tmp_path)
