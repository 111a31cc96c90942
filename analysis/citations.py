"""Citations and remedies of a rule: where it comes from and what a planner does.

A rule's ``[rules.citation]`` names the document and article; ``quote`` is the
operative sentence, given only with ``quote_confirmed = true`` and the public
pages it was read on in ``checked_at``. An unconfirmed quote is never shown as
wording: renderers print 「原文待核」 in its place (see :attr:`Citation.shown_quote`).
``[[rules.citation.context]]`` holds supporting or former citations, each with a
``role``. ``[rules.remedy]`` says what a planner does about a finding
(``text``) and where that comes from (``basis = "text"`` with document, article
and quote, or ``"practice"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from geoplan.geo.errors import GeoplanError

log = logging.getLogger(__name__)

#: Shown where a quote is not confirmed against a public source.
UNCONFIRMED_QUOTE = "「原文待核」"
BASES = ("text", "practice")

_SOURCE_KEYS = {
    "document",
    "issuer",
    "number",
    "date",
    "article",
    "quote",
    "quote_confirmed",
    "checked_at",
    "note",
}
_CITATION_KEYS = _SOURCE_KEYS | {"basis", "context"}
_CONTEXT_KEYS = _SOURCE_KEYS | {"role"}
_REMEDY_KEYS = _SOURCE_KEYS | {"text", "basis"}


def shown_quote(quote: str, confirmed: bool) -> str:
    """The quote to print: ``quote`` if confirmed (and not empty), else 「原文待核」.

    >>> shown_quote("不得占用。", False)
    '「原文待核」'
    """
    return quote if confirmed and quote else UNCONFIRMED_QUOTE


class RuleError(GeoplanError, ValueError):
    """A rule pack is malformed."""


@dataclass(frozen=True)
class Citation:
    """Where a rule (or a remedy) comes from.

    Attributes
    ----------
    document, article : str
        The document (``《…》``) and the article or section in it.
    issuer, number, date : str
        Who issued it, its document number, its date (ISO).
    quote : str
        The cited sentence as published; empty unless confirmed.
    quote_confirmed : bool
        Whether ``quote`` was read word for word on the ``checked_at`` pages.
    checked_at : tuple of str
        Public pages (URLs) where the text was checked.
    basis : str
        ``"text"``: the rule is in the text; ``"practice"``: derived practice.
    note, role : str
        How the citation supports the rule; a context citation's role.
    context : tuple of Citation
        Supporting or former citations.
    """

    document: str
    article: str = ""
    issuer: str = ""
    number: str = ""
    date: str = ""
    quote: str = ""
    quote_confirmed: bool = False
    checked_at: tuple[str, ...] = ()
    basis: str = "text"
    note: str = ""
    role: str = ""
    context: tuple[Citation, ...] = ()

    def short(self) -> str:
        """Document and article on one line, e.g. ``《长江保护法》第二十六条``."""
        parts = [self.document + (f"（{self.number}）" if self.number else ""), self.article]
        text = " ".join(p for p in parts if p)
        return text + ("（实践做法）" if self.basis == "practice" else "")

    @property
    def shown_quote(self) -> str:
        """The quote if confirmed, else 「原文待核」."""
        return shown_quote(self.quote, self.quote_confirmed)

    def as_dict(self) -> dict[str, Any]:
        """The citation as plain data (``text``: :meth:`short`)."""
        out: dict[str, Any] = {
            "document": self.document,
            "issuer": self.issuer,
            "number": self.number,
            "date": self.date,
            "article": self.article,
            "quote": self.quote,
            "quote_confirmed": self.quote_confirmed,
            "checked_at": list(self.checked_at),
            "basis": self.basis,
            "note": self.note,
            "text": self.short(),
        }
        if self.role:
            out["role"] = self.role
        if self.context:
            out["context"] = [c.as_dict() for c in self.context]
        return out


@dataclass(frozen=True)
class Remedy:
    """What a planner does about a finding of the rule.

    Attributes
    ----------
    text : str
        The action (调出 / 补划 / 调整边界 / 依法退出 …).
    basis : str
        ``"text"`` (stated in ``citation``) or ``"practice"``.
    citation : Citation or None
        The text the remedy comes from, when it has one.
    note : str
    """

    text: str
    basis: str = "practice"
    citation: Citation | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The remedy as plain data: text, basis, citation (or None), note."""
        return {
            "text": self.text,
            "basis": self.basis,
            "citation": self.citation.as_dict() if self.citation else None,
            "note": self.note,
        }


def _source(raw: dict, at: str, what: str, keys: set[str]) -> dict[str, Any]:
    """The fields shared by citations, context citations and remedies, checked."""
    extra = set(raw) - keys
    if extra:
        raise RuleError(f"{at}: {what} has unknown key {sorted(extra)[0]!r}")
    if not raw.get("document"):
        raise RuleError(f"{at}: {what} needs at least a 'document'")
    if not raw.get("article"):
        raise RuleError(f"{at}: {what} needs an 'article'")
    confirmed = raw.get("quote_confirmed", False)
    if not isinstance(confirmed, bool):
        raise RuleError(f"{at}: {what}.quote_confirmed must be true or false")
    checked = raw.get("checked_at", [])
    checked = [checked] if isinstance(checked, str) else checked
    if not isinstance(checked, list) or not all(isinstance(u, str) and u for u in checked):
        raise RuleError(f"{at}: {what}.checked_at must be a list of URLs")
    quote = str(raw.get("quote", ""))
    if confirmed and not quote:
        raise RuleError(f"{at}: {what} has quote_confirmed = true but no quote")
    if confirmed and not checked:
        raise RuleError(f"{at}: {what} has quote_confirmed = true but no checked_at source")
    if quote and not confirmed:
        log.warning("%s: %s quote is not confirmed; it is shown as %s", at, what, UNCONFIRMED_QUOTE)
    text = {k: str(raw.get(k, "")) for k in ("document", "article", "issuer", "number", "date")}
    return {
        **text,
        "quote": quote,
        "quote_confirmed": confirmed,
        "checked_at": tuple(checked),
        "note": str(raw.get("note", "")),
    }


def _basis(raw: dict, at: str, what: str, default: str) -> str:
    basis = raw.get("basis", default)
    if basis not in BASES:
        raise RuleError(f"{at}: {what}.basis must be 'text' or 'practice'")
    return basis


def parse_citation(raw: Any, at: str) -> Citation:
    """A rule's ``citation`` table, checked.

    Raises
    ------
    RuleError
        Unknown key, missing document or article, a confirmed quote with no
        quote or no ``checked_at``, a bad basis; the message starts with ``at``.
    """
    if not isinstance(raw, dict):
        raise RuleError(f"{at}: citation needs at least a 'document'")
    fields = _source(raw, at, "citation", _CITATION_KEYS)
    context = raw.get("context", [])
    if not isinstance(context, list) or not all(isinstance(c, dict) for c in context):
        raise RuleError(f"{at}: citation.context must be an array of tables")
    return Citation(
        **fields,
        basis=_basis(raw, at, "citation", "text"),
        context=tuple(
            Citation(
                **_source(c, at, f"citation.context[{i}]", _CONTEXT_KEYS),
                basis="",
                role=str(c.get("role", "")),
            )
            for i, c in enumerate(context)
        ),
    )


def parse_remedy(raw: Any, at: str) -> Remedy:
    """A rule's ``remedy`` table, checked; ``basis = "text"`` needs its citation.

    Raises
    ------
    RuleError
    """
    if not isinstance(raw, dict) or not raw.get("text"):
        raise RuleError(f"{at}: remedy needs a 'text'")
    extra = set(raw) - _REMEDY_KEYS
    if extra:
        raise RuleError(f"{at}: remedy has unknown key {sorted(extra)[0]!r}")
    basis = _basis(raw, at, "remedy", "practice")
    citation = None
    if basis == "text" or any(raw.get(k) for k in ("document", "article", "quote")):
        fields = _source(raw, at, "remedy", _REMEDY_KEYS)
        citation = Citation(**{**fields, "note": ""}, basis=basis)
    return Remedy(
        text=str(raw["text"]), basis=basis, citation=citation, note=str(raw.get("note", ""))
    )
