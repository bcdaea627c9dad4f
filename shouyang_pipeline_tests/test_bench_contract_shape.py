"""`make bench`'s independent shape (`--scales …,contract`): its data written by the contract's own
generator, named apart from the scales in the report, and kept off the marginal slope, which is
drawn through the sample's scales alone. (What it measures is timed by `make bench`, not here.)"""

from __future__ import annotations

import json

from shouyang_pipeline_bench import __main__ as bench


def _result(scale, rows: int, run_s: float, base_s: float, data: dict | None = None) -> dict:
    return {"scale": scale, "data": data or {"by_format": {"csv": {"files": 1}}, "periods": ["2023-01"]},
            "ingest": {"rows_read": rows}, "full_run": {"wall_s": run_s, "rows_per_s": rows / run_s, "peak_rss_mb": 900},
            "baseline": {"wall_s": base_s, "peak_rss_mb": 200}, "ratio_full_to_baseline": run_s / base_s}


SMALL = ("--projects", "30", "--enterprises", "40", "--years", "2023")


def test_the_contract_shape_is_generated_by_contract_csv_and_described(tmp_path):
    meta = bench.generate_contract(tmp_path, regenerate=False, options=SMALL)
    files = sorted(p for p in (tmp_path / "raw").rglob("*.csv") if p.parent != tmp_path / "raw")
    assert meta["scale"] == bench.CONTRACT and meta["files"] == len(files) > 0
    assert meta["periods"] == sorted({p.name[:7] for p in files}) and meta["periods"][0] == "2023-01"
    assert meta["rows_by_dataset"]["key_projects"] == 30 * 12 and meta["rows"] == sum(meta["rows_by_dataset"].values())
    assert (tmp_path / "reference" / "submitters.csv").is_file()
    assert json.loads((tmp_path / "generated.json").read_text(encoding="utf-8")) == meta
    # generated once: the next bench of the same shape reuses it; another shape is written anew
    (files[0]).unlink()
    assert bench.generate_contract(tmp_path, regenerate=False, options=SMALL) == meta
    assert bench.generate_contract(tmp_path, regenerate=True, options=SMALL)["files"] == len(files)
    other = bench.generate_contract(tmp_path, regenerate=False, options=(*SMALL[:1], "20", *SMALL[2:]))
    assert other["rows_by_dataset"]["key_projects"] == 20 * 12 and other["options"][1] == "20"


def test_the_contract_shape_is_reported_by_name_and_off_the_slope():
    results = [_result(1, 1_000, 20.0, 1.0), _result(bench.CONTRACT, 1_000_000, 60.0, 4.0),
               _result(10, 11_000, 21.0, 1.2)]
    slopes = bench.marginal(results)
    assert [(m["from"], m["to"]) for m in slopes] == [("1x", "10x")]
    assert slopes[0]["run_us_per_row"] == 100.0 and slopes[0]["baseline_us_per_row"] == 20.0
    lines = bench.table(results).splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["1x", "contract", "10x"]
    assert lines[2].split()[9] == "15.0x"  # its own ratio to its own baseline
