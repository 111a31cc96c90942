"""The check of a layer's ``where``: one SQL expression, nothing more.

A layer's ``where`` is handed to GDAL, which pastes it into the SQL it runs
(``SELECT … WHERE <clause>`` for a GeoPackage, executed by SQLite). Outside
quoted text it may not hold ``;`` (SQLite runs the first statement and
silently ignores the rest), ``--`` or ``/*`` (a comment cuts off whatever
GDAL appends), unbalanced parentheses, or an unterminated quote. Inside
``'…'`` or ``"…"`` these are ordinary text (``MC = 'a;b'`` is accepted). A
backslash before a quote is refused: some SQL dialects read it as an
escape, others as text, so where the quoted text ends would be ambiguous.
"""

from __future__ import annotations


def where_problem(clause: str) -> str | None:
    """What makes a ``where`` clause more than one SQL expression, or None.

    Parameters
    ----------
    clause : str

    Returns
    -------
    str or None
        A description of the first problem: ``;``, ``--`` or ``/*`` outside
        quoted text, unbalanced parentheses, an unterminated quote, or a
        backslash before a quote.

    Examples
    --------
    >>> where_problem("DLBM IN ('0101', '0102')") is None
    True
    >>> where_problem("MC = 'a;b'") is None
    True
    >>> where_problem("MC = 'a'; DROP TABLE t")
    "';' outside quotes (a second statement)"
    """
    if "\\'" in clause or '\\"' in clause:
        return "a backslash before a quote (an escape in some SQL dialects, text in others)"
    outside, quote, depth = [], None, 0
    for ch in clause:
        if quote is not None:
            quote = None if ch == quote else quote  # '' reopens at once: same outside text
            continue
        if ch in "'\"":
            quote = ch
            outside.append(" ")
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return "')' without its '('"
        outside.append(ch)
    if quote is not None:
        return f"unterminated {quote}…{quote}"
    if depth:
        return "'(' without its ')'"
    text = "".join(outside)
    for token, meaning in ((";", "a second statement"), ("--", "a comment"), ("/*", "a comment")):
        if token in text:
            return f"{token!r} outside quotes ({meaning})"
    return None
