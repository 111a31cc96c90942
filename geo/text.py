"""Data values as text that a document format holds as text, never as markup or code.

Two rules, each applied in one place per format:

- XML (XLSX, DOCX, QML) cannot hold some characters at all: C0 control
  characters other than tab, line feed and carriage return, lone surrogates,
  U+FFFE and U+FFFF. :func:`xml_text` removes them (a writer would otherwise
  fail or write a file Word refuses to open).
- A spreadsheet opening a CSV file evaluates a cell that starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return as a formula (OWASP, "CSV
  Injection"). :func:`csv_text` puts a ``'`` before such a text value, as
  OWASP recommends, unless the text is a plain decimal number, which a
  spreadsheet reads as that number and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _XML_ILLEGAL.sub("", text)


def xml_safe(value: Any) -> Any:
    """``value`` with :func:`xml_text` applied to every string in it.

    Parameters
    ----------
    value : Any
        A string, or a mapping, list or tuple nesting them (such as the
        ``report.json`` data model); other values are returned as they are.

    Returns
    -------
    Any
        The same structure (mappings become dicts, tuples lists).
    """
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, Mapping):
        return {key: xml_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [xml_safe(item) for item in value]
    return value


def csv_text(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet evaluates as a formula.

    Parameters
    ----------
    text : str
        A text value (numbers are written as numbers and never pass here).

    Returns
    -------
    str
        ``text``, with a leading ``'`` when it starts with ``=``, ``+``,
        ``-``, ``@``, a tab or a carriage return and is not a plain decimal
        number such as ``-2.5``.
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
