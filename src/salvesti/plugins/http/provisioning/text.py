"""Small helpers the family writers share: values that cannot break out of their line or element."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

__all__ = ["escape", "one_line", "quoteattr", "xml_value"]


def one_line(value: object) -> str:
    """A value for ``key = value`` files: control characters (a newline would start a new key)
    become spaces."""
    return "".join(c if c.isprintable() else " " for c in str(value)).strip()


def xml_value(value: object) -> str:
    """Element text: one line, with ``& < >`` escaped."""
    return escape(one_line(value))
