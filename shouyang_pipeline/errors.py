"""Errors that are not data problems: the operator or the machine must act, and nothing changed."""

from __future__ import annotations

import errno


class SetupError(Exception):
    """A missing or unreadable folder, a broken reference list, a held lock, a bad argument.

    The message is Chinese and names the path or value and what to do. The CLI prints it and
    exits 2; a Dagster step fails with it as the description.
    """


_OS_REASONS = {
    errno.EACCES: "权限不足", errno.EPERM: "不允许的操作", errno.ENOSPC: "磁盘空间已满",
    errno.ENAMETOOLONG: "路径过长", errno.ENOENT: "文件不存在", errno.EIO: "读写出错（磁盘或网络共享故障）",
    errno.EROFS: "只读文件系统", errno.EISDIR: "这是一个文件夹", errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.EEXIST: "已存在同名文件",
}


def os_reason(exc: OSError) -> str:
    """An operating-system error in Chinese (the system's own words only as a last resort)."""
    return _OS_REASONS.get(exc.errno, exc.strerror or type(exc).__name__)
