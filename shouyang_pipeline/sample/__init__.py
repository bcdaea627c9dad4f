"""The bundled sample submissions: made-up data built around the county bulletins' real figures."""

from .generate import write_sample

__all__ = ["write_sample"]
