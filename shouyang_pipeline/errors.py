"""Errors that are not data problems: the operator or the machine must act, and nothing changed."""

from __future__ import annotations


class SetupError(Exception):
    """A missing or unreadable folder, a broken reference list, a held lock, a bad argument.

    The message is Chinese and names the path or value and what to do. The CLI prints it and
    exits 2; a Dagster step fails with it as the description.
    """
