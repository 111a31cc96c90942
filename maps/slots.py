"""Data slots: how the map's elements put data into the page without a template engine.

No value from the data is ever seen by a template engine. branca renders an
element's macros and then compiles their output *again* as a Jinja template
(``MacroElement.render`` wraps it in an ``Element``), so any text inside the
markup a macro writes would be evaluated — ``{{ … }}`` in a township's name
would run Python. The templates here hold only fixed code and the elements'
generated names. Each element's data go into a *slot*: an empty element
named after it (``<script type="application/json" id="…_data">``, or the
page's ``<style>``, ``<script>`` and ``<title>``) that :func:`fill_slots`
fills by exact string operations once folium has rendered the page.
``static/geoplan.js`` reads the JSON slots and puts every text into the DOM
as text (``textContent``; HTML-escaped for the Leaflet APIs that take HTML).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

from branca.element import Element
from jinja2 import Template

# The slot of an element's data; the macro is part of every data element's template.
_DATA_SLOT = (
    "{% macro html(this, kwargs) %}"
    '<script type="application/json" id="{{ this.get_name() }}_data"></script>'
    "{% endmacro %}"
)


def data_template(script: str, *, header: str = "") -> Template:
    """The template of a data element: its data slot, then its ``header`` and ``script`` macros.

    Parameters
    ----------
    script : str
        Jinja source of the element's JavaScript: fixed code and generated
        names (``{{ this.get_name() }}``) only, never data; it reads its
        data with ``geoplan.data("{{ this.get_name() }}_data")``.
    header : str, optional
        Jinja source of what the element puts into the page's ``<head>``.

    Returns
    -------
    jinja2.Template
    """
    macros = {"header": header, "script": script}
    return Template(_DATA_SLOT + "".join(_macro(n, body) for n, body in macros.items() if body))


def _macro(name: str, body: str) -> str:
    """A Jinja macro writing ``body``'s lines, each indented as in folium's own templates."""
    lines = "".join(f"\n        {line}" for line in textwrap.dedent(body).strip().split("\n"))
    return f"\n        {{% macro {name}(this, kwargs) %}}{lines}\n        {{% endmacro %}}"


def script_safe(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(value: object) -> str:
    """``value`` as compact UTF-8 JSON that is safe inside a ``<script>`` element."""
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _json_slot(element: Element, content: str = "") -> str:
    return f'<script type="application/json" id="{element.get_name()}_data">{content}</script>'


class DataElement:
    """Mixin of an element whose data are put into its slot after rendering.

    Subclasses set ``data_json`` (JSON made safe by :func:`script_safe`) and
    make their template with :func:`data_template`, which starts it with the
    data slot; the page reads it with ``geoplan.data("<name>_data")``.
    """

    data_json: str = "null"

    def slots(self) -> dict[str, str]:
        """The element's empty slots in the rendered page and what fills each."""
        return {_json_slot(self): _json_slot(self, self.data_json)}


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def fill_slots(page: str, root: Element) -> str:
    """Fill the slots of ``root``'s data elements into its rendered ``page``.

    Each empty slot is found in the page as rendered (never in data already
    filled in) and must occur exactly once.

    Raises
    ------
    RuntimeError
        A slot is missing from the page or occurs more than once (a bug).
    """
    slots: dict[str, str] = {}
    for element in _walk(root):
        if isinstance(element, DataElement):
            slots.update(element.slots())
    found = []
    for empty in slots:
        start = page.find(empty)
        if start < 0 or page.find(empty, start + 1) >= 0:
            raise RuntimeError(f"map slot {empty!r} does not occur exactly once in the page")
        found.append((start, empty))
    parts, end = [], 0
    for start, empty in sorted(found):
        parts += [page[end:start], slots[empty]]
        end = start + len(empty)
    parts.append(page[end:])
    return "".join(parts)
