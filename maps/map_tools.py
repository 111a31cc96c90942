"""The map's working tools: panes, the findings panel, search, identify, measure, print.

Each is a :class:`maps.slots.DataElement` whose script calls a function of
``static/geoplan-*.js`` with its JSON slot; add them after the layer control
(which registers the layers those functions look through), except
:class:`Panes`, which comes before the layers.
"""

from __future__ import annotations

from branca.element import MacroElement
from pyproj import CRS

from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.slots import DataElement, data_template, script_json

#: Layer groups of the layer tree, bottom to top, with the kinds each holds.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("底图", ()),
    ("地形", ()),
    ("三区", ("zone_ecological", "zone_agricultural", "zone_urban")),
    ("现状", ("townships", "cultivated_land", "rivers", "tailings", "construction", "counties")),
    ("三线", ("permanent_farmland", "ecological_redline", "urban_boundary")),
    ("自然保护地", ("protected_areas", "water_source_protection")),
    ("园区", ("parks",)),
    ("冲突", ()),
)
BASEMAP, TERRAIN, CONFLICTS = "底图", "地形", "冲突"


def group_of(kind: str) -> str:
    """The layer-tree group of a layer kind (现状 for kinds no group names)."""
    for title, kinds in GROUPS:
        if kind in kinds:
            return title
    return "现状"


def pane_of(group: str) -> str:
    """The Leaflet pane a group's layers are drawn in (its opacity is the group's)."""
    return f"geoplan-pane-{[title for title, _ in GROUPS].index(group)}"


def _script(function: str, *, with_map: bool = True) -> str:
    target = "{{ this._parent.get_name() }}, " if with_map else ""
    return f'geoplan.{function}({target}geoplan.data("{{{{ this.get_name() }}}}_data"));'


class Panes(DataElement, MacroElement):
    """One pane per layer group, stacked in :data:`GROUPS` order above Leaflet's overlay pane."""

    _template = data_template(_script("panes"))

    def __init__(self):
        super().__init__()
        self._name = "Panes"
        self.data_json = script_json(
            [{"name": pane_of(title), "title": title} for title, _ in GROUPS]
        )


class Findings(DataElement, MacroElement):
    """The findings panel (``geoplan.findings``) and the symbols of small prohibited findings.

    Parameters
    ----------
    table : str
        Every conflict's fields (:func:`maps.conflict_table.conflict_table`).
    count : int
        The number of conflicts (the panel shows it before the table is inflated).
    """

    _template = data_template(_script("findings"))

    def __init__(self, table: str, count: int):
        super().__init__()
        self._name = "Findings"
        severities = [[s, SEVERITY_TITLES[s]] for s in SEVERITIES]
        self.data_json = script_json({"severities": severities, "count": count, "table": table})


class Search(DataElement, MacroElement):
    """The search box (``id="geoplan-search"``) and identify-all on click.

    It searches the features of the layers registered before it, and the
    ids of dense layers (:mod:`maps.dense`), inflated when first searched.
    """

    _template = data_template(_script("search"))

    def __init__(self):
        super().__init__()
        self._name = "Search"
        self.data_json = script_json({})


def gauss_kruger_zone(crs: CRS) -> dict | None:
    """Parameters of a transverse Mercator CRS on GRS80 for the page's readout, or None.

    ``lon0`` (degrees), ``k0``, ``x0`` and ``y0`` (false easting and
    northing, metres); None for other projections, ellipsoids or units.
    """
    operation = crs.coordinate_operation
    ellipsoid = crs.ellipsoid
    if (
        operation is None
        or operation.method_name != "Transverse Mercator"
        or ellipsoid is None
        or abs(ellipsoid.semi_major_metre - 6378137.0) > 1e-3
        or abs(ellipsoid.inverse_flattening - 298.257222101) > 1e-6
    ):
        return None
    params = {p.name: p for p in operation.params}
    wanted = {
        "lon0": ("Longitude of natural origin", "degree"),
        "k0": ("Scale factor at natural origin", "unity"),
        "x0": ("False easting", "metre"),
        "y0": ("False northing", "metre"),
    }
    if params.get("Latitude of natural origin") and params["Latitude of natural origin"].value:
        return None
    out: dict = {"name": crs.name, "epsg": crs.to_epsg()}
    for key, (name, unit) in wanted.items():
        if name not in params or params[name].unit_name != unit:
            return None
        out[key] = float(params[name].value)
    return out


class Tools(DataElement, MacroElement):
    """Measure, coordinate readout and A4 print (``geoplan.tools``).

    Parameters
    ----------
    title, subtitle : str
        Printed above the map image.
    zone : dict, optional
        From :func:`gauss_kruger_zone` for the working CRS.
    gcj02 : bool
        The drawn coordinates are shifted into GCJ-02; the readout and the
        measurements shift them back first.
    """

    _template = data_template(_script("tools"))

    def __init__(self, title: str, subtitle: str, zone: dict | None, gcj02: bool):
        super().__init__()
        self._name = "Tools"
        self.data_json = script_json(
            {"title": title, "subtitle": subtitle, "zone": zone, "gcj02": bool(gcj02)}
        )
