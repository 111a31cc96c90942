"""A province's overview map links to its county maps: the panel ``geoplan.countyMaps`` draws.

At province scale (a cluster run whose client did not load the large
layers) ``map.html`` is an overview and each county has its own map in
``county-maps/`` (:mod:`analysis.county_maps`). The panel lists the counties
with their findings by severity, each a link to its map; a county's name
reaches the page as text, its link is a file name geoplan made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from branca.element import MacroElement

from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.slots import DataElement, data_template, script_json


@dataclass(frozen=True)
class CountyLink:
    """One county's map, as the overview lists it.

    Attributes
    ----------
    name : str
        The county's name (text from the data).
    href : str
        Its map, relative to ``map.html`` (``county-maps/03.html``).
    counts : dict of str to int
        Its findings by severity key.
    """

    name: str
    href: str
    counts: dict[str, int]


class CountyMaps(DataElement, MacroElement):
    """The collapsible panel of county maps (``static/geoplan-links.js``)."""

    _template = data_template(
        "geoplan.countyMaps({{ this._parent.get_name() }}, "
        'geoplan.data("{{ this.get_name() }}_data"));'
    )

    def __init__(self, links: Sequence[CountyLink], note: str):
        super().__init__()
        self._name = "CountyMaps"
        self.data_json = script_json(
            {
                "note": note,
                "severities": [[s, SEVERITY_TITLES[s]] for s in SEVERITIES],
                "links": [{"name": c.name, "href": c.href, "counts": c.counts} for c in links],
            }
        )
