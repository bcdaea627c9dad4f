"""Every rule code a row or a cell can get in the audit tables, with its Chinese name.

The codes are stable (analysts filter on them); the names are what the county office reads in
the briefing. A test scans the package for every code it can emit and asks for its name here.
"""

from __future__ import annotations

RULE_NAMES: dict[str, str] = {
    "required": "必填项为空",
    "not_a_number": "不是有效数字",
    "not_an_integer": "不是整数",
    "not_a_date": "不是有效日期",
    "not_a_boolean": "不是“是”或“否”",
    "not_positive": "金额不大于0",
    "negative": "金额为负数",
    "out_of_range": "数值超出允许范围",
    "not_in_list": "取值不在规定范围或名录中",
    "bad_credit_code": "统一社会信用代码有误",
    "bad_code": "代码格式有误",
    "too_long": "内容过长",
    "duplicate_key": "同一对象重复填报",
    "unknown_village": "村名不在行政村名录中",
    "unknown_code": "代码不在名录中",
    "mismatch": "与名录不一致",
    "mixed_encoding": "同一文件混用两种编码",
    "garbled_text": "疑似乱码",
}


def rule_name(code: str) -> str:
    """The Chinese name of a rule code (the code itself only for a code nobody registered)."""
    return RULE_NAMES.get(code, code)
