"""Basemaps: none by default; OpenStreetMap, 天地图, 高德/AMap or any XYZ template.

The map is fully useful without tiles, and a page on an intranet must not
reach for the internet, so tiles are fetched only when the user chooses a
basemap. 天地图 needs the user's key (``tk``); its Web Mercator tiles are on
CGCS2000, which agrees with WGS 84 to centimetres. 高德/AMap tiles are in
GCJ-02: with that basemap every overlay is shifted into GCJ-02
(:mod:`maps.gcj02`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geoplan.geo.errors import GeoplanError

#: The names ``--basemap`` accepts besides an XYZ URL template.
BASEMAP_NAMES = ("none", "osm", "tianditu", "amap")

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


# Leaflet's own placeholder pattern (L.Util.template, JavaScript \w is ASCII) and
# the values it fills for tiles; any other name throws on every tile.
_PLACEHOLDER = re.compile(r"\{ *([\w -]+) *\}", re.ASCII)
_TILE_PLACEHOLDERS = frozenset({"s", "x", "y", "z", "r", "-y"})
_TIANDITU_KEY = re.compile(r"[0-9A-Za-z]+", re.ASCII)


class BasemapError(GeoplanError, ValueError):
    """A basemap that cannot be used as given."""


@dataclass(frozen=True)
class Tiles:
    """One tile layer.

    Attributes
    ----------
    url : str
        XYZ template with ``{z}``, ``{x}``, ``{y}`` (and ``{s}`` for subdomains).
    attribution : str
    subdomains : str
    max_zoom : int
    """

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """A basemap: its tile layers (drawn in order) and its datum.

    Attributes
    ----------
    name : str
    title : str
        Name in the layer control.
    tiles : tuple of Tiles
        Empty for no basemap.
    gcj02 : bool
        The tiles are in GCJ-02; overlays must be shifted to match.
    """

    name: str
    title: str
    tiles: tuple[Tiles, ...] = ()
    gcj02: bool = False


NO_BASEMAP = Basemap("none", "无底图")


def basemap(choice: str = "none", *, key: str | None = None, gcj02: bool = False) -> Basemap:
    """The basemap for a ``--basemap`` choice.

    Parameters
    ----------
    choice : str
        ``none``, ``osm``, ``tianditu``, ``amap``, or an XYZ URL template
        containing ``{z}``, ``{x}`` and ``{y}`` (for example a tile server on
        the intranet).
    key : str, optional
        天地图 key (``tk``); required for ``tianditu``.
    gcj02 : bool
        An XYZ template's tiles are in GCJ-02.

    Raises
    ------
    BasemapError
        Unknown choice, 天地图 without a key or with a key that is not
        alphanumeric, or a template without ``{z}``/``{x}``/``{y}`` or with
        a placeholder Leaflet cannot fill (``{foo}``).
    """
    if choice == "none":
        return NO_BASEMAP
    if choice == "osm":
        return Basemap(
            "osm",
            "OpenStreetMap",
            (
                Tiles(
                    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "© OpenStreetMap contributors",
                    "",
                    19,
                ),
            ),
        )
    if choice == "tianditu":
        if not key:
            raise BasemapError("basemap 'tianditu' needs the key (tk) of your 天地图 account")
        if not _TIANDITU_KEY.fullmatch(key):
            raise BasemapError("basemap 'tianditu': the key (tk) must be letters and digits only")
        attribution = "© 国家地理信息公共服务平台 天地图"
        return Basemap(
            "tianditu",
            "天地图",
            tuple(
                Tiles(_TIANDITU.format(layer=layer, key=key, s="{s}"), attribution, "01234567")
                for layer in ("vec", "cva")
            ),
        )
    if choice == "amap":
        url = (
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}"
        )
        return Basemap("amap", "高德地图", (Tiles(url, "© 高德地图 AutoNavi", "1234"),), gcj02=True)
    if all(part in choice for part in ("{z}", "{x}", "{y}")):
        unknown = [m[0] for m in _PLACEHOLDER.finditer(choice) if m[1] not in _TILE_PLACEHOLDERS]
        if unknown:
            raise BasemapError(
                f"basemap {choice!r}: unknown placeholder {unknown[0]}; "
                "a tile URL template may use {s}, {x}, {y}, {z}, {-y} and {r}"
            )
        return Basemap("xyz", "底图", (Tiles(choice, "", "abc"),), gcj02=gcj02)
    raise BasemapError(
        f"basemap {choice!r}: expected one of {', '.join(BASEMAP_NAMES)} "
        "or an XYZ URL template with {z}, {x} and {y}"
    )
