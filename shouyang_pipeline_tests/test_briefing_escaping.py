"""The briefing on hostile names: nothing from the data becomes markup, in the .md, the .html or the PDF.

A file name, a submitter, a project, zone, chain, township, village or target name, a rejection
message, reason or rule code can carry line breaks, Markdown (`# 假标题`, `- 列表`, `1. `, `> `,
links, images, emphasis, code, table pipes) or HTML (`<script>`). The warehouse of test_marts is
given such names everywhere the briefing prints one, and the briefings written from it must show
every one of them as text: the Markdown keeps the template's own headings, lists nothing, links
nothing, keeps every table row's column count and holds no `<` at all; the HTML is escaped; the
PDF (Typst, whose markup is `#`, `*`, `_`, `$`, `@`, `<…>`, `\`, `//`) shows them as written.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

try:
    from .test_marts import load_example
except ImportError:  # rootdir-style imports (no package __init__)
    from test_marts import load_example

from shouyang_pipeline.exports import pdf as pdf_export
from shouyang_pipeline.exports.briefing import briefing_context, md_text, write_briefing
from shouyang_pipeline.marts.build import build_all

ZONE = "> 引用园区<script>alert('zone')</script>"  # the first zone: it starts the zones paragraph
CHAIN = "煤机|链 *粗* $\\frac{$ <script>alert('chain')</script>"  # `$...$` is not mathtext in the chart
TOWN = "朝阳镇\n# 假标题镇 <img src=x onerror=alert(1)>"
VILLAGE = "东村](http://evil.example) [点我"
PROJECT = "项目\n- 列表项 [点我](http://evil.example) `code` <script>alert('p')</script>"
PROJECT_2 = "1. 有序\r\n    缩进代码 ___x___ ~~删~~ &lt;b&gt;"
# has data in June: starts a scorecard paragraph; Typst's markup, and a call that would stop its run
TARGET = "- 列表目标 <b>粗</b> | 列 #panic(\"排版\") *粗* _斜_ $x^2$ @引用 <标签> \\ // 注释"
TARGET_DATASET = "smart_mines\n# 假标题 <script>alert('ds')</script>"
FILE = "key_projects/2023-06__<script>alert('file')</script>|x\n# 假标题.xlsx"
SUBMITTER = "# 假标题 [点我](javascript:alert(1))"  # starts a data-quality paragraph
MESSAGE = "整体退回\n\n# 假标题\n- 列表\n<script>alert('msg')</script>"
FILE_2 = "village_income/2023-06__---.csv"
SUBMITTER_2 = "---"
REASON = "总投资不能为负数 | 列 \n## 假二级标题 ![图](http://evil.example/x.png)"
RULE = "evil_rule<script>alert('rule')</script>"

HOSTILE = [ZONE, CHAIN, TOWN, VILLAGE, PROJECT, PROJECT_2, TARGET, TARGET_DATASET, FILE, SUBMITTER, MESSAGE,
           SUBMITTER_2, REASON, RULE]

LOG_COLUMNS = ("file_path", "dataset", "period", "submitter", "sha256", "status", "rows_read", "rows_loaded",
               "rows_rejected", "message", "is_current")
SECTION_TITLES = ["一、工业经济", "二、重点项目", "三、重点园区", "四、村级集体经济", "五、目标任务对照", "六、报送情况",
                  "七、数据质量"]


def _rename(conn, value: str, *places: tuple[str, str, str]) -> None:
    """Set `value` wherever (table, column) holds `old`."""
    for table, column, old in places:
        conn.execute(f'UPDATE {table} SET "{column}" = ? WHERE "{column}" = ?', [value, old])


def load_hostile_names(conn) -> None:
    load_example(conn)
    _rename(conn, ZONE, ("reference.zones", "zone_name", "平头融合发展区"), ("staging.key_projects", "zone", "平头融合发展区"))
    _rename(conn, CHAIN, ("reference.industry_chains", "chain_name", "煤机制造产业链"),
            ("staging.key_projects", "industry_chain", "煤机制造产业链"),
            ("staging.industrial_output", "industry_chain", "煤机制造产业链"))
    _rename(conn, TOWN, ("reference.townships", "township_name", "朝阳镇"), ("reference.villages", "township_name", "朝阳镇"),
            ("staging.village_income", "township", "朝阳镇"))
    _rename(conn, VILLAGE, ("reference.villages", "village_name", "东村"), ("staging.village_income", "village_name", "东村"))
    _rename(conn, PROJECT, ("staging.key_projects", "project_name", "项目P2"))
    _rename(conn, PROJECT_2, ("staging.key_projects", "project_name", "项目P5"))
    _rename(conn, TARGET, ("reference.targets", "target_name", "规上工业增加值增速高于全市"))
    _rename(conn, TARGET_DATASET, ("reference.targets", "dataset", "smart_mines"))
    for r in (
        (FILE, "key_projects", "2023-06", SUBMITTER, "a1", "rejected", 5, 0, 0, MESSAGE, True),
        (FILE_2, "village_income", "2023-06", SUBMITTER_2, "b1", "partial", 7, 6, 1, None, True),
        ("industrial_output/2023-06__县统计局.csv", "industrial_output", "2023-06", "县统计局", "c1", "loaded",
         1, 1, 0, None, True),
    ):
        conn.execute(
            f"INSERT INTO audit.ingest_log ({', '.join(LOG_COLUMNS)}, ingested_at, partition_key) VALUES "
            f"({', '.join('?' for _ in LOG_COLUMNS)}, now(), ?)", [*r, f"{r[1]}/{r[2]}"])
    for file_path, rule in ((FILE, "negative"), (FILE_2, RULE)):
        conn.execute(
            "INSERT INTO audit.rejected_rows (file_path, dataset, period, source_row, source_cell, \"column\", "
            "source_column, value, rule, reason, raw_row) VALUES (?, 'key_projects', '2023-06', 7, 'H7', "
            "'total_investment', '总投资', ?, ?, ?, ?)",
            [file_path, "<script>alert('value')</script>", rule, REASON, json.dumps({"总投资": "<b>"})])
    build_all(conn)


@pytest.fixture(scope="module")
def briefings(tmp_path_factory) -> dict[str, tuple[str, str]]:
    """period → (markdown, html) written from the hostile warehouse."""
    tmp = tmp_path_factory.mktemp("escaping")
    conn = duckdb.connect(str(tmp / "warehouse.duckdb"))
    try:
        load_hostile_names(conn)
        out = {}
        for period in ("2023-03", "2023-06"):
            md, html = write_briefing(conn, period, tmp / "exports")
            out[period] = (md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8"))
    finally:
        conn.close()
    return out


PERIODS = ["2023-03", "2023-06"]


def shown(value: str) -> str:
    """A value as a reader sees it: one line, blanks collapsed."""
    return " ".join(value.split())


def _pipes(line: str) -> int:
    """The cell delimiters of a table row: pipes not escaped by a backslash."""
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


# --- the Markdown file, as written -------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_markdown_has_only_the_templates_headings(briefings, period):
    md, _ = briefings[period]
    headings = [line for line in md.splitlines() if line.lstrip().startswith("#")]
    assert headings[0] == f"# 寿阳县重点工作数据简报（2023年{int(period[5:])}月）"
    assert [h.removeprefix("## ") for h in headings[1:]] == [t for t in SECTION_TITLES if f"## {t}" in md]
    assert len(headings) >= 5


@pytest.mark.parametrize("period", PERIODS)
def test_markdown_starts_no_block_from_data(briefings, period):
    md, _ = briefings[period]
    rules = 0
    for line in md.splitlines():
        if not line or line.startswith(("# ", "## ", "| ")) or (line.startswith("**") and line.endswith("**")):
            continue
        if line == "---":
            rules += 1
            continue
        # a paragraph: no list, quote, code, HTML, heading or table can start it
        assert not re.match(r"[ \t]|[-+*>#<|`~=_]|\d+[.)]", line), line
    assert rules == 1  # the template's own, before the source line


@pytest.mark.parametrize("period", PERIODS)
def test_no_raw_html_anywhere(briefings, period):
    md, html = briefings[period]
    assert "<" not in md  # the template has none; every < of the data is &lt;
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;chain&#39;)&lt;/script&gt;" in html  # shown, escaped


@pytest.mark.parametrize("period", PERIODS)
def test_markdown_table_rows_keep_their_columns(briefings, period):
    md, _ = briefings[period]
    tables: list[list[str]] = []
    previous = ""
    for line in md.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    assert len(tables) >= 3
    for rows in tables:
        header = _pipes(rows[0])
        assert all(_pipes(r) == header for r in rows), rows


def test_data_quality_names_the_hostile_file_as_text(briefings):
    md, _ = briefings["2023-06"]
    quality = md[md.index("## 七、数据质量"):]
    # the submitter starts the paragraph: its # is escaped, its link is text
    assert "\n\\# 假标题 \\[点我\\]\\(javascript:alert\\(1\\)\\)报送的《key_projects/2023-06\\_\\_&lt;script>" in quality
    assert "原因：整体退回  # 假标题 - 列表 &lt;script>alert\\('msg'\\)&lt;/script>。" in quality  # one line
    assert "\n\\---报送的《village_income/2023-06\\_\\_---.csv》" in quality  # `---` cannot become a rule


# --- the Markdown file, as rendered (CommonMark + GFM tables and strikethrough) ---------------


@pytest.fixture(scope="module")
def markdown_it():
    mdit = pytest.importorskip("markdown_it")
    return mdit.MarkdownIt("commonmark").enable("table").enable("strikethrough")


class _Cells(HTMLParser):
    """The text of every element, and the cells of every table row."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> _Cells:
    p = _Cells()
    p.feed(re.sub(r"<(style|svg)\b.*?</\1>", "", html, flags=re.S))
    return p


@pytest.mark.parametrize("period", PERIODS)
def test_rendered_markdown_is_the_templates_structure_only(briefings, markdown_it, period):
    md, _ = briefings[period]
    rendered = markdown_it.render(md)
    p = parse(rendered)
    tables = rendered.count("<table>")
    assert p.tags.count("h1") == 1 and p.tags.count("h2") == md.count("\n## ")
    assert p.tags.count("strong") == tables  # the captions
    assert p.tags.count("hr") == 1
    for tag in ("script", "img", "a", "li", "ul", "ol", "blockquote", "code", "pre", "em", "s", "del", "b", "h3"):
        assert tag not in p.tags, tag


@pytest.mark.parametrize("period", PERIODS)
def test_rendered_markdown_and_html_show_the_data_as_it_is(briefings, markdown_it, period):
    md, html = briefings[period]
    from_md = shown("".join(parse(markdown_it.render(md)).text))
    from_html = shown("".join(parse(html).text))
    expected = {CHAIN, TOWN, TARGET} | (
        {ZONE, PROJECT, PROJECT_2, FILE, SUBMITTER, MESSAGE, REASON, RULE, SUBMITTER_2} if period == "2023-06"
        else {VILLAGE})
    for value in expected:
        assert shown(value) in from_md, value
        assert shown(value) in from_html, value
    # a target's dataset is a code name: the briefing says what is missing in words instead
    assert "smart_mines" not in from_md and "smart_mines" not in from_html


@pytest.mark.parametrize("period", PERIODS)
def test_tables_keep_their_cells_in_both_files(briefings, markdown_it, period):
    md, html = briefings[period]
    for rendered in (markdown_it.render(md), html):
        p = parse(rendered)
        # a pipe of the data neither split a cell nor was dropped: the cells read as the values
        chains = next(r for r in p.rows if r and shown(r[0]) == shown(CHAIN))
        assert len(chains) == 7
        if period == "2023-06":
            files = next(r for r in p.rows if r and shown(r[0]) == shown(FILE))
            assert [shown(c) for c in files[:2]] == [shown(FILE), shown(SUBMITTER)] and len(files) == 8


def test_chart_labels_are_escaped_text(briefings):
    _, html = briefings["2023-06"]
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) >= 3
    labels = " ".join(htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", html))
    assert "煤机|链 *粗* $\\frac{$" in labels  # plain text, not mathtext
    assert "<script" not in "".join(svgs)


# --- md_text itself ----------------------------------------------------------------------

NORMAL = [
    "县发改局报送的《key_projects/2023-02__县发改局.xlsx》（县发改局·重点项目进展情况表）",
    "1—2月，全县规模以上工业增加值累计完成25.02亿元，同比增长10.6%，高于全市1.1个百分点。",
    "2023-03：1/6个村达标，5个村未报送或未达标",
    "所需数据（smart_mines）尚未纳入报送，无数据",
    "金额为负数：2行（如第12行：总投资不能为负数（当前值：-5））",
    "-15.0", "1#井改造项目", "536.08", "景尚乡中药材种植加工项目（二期）",
]


@pytest.mark.parametrize("text", NORMAL)
def test_normal_text_keeps_its_bytes(text):
    assert md_text(text) == text and md_text(text, cell=True) == text


def test_a_cell_is_not_a_line_start():
    assert md_text(">= 40万元", cell=True) == ">= 40万元"  # the scorecard's target, as before
    assert md_text(">= 40万元") == "&gt;= 40万元"  # would be a quote at the start of a line
    assert md_text("a|b", cell=True) == "a\\|b"


@pytest.mark.parametrize("text", [
    "\n# 假标题", "# 假标题", "#假标题", "###### h6", "- 列表", "+ 列表", "* 列表", "1. 有序", "1) 有序", "> 引用",
    "    缩进代码", "\t缩进", "---", "***", "___", "- - -", "```js", "~~~", "<script>alert(1)</script>",
    "<!-- 注释 -->", "<http://evil.example>", "[点我](http://evil.example)", "![图](x.png)", "[a]: http://x",
    "**粗**", "*斜*", "_斜_", "__粗__", "`码`", "~~删~~", "a | b", "&lt;b&gt;", "&#60;script&#62;", "\\# x",
    "a\r\nb\rc\u2028d", "x_y_z", "(_x_)", "*", "_", "\\", "[^1]", "1.", "2023.",
])
def test_md_text_renders_as_the_text_itself(markdown_it, text):
    expected = " ".join(text.splitlines()).strip(" \t")
    rendered = markdown_it.render(md_text(text))
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n") and rendered.count("<") == 2, rendered
    assert htmllib.unescape(rendered[3:-5]) == expected
    cell = markdown_it.render(f"| h |\n| --- |\n| {md_text(text, cell=True)} |\n")
    cells = parse(cell).rows
    assert [len(r) for r in cells] == [1, 1] and cells[1][0] == expected, cell


# --- the PDF -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_texts(tmp_path_factory) -> dict[str, str]:
    """period → the text of the PDF written from the hostile warehouse (`pdftotext -raw`)."""
    import shutil
    import subprocess

    if pdf_export.pdf_unavailable() is not None or shutil.which("pdftotext") is None:
        pytest.skip("no PDF here (Typst, a Chinese font, poppler-utils: test_briefing_print requires them under CI)")
    tmp = tmp_path_factory.mktemp("escaping_pdf")
    conn = duckdb.connect(str(tmp / "warehouse.duckdb"))
    out = {}
    try:
        load_hostile_names(conn)
        for period in PERIODS:
            outcome = pdf_export.write_pdf(briefing_context(conn, period), tmp / f"briefing_{period}.pdf")
            assert outcome.reason is None, outcome.reason  # `#panic(...)` in a name stops nothing
            out[period] = subprocess.run(["pdftotext", "-raw", str(outcome.path), "-"], capture_output=True,
                                         text=True, check=True).stdout
    finally:
        conn.close()
    return out


def _unspaced(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("period", PERIODS)
def test_pdf_shows_the_data_as_it_is(pdf_texts, period):
    text = _unspaced(pdf_texts[period])
    expected = {CHAIN, TOWN, TARGET} | (
        {ZONE, PROJECT, PROJECT_2, FILE, SUBMITTER, MESSAGE, REASON, RULE, SUBMITTER_2} if period == "2023-06"
        else {VILLAGE})
    for value in expected:
        assert _unspaced(value) in text, value
    assert "smart_mines" not in text
    # the template's own headings only: the title once in the body (and in each page's header)
    assert text.count("一、工业经济") == 1 and "假标题" in text
