"""Every conflict's popup and findings-panel fields as one deflated, columnar table.

A city has tens of thousands of conflicts: as JSON objects their popups and
the findings panel's rows would take more of the file than their shapes.
Here each field is one column, the rows stored by severity, place, rule
and feature (:func:`table_order`: neighbours share most of their fields;
the page sorts them into findings order, :func:`findings_order`), a column
of few distinct values as those values and an index per row, labels with
numbers as templates and differences (:func:`_numbered`), and the whole
compressed with zlib (``geoplan.findings``,
``static/geoplan-findings.js``, inflates it once the canvas tiles of the
first view have been painted; the panel's list is built when it is first opened). A
conflict's place in the table is its number in the dense conflict layers
(:mod:`maps.dense`).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.vocabulary import SEVERITIES
from geoplan.maps.dense import deflated, to_text
from geoplan.maps.display import DisplayOptions, to_display_crs
from geoplan.maps.popups import conflict_popup

#: Decimal places of a degree of the points where a finding's symbol and popup go.
POINT_DECIMALS = 5
#: Decimal places of a m² of the areas; the findings are listed by them (0.1 m²: the
#: list shows 0.01 亩, 6.7 m²).
AREA_DECIMALS = 1


def findings_order(conflicts: pd.DataFrame) -> np.ndarray:
    """Row positions in findings order: severity (prohibited first), then area (largest first).

    As the page sorts the table's rows (``static/geoplan-findings.js``): the
    area rounded to the table's :data:`AREA_DECIMALS`, ties in table order
    (:func:`table_order`).
    """
    stored = table_order(conflicts)
    frame = conflicts.iloc[stored]
    order = {severity: i for i, severity in enumerate(SEVERITIES)}
    rank = frame["severity"].map(order).fillna(len(order)).to_numpy()
    area = np.round(frame["area_m2"].astype(float).to_numpy(), AREA_DECIMALS)
    return stored[np.lexsort((-area, rank))]


def table_order(conflicts: pd.DataFrame) -> np.ndarray:
    """Row positions in the order the table stores them: by severity, place, rule and feature.

    Neighbouring rows then share their township, rule and features' ids
    (and a dense layer's cell holds runs of numbers), which deflate far
    better than in findings order; the page sorts them into findings order.
    """
    order = {severity: i for i, severity in enumerate(SEVERITIES)}
    keys = pd.DataFrame(
        {
            "rank": conflicts["severity"].map(order).fillna(len(order)).to_numpy(),
            **{c: conflicts[c].astype(str).to_numpy() for c in _PLACE_KEYS if c in conflicts},
        }
    )
    return keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()


#: Columns of ``conflicts.gpkg`` the table is stored by, after severity.
_PLACE_KEYS = ("county", "township", "rule_id", "left_id", "right_id")


def _numbered(values: pd.Series) -> dict | None:
    """Texts as a few templates and the running difference of the number in each.

    ``{"p": [[before, width, after]], "t": template per row, "d": differences}``:
    a text's last run of digits (at most 15) is its number, written back
    zero-padded to ``width`` (0: as is); a text without one is a template
    ``[text, -1, ""]`` and its difference 0. A feature's label
    ("永久基本农田：（0923574）") thus costs its id's difference from the
    previous row's, small in table order (:func:`table_order`). None when
    the templates are not fewer than a quarter of the rows.
    """
    parts = values.astype(str).str.extract(r"^(.*?)([0-9]{1,15})([^0-9]*)$")
    digits = parts[1].fillna("")
    width = np.where(digits.str.match(r"0[0-9]"), digits.str.len(), np.where(digits == "", -1, 0))
    before = parts[0].where(digits != "", values.astype(str))
    after = parts[2].fillna("")
    keys = pd.DataFrame({"b": before, "w": width, "a": after})
    codes, templates = pd.factorize(pd.MultiIndex.from_frame(keys), sort=False)
    if len(templates) * 4 >= len(values):
        return None
    numbers = pd.to_numeric(digits.where(digits != ""), errors="coerce").ffill().fillna(0)
    deltas = np.diff(numbers.astype(np.int64).to_numpy(), prepend=0)
    return {
        "p": [[b, int(w), a] for b, w, a in templates],
        "t": codes.tolist(),
        "d": deltas.tolist(),
    }


def _column(values: pd.Series) -> list | dict:
    """A column as values and indexes (few values), templates (:func:`_numbered`) or texts."""
    codes, uniques = pd.factorize(values.astype(str), sort=False)
    if len(uniques) * 64 >= len(values):
        numbered = _numbered(values)
        if numbered is not None and len(numbered["p"]) < len(uniques):
            return numbered
    if len(uniques) * 4 < len(values):
        return {"v": list(uniques), "i": codes.tolist()}
    return values.astype(str).tolist()


#: Columns whose values often follow from a row's rule or township (its county, function type).
_KEYS = ("规则", "乡镇")


def _by_key(columns: dict) -> dict:
    """Columns of few values that follow from a key column as ``{"v", "of": key, "m"}``.

    ``m`` holds the value's index for each of the key's values (a rule's 依据,
    a township's 县区): an index per key value instead of one per row.
    """
    out = dict(columns)
    for label, column in columns.items():
        if label in _KEYS or not isinstance(column, dict) or "i" not in column:
            continue
        for key in _KEYS:
            of = columns.get(key)
            if not isinstance(of, dict) or "i" not in of:
                continue
            pairs = pd.DataFrame({"k": of["i"], "v": column["i"]}).drop_duplicates()
            if pairs["k"].is_unique:
                m = pairs.set_index("k")["v"].reindex(range(len(of["v"])), fill_value=0)
                out[label] = {"v": column["v"], "of": key, "m": m.astype(int).tolist()}
                break
    return out


def _hashes(ids: list[str]) -> str | None:
    """Hex hashes of one even length as the bytes they spell (base85), else None."""
    text = pd.Series(ids, dtype=object)
    width = int(text.str.len().iloc[0]) if len(text) else 0
    if not width or width % 2 or not text.str.fullmatch(f"[0-9a-f]{{{width}}}").all():
        return None
    return to_text(bytes.fromhex("".join(ids)))


def _areas(area_m2: np.ndarray) -> dict:
    """Areas (m², not negative) as ``{"d": decimals, "b": byte planes, deflated, "fix"}``.

    The integers of ``10**-d`` m² as 8 bytes big-endian, the first bytes of
    all rows, then the second …: in table order the areas are as varied as
    their digits, but their high bytes are nearly all alike. The page
    shows them in hundredths of 亩 and of 公顷 as :func:`maps.popups.fmt_area`
    does from the unrounded area: ``fix`` holds ``[row, 亩, 公顷]`` where
    those hundredths differ from the page's reckoning from the rounded area
    (``floor(m² × 0.15 + 0.5)``, ``floor(m² / 100 + 0.5)``), by how much.
    """
    ints = np.rint(area_m2 * 10**AREA_DECIMALS).astype(">u8")
    planes = np.frombuffer(ints.tobytes(), np.uint8).reshape(-1, 8).T
    shown = ints.astype(float) / 10**AREA_DECIMALS
    wanted = [
        np.array([int(f"{v:.2f}".replace(".", "")) for v in values], dtype=np.int64)
        for values in (m2_to_mu(area_m2), m2_to_ha(area_m2))
    ]
    reckoned = [np.floor(shown * 0.15 + 0.5), np.floor(shown / 100 + 0.5)]
    fix = np.column_stack([w - r.astype(np.int64) for w, r in zip(wanted, reckoned, strict=True)])
    rows = np.flatnonzero(fix.any(axis=1))
    return {
        "d": AREA_DECIMALS,
        "b": deflated(planes.tobytes()),
        "fix": np.column_stack([rows, fix[rows]]).tolist(),
    }


def conflict_table(
    conflicts: gpd.GeoDataFrame,
    display: DisplayOptions,
    latitude: float,
    dense: frozenset[str] = frozenset(),
) -> tuple[np.ndarray, str]:
    """The conflicts' table, deflated.

    Parameters
    ----------
    conflicts : geopandas.GeoDataFrame
        Rows with the columns of ``conflicts.gpkg``, in a projected CRS.
    display : DisplayOptions
    latitude : float
    dense : frozenset of str
        Severities drawn as dense layers: their points are in the layers
        (:func:`maps.dense_layer.dense_conflicts`), not in the table.

    Returns
    -------
    order : numpy.ndarray of int
        The conflicts' row positions in table order (:func:`table_order`);
        the page sorts the rows into findings order (:func:`findings_order`)
        by ``"rank"`` (the severities in order), ``"severity"`` and ``"area"``.
    table : str
        The zlib-compressed JSON (as :func:`maps.dense.to_text`)
        ``{"fields": popup labels in order, "columns": {label: column},
        "idAfterRule" (冲突编号 holds what follows "<规则编号>-"), "severity",
        "rank", "area" (:func:`_areas`), "lat", "lon" (integers of 10⁻⁵ degree, the rows
        not of ``"pointsIn"``), "pointsIn" (``dense``), "s"}``; a column is
        a list of texts, or ``{"v": texts, "i": index per row}``, or
        ``{"v": texts, "of": key column, "m": index per value of the key}``
        (:func:`_by_key`), or ``{"p", "t", "d"}`` (:func:`_numbered`), or
        (冲突编号 when every hash is hex of one even length)
        ``{"hex": length, "b": their bytes as base85}``.
    """
    order = table_order(conflicts)
    frame = conflicts.iloc[order]
    props, fields = conflict_popup(frame)
    own = ~frame["severity"].isin(dense).to_numpy()
    points = gpd.GeoDataFrame(
        geometry=shapely.point_on_surface(frame.geometry.values[own]), crs=frame.crs
    )
    points = to_display_crs(points, display, latitude=latitude).geometry.values
    scale = 10**POINT_DECIMALS
    # 面积 is written by the page from "area", as maps.popups.fmt_area does
    columns = {label: _column(props[label]) for label in ["规则", *fields] if label != "面积"}
    # A conflict id is its rule's id, "-" and a hash: only the hash is sent.
    prefix = props["规则编号"].astype(str) + "-"
    ids = props["冲突编号"].astype(str)
    by_rule = bool(len(ids)) and bool(
        pd.Series([i.startswith(p) for i, p in zip(ids, prefix, strict=True)]).all()
    )
    if by_rule:
        hashes = [i[len(p) :] for i, p in zip(ids, prefix, strict=True)]
        packed = _hashes(hashes)
        columns["冲突编号"] = hashes if packed is None else {"hex": len(hashes[0]), "b": packed}
    columns = _by_key(columns)
    content = {
        "fields": ["规则", *fields],
        "columns": columns,
        "idAfterRule": by_rule,
        "severity": _column(frame["severity"]),
        "rank": list(SEVERITIES),
        "area": _areas(frame["area_m2"].astype(float).to_numpy()),
        "s": scale,
        "pointsIn": sorted(dense),
        "lat": np.rint(shapely.get_y(points) * scale).astype(np.int64).tolist(),
        "lon": np.rint(shapely.get_x(points) * scale).astype(np.int64).tolist(),
    }
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return order, deflated(text.encode("utf-8"))
