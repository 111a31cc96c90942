"""Default layer styles inside a GeoPackage, in the ``layer_styles`` table QGIS reads.

QGIS looks for a ``layer_styles`` table in a GeoPackage and applies the row
marked ``useAsDefault`` of a layer when the layer is added, so a planner
opening the file sees it drawn as intended rather than in random colours.
ArcGIS ignores the table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pyogrio

#: Name of the table QGIS reads styles from.
TABLE = "layer_styles"


@dataclass(frozen=True)
class LayerStyle:
    """One layer's default style.

    Attributes
    ----------
    name : str
        Style name shown in QGIS's style manager.
    qml : str
        The style as a QGIS ``.qml`` document.
    description : str
    """

    name: str
    qml: str
    description: str = ""


def write_layer_styles(path: str | os.PathLike, styles: Mapping[str, LayerStyle]) -> None:
    """Add a default style for each named layer of a GeoPackage.

    Parameters
    ----------
    path : str or os.PathLike
        An existing GeoPackage without a ``layer_styles`` table (write into
        the staged file, before it is moved into place).
    styles : mapping of str to LayerStyle
        Layer name → its style; every layer must exist in ``path``.

    Raises
    ------
    ValueError
        A layer is not in the GeoPackage, or it already has the table.
    """
    layers = dict(pyogrio.list_layers(path))
    if TABLE in layers:
        raise ValueError(f"{path}: already has a {TABLE} table")
    missing = [name for name in styles if name not in layers]
    if missing:
        raise ValueError(f"{path}: no layer {', '.join(missing)} to style")
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer,
            "f_geometry_column": pyogrio.read_info(path, layer=layer)["geometry_name"],
            "styleName": style.name,
            "styleQML": style.qml,
            "styleSLD": "",
            "useAsDefault": True,
            "description": style.description,
            "owner": "",
            "ui": "",
            "update_time": pd.Timestamp.now(tz="UTC").floor("s"),
        }
        for layer, style in styles.items()
    ]
    pyogrio.write_dataframe(
        pd.DataFrame(rows),
        path,
        layer=TABLE,
        driver="GPKG",
        append=True,
        layer_options={"FID": "id"},
    )
