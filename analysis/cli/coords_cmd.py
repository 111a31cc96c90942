"""``geoplan coords``: write polygons (findings of a check, parcels, a layer) as a 界址点坐标 file.

The 用地预审 / 报批 systems and survey offices take sites as 界址点坐标 text
(:mod:`geo.boundary_points`); this turns any polygon layer into one — by
default the ``conflicts`` layer of a check's ``conflicts.gpkg``, chosen by
``--id`` (conflict ids) or ``--rule``. Each feature is a parcel: 地块编号 its
id, 地块名称 its name (for a conflict: the rule's title and the features
involved), 地块用途 the rule id; coordinates in the zone-prefixed CGCS2000 3°
zone of the data (:func:`analysis.site_review.coordinates_crs`).
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from geoplan.analysis.cli.options import overwrite_opt
from geoplan.analysis.cli.outputs import staged_outputs
from geoplan.analysis.site_review import coordinates_crs
from geoplan.geo.boundary_points_write import write_boundary_points
from geoplan.geo.errors import GeometryError
from geoplan.geo.vector_read import list_layers, read_vector

#: Id fields looked for, in order.
ID_FIELDS = ("conflict_id", "id", "BSM", "DKBH")


def _text(row: pd.Series, name: str) -> str:
    value = row.get(name)
    return "" if value is None or pd.isna(value) else str(value)


def _name(row: pd.Series) -> str:
    if "rule_title" in row:
        involved = " / ".join(
            n
            for n in (
                _text(row, "left_name") or _text(row, "left_id"),
                _text(row, "right_name") or _text(row, "right_id"),
            )
            if n
        )
        return f"{_text(row, 'rule_title')} {involved}".strip()
    return _text(row, "name") or _text(row, "MC")


@click.command("coords")
@click.argument("source", type=click.Path(exists=True, path_type=str))
@click.argument("out_file", metavar="OUT.txt", type=click.Path(dir_okay=False, path_type=str))
@click.option("--layer", help="Layer of SOURCE (default: conflicts, or its only layer).")
@click.option(
    "--id", "ids", multiple=True, metavar="ID", help="A feature (conflict) id; repeatable."
)
@click.option(
    "--rule", "rule_ids", multiple=True, metavar="RULE", help="Conflicts of a rule; repeatable."
)
@overwrite_opt
def coords_command(
    source: str,
    out_file: str,
    layer: str | None,
    ids: tuple[str, ...],
    rule_ids: tuple[str, ...],
    overwrite: bool,
) -> None:
    """Write the polygons of SOURCE (e.g. conflicts.gpkg) as a 界址点坐标 file OUT.txt (GBK)."""
    if layer is None and "conflicts" in list_layers(source):
        layer = "conflicts"
    frame = read_vector(source, layer).frame
    id_field = next((f for f in ID_FIELDS if f in frame), None)
    ids_of = frame[id_field].astype(str) if id_field else pd.Series(frame.index.astype(str))
    keep = pd.Series(True, index=frame.index)
    if ids:
        keep &= ids_of.isin(ids).to_numpy()
        missing = sorted(set(ids) - set(ids_of))
        if missing:
            raise GeometryError(f"{source}: no feature with id {', '.join(missing)}")
    if rule_ids:
        if "rule_id" not in frame:
            raise GeometryError(f"{source}: has no rule_id field; --rule is for conflicts.gpkg")
        keep &= frame["rule_id"].isin(rule_ids)
    chosen = frame[keep & frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(chosen) == 0:
        raise GeometryError(f"{source}: no polygon chosen (of {len(frame)} features)")
    crs = coordinates_crs(chosen.crs)
    chosen = chosen.to_crs(crs)
    parcels = [
        (
            row.geometry,
            {
                "地块编号": ids_of.loc[index],
                "地块名称": _name(row),
                "地块用途": _text(row, "rule_id"),
            },
        )
        for index, row in chosen.iterrows()
    ]
    target = Path(out_file)
    with staged_outputs(target.parent, [target.name], overwrite=overwrite) as staging:
        write_boundary_points(staging / target.name, parcels, crs)
    click.echo(f"{len(parcels)} parcel(s) written to {target.resolve()}")
