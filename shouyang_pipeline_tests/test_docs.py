"""The committed data dictionary is the one the declarations generate."""

from pathlib import Path

from shouyang_pipeline.docs import data_dictionary

ROOT = Path(__file__).resolve().parents[1]


def test_data_dictionary_is_up_to_date():
    committed = (ROOT / "docs" / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(), "run `shouyang docs` and commit docs/DATA_DICTIONARY.md"


def test_data_dictionary_names_every_declared_column():
    text = data_dictionary()
    for needle in ("`project_code`", "项目编号", "`marts.target_scorecard`", "`audit.rejected_rows`", "`gap_pp`"):
        assert needle in text
