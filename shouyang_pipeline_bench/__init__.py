"""Benchmarks of the pipeline (`make bench`): kept apart from the tests, which time nothing.

    python -m shouyang_pipeline_bench [--scales 1,10,100,1000,contract] [--out bench_out]
    python -m shouyang_pipeline_bench.ingest RAW REFERENCE [--rooms] [--dump F] [--compare A B]
    python -m shouyang_pipeline_bench.profile --scale 100 [--periods 2023-11,2023-12]

See BENCHMARKS.md for what is measured and the figures of the last run.
"""
