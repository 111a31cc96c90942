"""Leaflet's JavaScript and CSS, read from an installed package, for inlining.

The page must work with no network, so Leaflet is not linked from a CDN but
copied into the HTML. It comes from the PyPI package ``django-js-lib-leaflet``
(Leaflet 1.9.4, no dependencies of its own; the Django app it also holds is
never imported). The images the stylesheet refers to — the layer-control
icon and the default marker — become ``data:`` URIs, or the layer control
would show an empty box.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from geoplan.geo.errors import GeoplanError

_PACKAGE = "js_lib_leaflet"
_STATIC = ("static", "js_lib_leaflet")
_CSS_URL = re.compile(r"url\((?P<path>images/[^)]+)\)")
# A source-map comment makes developer tools fetch a file the page does not have.
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


@dataclass(frozen=True)
class Leaflet:
    """Leaflet's code and stylesheet, ready to inline.

    Attributes
    ----------
    version : str
    js : str
    css : str
        With the images it refers to as ``data:`` URIs.
    """

    version: str
    js: str
    css: str


def _inline_images(css: str, folder) -> str:
    def data_uri(match: re.Match) -> str:
        image = folder.joinpath(*match["path"].split("/"))
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return _CSS_URL.sub(data_uri, css)


@cache
def leaflet() -> Leaflet:
    """Leaflet's JS and CSS from the installed ``django-js-lib-leaflet``.

    Raises
    ------
    GeoplanError
        The package is not installed (it is a dependency of geoplan).
    """
    try:
        folder = resources.files(_PACKAGE).joinpath(*_STATIC)
        js = folder.joinpath("leaflet.js").read_text(encoding="utf-8")
        css = folder.joinpath("leaflet.css").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise GeoplanError(
            "Leaflet is missing: install the package 'django-js-lib-leaflet' "
            f"(a dependency of geoplan): {exc}"
        ) from exc
    version = re.search(r'version="(\d+\.\d+\.\d+)"', js)
    return Leaflet(
        version=version[1] if version else "unknown",
        js=_SOURCE_MAP.sub("", js),
        css=_inline_images(css, folder),
    )
