"""python -m shouyang_pipeline.sample [--raw-dir data/raw] [--reference-dir data/reference] [--scale N]"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .generate import DATASETS, write_sample


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shouyang_pipeline.sample",
                                 description="写出示例报送文件（虚构数据，围绕县公报的真实数字构造）")
    ap.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    ap.add_argument("--reference-dir", type=Path, default=Path("data/reference"))
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument("--clean", action="store_true",
                    help="remove raw_dir/<dataset>/ of the sample datasets before writing")
    ap.add_argument("--json", action="store_true", help="print the whole summary as JSON")
    args = ap.parse_args(argv)
    if args.clean:
        for d in DATASETS:
            shutil.rmtree(args.raw_dir / d, ignore_errors=True)
    summary = write_sample(args.raw_dir, args.reference_dir, scale=args.scale, seed=args.seed)
    if args.json:
        json.dump(summary, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        print(f"wrote {len(summary['files'])} files under {args.raw_dir} "
              f"({', '.join(f'{k} {v} rows' for k, v in summary['rows'].items())}); "
              f"{summary['villages']} villages in {summary['villages_csv']}; "
              f"{len(summary['planted_errors'])} planted errors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
