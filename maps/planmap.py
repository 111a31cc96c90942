"""The planner's map: every layer and the conflicts in one offline HTML file.

Each planning layer is a toggleable entry of the layer tree, grouped as
planners think (三区 / 三线 / 自然保护地 / 园区 / 现状 / 冲突, each group
in a pane of its own with its opacity), in the plan palette
(:mod:`maps.style`); townships are filled by 乡镇级主体功能区 and labelled
from zoom 10; conflicts are drawn on top, one layer per severity, with a
popup giving the rule, severity, area in 亩 and 公顷, county, township,
function type, both features and the citation. The working tools
(:mod:`maps.map_tools`: findings panel, search, identify-all, measure,
coordinate readout, A4 print) come after the layer tree. The first view
fits the region with a fractional zoom. Nothing on the page is fetched
from the network unless a basemap is chosen.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.geo.crs import require_projected
from geoplan.layers.catalog import KINDS
from geoplan.layers.region import region_bounds
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES, kind_title
from geoplan.maps.basemaps import NO_BASEMAP, Basemap
from geoplan.maps.conflict_table import conflict_table
from geoplan.maps.county_links import CountyLink, CountyMaps
from geoplan.maps.dense_layer import (
    class_column,
    class_styles,
    dense_conflicts,
    dense_layer,
    is_dense,
)
from geoplan.maps.display import DisplayOptions, display_decimals, display_frame, to_display_crs
from geoplan.maps.images import ImageLayer
from geoplan.maps.map_controls import (
    InlineAssets,
    LayerControl,
    OfflineMap,
    ScaleBar,
    Title,
    legend_rows,
)
from geoplan.maps.map_layers import GeoJsonLayer, ImageOverlay, TileLayer, township_labels
from geoplan.maps.map_tools import (
    BASEMAP,
    CONFLICTS,
    GROUPS,
    TERRAIN,
    Findings,
    Panes,
    Search,
    Tools,
    gauss_kruger_zone,
    group_of,
    pane_of,
)
from geoplan.maps.packing import pack_features
from geoplan.maps.popups import POPUP_COLUMNS, RULE_FIELDS, TOOLTIP, conflict_popup, layer_popup
from geoplan.maps.slots import fill_slots
from geoplan.maps.style import (
    BACKGROUND,
    CHEMICAL_PARK_STYLE,
    FUNCTION_TYPE_STYLES,
    HIGHLIGHT_STYLE,
    LAYER_STYLES,
    PROTECTED_CATEGORY_STYLES,
    SEVERITY_STYLES,
    Style,
    kind_style,
)

logger = logging.getLogger(__name__)

#: Layers whose features share edges; simplified as a coverage.
COVERAGE_KINDS = frozenset(
    {"townships", "counties", "zone_urban", "zone_agricultural", "zone_ecological"}
)
#: Layers off when the map opens (they cover most of the map).
HIDDEN_KINDS = frozenset({"zone_urban", "zone_agricultural", "zone_ecological", "cultivated_land"})
#: Zoom from which township names show.
LABEL_MIN_ZOOM = 10
_STYLE_KEY = "_s"


@dataclass(frozen=True)
class MapOptions:
    """What the map shows and how.

    Attributes
    ----------
    title : str
        First line of the title (the dataset's name).
    subtitle : str
        Second line (for example the run date).
    basemap : Basemap
    display : DisplayOptions
    images : tuple of ImageLayer
        Raster overlays (hillshade, conflict density), drawn under the layers.
    county_maps : tuple of CountyLink
        A province's overview: its county maps, listed in a panel
        (:mod:`maps.county_links`) with ``county_note`` on what it shows.
    """

    title: str
    subtitle: str = ""
    basemap: Basemap = NO_BASEMAP
    display: DisplayOptions = field(default_factory=DisplayOptions)
    images: tuple[ImageLayer, ...] = ()
    county_maps: tuple[CountyLink, ...] = ()
    county_note: str = ""


def _records(props: pd.DataFrame) -> list[dict]:
    """Property dicts without empty texts and zero indexes (the page's defaults)."""
    return [
        {k: v for k, v in record.items() if v != "" and not (k.startswith("_") and v == 0)}
        for record in props.to_dict("records")
    ]


def _layer(
    geoms: np.ndarray,
    props: pd.DataFrame,
    fields: list[str],
    styles: list[Style],
    *,
    name: str,
    show: bool,
    decimals: int,
    title: str = TOOLTIP,
    tooltip: str | list[str] = TOOLTIP,
    shared: list[dict] | None = None,
    highlight: bool = False,
    group: str,
) -> GeoJsonLayer:
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    spec: dict = {
        "styles": [style.leaflet() for style in styles],
        "title": title,
        "fields": fields,
        "tooltip": tooltip,
        "pane": pane_of(group),
    }
    if shared is not None:
        spec["shared"] = shared
    if highlight:
        spec["highlight"] = HIGHLIGHT_STYLE.leaflet()
    data = pack_features(geoms[keep], _records(props[keep]), decimals)
    return GeoJsonLayer(data, spec, name=name, show=show)


def _referenced_ids(conflicts: pd.DataFrame | None) -> dict[str, set[str]]:
    if conflicts is None or conflicts.empty:
        return {}
    out: dict[str, set[str]] = {}
    for side in ("left", "right"):
        pairs = conflicts[[f"{side}_kind", f"{side}_id"]].dropna().astype(str)
        for kind, ids in pairs.groupby(f"{side}_kind")[f"{side}_id"]:
            out.setdefault(kind, set()).update(ids)
    return out


def _ordered_kinds(layers: Mapping[str, gpd.GeoDataFrame]) -> list[str]:
    known = [kind for kind in LAYER_STYLES if kind in layers]
    return known + sorted(kind for kind in layers if kind not in LAYER_STYLES)


def _legend_entries(kind: str) -> list[tuple[str, Style, bool]]:
    title = kind_title(kind)
    line = KINDS[kind].family == "line" if kind in KINDS else False
    if kind == "townships":
        return [(f"乡镇：{name}", style, False) for name, style in FUNCTION_TYPE_STYLES.items()]
    if kind == "protected_areas":
        return [(name, style, False) for name, style in PROTECTED_CATEGORY_STYLES.items()]
    if kind == "parks":
        return [(title, kind_style(kind), False), ("化工园区", CHEMICAL_PARK_STYLE, False)]
    return [(title, kind_style(kind), line)]


def plan_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    conflicts: gpd.GeoDataFrame | None,
    options: MapOptions,
) -> folium.Map:
    """Draw the layers and conflicts on an offline folium map.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        Loaded layers by kind, in the working (projected) CRS, with the
        standard fields of their kind.
    conflicts : geopandas.GeoDataFrame, optional
        Rows with the columns of ``conflicts.gpkg``.
    options : MapOptions

    Returns
    -------
    folium.Map
        Render it with :func:`map_html`.
    """
    layers = {kind: frame for kind, frame in layers.items() if frame is not None}
    if not layers:
        raise ValueError("no layers to draw")
    for kind, frame in layers.items():
        require_projected(frame.crs, f"layer {kind}")
    west, south, east, north = region_bounds(layers, "EPSG:4326")
    latitude = (south + north) / 2
    display = options.display
    if options.basemap.gcj02 != display.gcj02:
        display = DisplayOptions(**{**display.__dict__, "gcj02": options.basemap.gcj02})

    m = OfflineMap(
        location=[latitude, (west + east) / 2],
        zoom_start=9,
        tiles=None,
        max_zoom=18,
        control_scale=False,
        zoom_snap=0.1,
        zoom_delta=0.5,
    )
    m.add_child(InlineAssets(BACKGROUND))
    # Fractional zoom (zoomSnap 0.1) fits the region exactly; without animation,
    # and before any layer is added, so each is drawn once, in the final view.
    fit = folium.map.FitBounds([[south, west], [north, east]], padding=(12, 12))
    fit.options["animate"] = False
    m.add_child(fit)
    m.add_child(Panes())
    for i, tiles in enumerate(options.basemap.tiles):
        m.add_child(
            TileLayer(
                tiles.url,
                tiles.attribution,
                tiles.subdomains or "abc",
                tiles.max_zoom,
                name=options.basemap.title if i == 0 else f"{options.basemap.title}注记",
                overlay=i > 0,
                pane=pane_of(BASEMAP),
            ).placed(BASEMAP)
        )
    for image in options.images:
        # An image with a legend is a data overlay (conflict density); else terrain.
        group = CONFLICTS if image.legend else TERRAIN
        overlay = ImageOverlay(
            image.url, image.bounds, image.opacity, image.name, image.show, pane=pane_of(group)
        )
        legend = legend_rows(list(image.legend), image.legend_heading) if image.legend else None
        m.add_child(overlay.placed(group, legend=legend))

    referenced = _referenced_ids(conflicts)
    for kind in _ordered_kinds(layers):
        frame = layers[kind]
        title = kind_title(kind)
        group = group_of(kind)
        legend = legend_rows(_legend_entries(kind))
        if is_dense(frame, display):
            name, show = f"{title}（{len(frame):,}）", kind not in HIDDEN_KINDS
            layer = dense_layer(
                kind, frame, display, latitude, name=name, show=show, pane=pane_of(group)
            )
            layer.placed(group, kind=kind, legend=legend).add_to(m)
            continue
        shown = display_frame(
            frame,
            fields=POPUP_COLUMNS.get(kind, ["name", "id"]),
            options=display,
            coverage=kind in COVERAGE_KINDS,
            dissolve_by=class_column(kind),
            keep_ids=referenced.get(kind, ()),
            latitude=latitude,
        )
        props, fields = layer_popup(kind, shown)
        column = class_column(kind)
        styles, index = class_styles(
            kind, shown[column] if column in shown else pd.Series("", index=shown.index)
        )
        props[_STYLE_KEY] = index
        _layer(
            shown.geometry.values,
            props,
            fields,
            styles,
            name=f"{title}（{len(frame):,}）",
            show=kind not in HIDDEN_KINDS,
            decimals=display_decimals(display, latitude, detailed=bool(shown["detailed"].any())),
            group=group,
        ).placed(group, kind=kind, legend=legend).add_to(m)
        if kind == "townships" and len(frame):
            m.add_child(township_labels(frame, display, latitude, LABEL_MIN_ZOOM).placed(group))

    if conflicts is not None:
        table = _add_conflicts(m, conflicts, display, latitude)
    m.add_child(ScaleBar())  # first: bottom-left controls stack upwards
    m.add_child(Title(options.title, options.subtitle))
    m.add_child(
        LayerControl(
            [(title, pane_of(title)) for title, _ in GROUPS], {CONFLICTS: "冲突（按严重程度）"}
        )
    )
    # Controls of a corner stack in the order they are added.
    m.add_child(Search())
    working = next(iter(layers.values())).crs
    m.add_child(Tools(options.title, options.subtitle, gauss_kruger_zone(working), display.gcj02))
    if conflicts is not None:
        m.add_child(Findings(table, len(conflicts)))
    if options.county_maps:
        m.add_child(CountyMaps(options.county_maps, options.county_note))
    return m


def _add_conflicts(
    m: folium.Map, conflicts: gpd.GeoDataFrame, display: DisplayOptions, latitude: float
) -> str:
    """Add the conflict layers, one per severity; returns the conflicts' table.

    A severity with more conflicts than ``display.dissolve_above`` is a
    dense layer whose popups come from the table.
    """
    require_projected(conflicts.crs, "conflicts")
    counts = conflicts["severity"].value_counts()
    dense = frozenset(s for s in SEVERITIES if counts.get(s, 0) > display.dissolve_above)
    order, table = conflict_table(conflicts, display, latitude, dense)
    decimals = display_decimals(display, latitude, detailed=True)
    severity = conflicts["severity"].to_numpy()[order]
    sparse = conflicts[~conflicts["severity"].isin(dense)]
    shown = to_display_crs(sparse, display, latitude=latitude)
    props, fields = conflict_popup(shown)
    # Fields of the rule are the same for all its conflicts: sent once.
    shared_keys = [key for key in RULE_FIELDS if key in props]
    shared = props[shared_keys].drop_duplicates().to_dict("records")
    index = props.groupby(shared_keys, sort=False, dropna=False).ngroup().to_numpy()
    props = props.drop(columns=shared_keys)
    props["_r"] = index
    props[_STYLE_KEY] = 0
    for key in reversed(SEVERITIES):
        style = SEVERITY_STYLES.get(key, SEVERITY_STYLES["notice"])
        title = SEVERITY_TITLES[key]
        count = int((severity == key).sum())
        name = f"冲突：{title}（{count:,} 处）"
        if key in dense:
            layer = dense_conflicts(
                conflicts.iloc[order],
                np.flatnonzero(severity == key),
                style,
                display,
                latitude,
                name=name,
                pane=pane_of(CONFLICTS),
                symbols=key == "prohibited",
                fields=fields,
            )
        else:
            rows = (shown["severity"] == key).to_numpy()
            layer = _layer(
                shown.geometry.values[rows],
                props[rows],
                fields,
                [style],
                name=name,
                show=True,
                decimals=decimals,
                title="规则",
                tooltip=["规则", "面积"],
                shared=shared,
                highlight=True,
                group=CONFLICTS,
            )
        layer.placed(
            CONFLICTS,
            kind=f"conflicts:{key}",
            legend=legend_rows([(f"{title}（{count:,} 处）", style, False)]),
        ).add_to(m)
    return table


def map_html(m: folium.Map) -> str:
    """The map as one self-contained HTML document.

    folium renders the page from templates holding only code and generated
    names; the data (names, popups, title, tile URLs, images, assets) are
    filled into their slots afterwards, so no template engine ever sees them
    (:mod:`maps.slots`).
    """
    root = m.get_root()
    return fill_slots(root.render(), root)
