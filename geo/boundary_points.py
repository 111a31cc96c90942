"""界址点坐标 text files: the coordinate exchange format of land administration.

The 建设用地预审 / 报批 systems and survey offices (勘测定界) exchange parcels as
a text file in two sections::

    [属性描述]
    格式版本号=
    数据产生单位=
    数据产生日期=2026-12-01
    坐标系=2000国家大地坐标系
    几度分带=3
    投影类型=高斯克吕格
    计量单位=米
    带号=36
    精度=0.01
    转换参数=,,,,,,
    [地块坐标]
    10,2.3456,DK01,一号地块,面,,工业用地,,@
    J1,1,3530000.000,36380000.000
    J2,1,3530000.000,36380200.000
    …
    J1,1,3530000.000,36380000.000

Each parcel line gives 界址点数 (the point lines that follow, closing points
included), 地块面积 (公顷), 地块编号, 地块名称, 记录图形属性 (面), 图幅号,
地块用途, 地类编码 … and ends in ``@``. Each point line is ``点号,圈号,X,Y``
with X the northing and Y the easting, as Chinese surveying writes them; Y
carries the zone number in front (36 380 000.000) or not (380 000.000, then
``带号`` says the zone). A ring closes by repeating its first point. 圈号 1 is
the outer ring; a parcel without deductions has only 圈号 1, and the rings of
other 圈号 are holes (扣除的内部面积) when they lie inside an earlier ring,
separate parts otherwise.

Sources read (2026-12): 《建设项目用地红线坐标文件内容要求》 (the field list,
地块面积 in 公顷, 精度 as the survey's precision, “J1、J2、……、J1”, 圈号 1
without deductions; https://m.wenku365.com/p-6705749.html), CASS's
“电子报盘” export and two published readers/writers of the format
(cnblogs.com/znlgis/p/19274558, wxhsa.cn/company.asp?id=2527). Files are
written in GBK with CRLF line ends, as those tools write them; read as UTF-8
when they decode so, else as GB18030.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from geoplan.geo.errors import GeoplanError
from geoplan.geo.survey_crs import SurveyCRSError, survey_crs

logger = logging.getLogger(__name__)

#: The keys of ``[属性描述]``, in the order they are written.
HEADER_KEYS = (
    "格式版本号",
    "数据产生单位",
    "数据产生日期",
    "坐标系",
    "几度分带",
    "投影类型",
    "计量单位",
    "带号",
    "精度",
    "转换参数",
)
#: The fields of a parcel line, in order (the line then ends in ``@``).
PARCEL_FIELDS = ("界址点数", "地块面积", "地块编号", "地块名称", "图形属性", "图幅号", "地块用途")
#: Precision assumed when ``精度`` gives none in metres.
DEFAULT_PRECISION_M = 0.01


class BoundaryPointsError(GeoplanError, ValueError):
    """A 界址点坐标 file that cannot be read; the message names the file and line."""


@dataclass
class Parcel:
    """One parcel of a 界址点坐标 file.

    Attributes
    ----------
    geometry : shapely.Polygon or shapely.MultiPolygon
        In the file's CRS, easting as x and northing as y.
    attributes : dict of str to str
        The parcel line's fields by :data:`PARCEL_FIELDS` name (extra fields
        as ``字段8`` …).
    points : list of tuple
        ``(点号, 圈号, X northing, Y easting)`` as written (Y with the zone
        prefix when the file has it).
    line : int
        Line number of the parcel line (1-based).
    """

    geometry: shapely.Geometry
    attributes: dict[str, str]
    points: list[tuple[str, int, float, float]]
    line: int

    @property
    def name(self) -> str:
        """地块名称, else 地块编号, else ``地块<line>``."""
        return (
            self.attributes.get("地块名称") or self.attributes.get("地块编号") or f"地块{self.line}"
        )


@dataclass
class BoundaryFile:
    """A 界址点坐标 file as read.

    Attributes
    ----------
    crs : pyproj.CRS
        From 坐标系, 几度分带, 带号 and whether Y carries the zone.
    header : dict of str to str
        ``[属性描述]`` as written.
    parcels : list of Parcel
    encoding : str
    notes : list of str
        Decisions taken while reading (encoding, CRS, stated areas off).
    """

    crs: CRS
    header: dict[str, str]
    parcels: list[Parcel]
    encoding: str
    notes: list[str] = field(default_factory=list)


def looks_like_boundary_points(path: str | os.PathLike) -> bool:
    """Whether a file holds a ``[地块坐标]`` section (any encoding geoplan reads)."""
    try:
        data = Path(path).read_bytes()[:1_000_000]
    except OSError:
        return False
    return any(marker in data for marker in _markers())


def _markers() -> list[bytes]:
    return [s.encode(codec) for s in ("[地块坐标]", "【地块坐标】") for codec in ("utf-8", "gbk")]


def _decode(data: bytes, source: str) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise BoundaryPointsError(
            f"{source}: text is neither UTF-8 nor GBK/GB18030 (byte {exc.start})"
        ) from None


def _section(line: str) -> str | None:
    match = re.fullmatch(r"[\[【]\s*(.+?)\s*[\]】]", line)
    return match.group(1) if match else None


def _number(text: str, source: str, line: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BoundaryPointsError(
            f"{source}: line {line}: {what} {text!r} is not a number"
        ) from None
    if not np.isfinite(value):
        raise BoundaryPointsError(f"{source}: line {line}: {what} {text!r} is not a finite number")
    return value


def _precision(header: dict[str, str]) -> float:
    """精度 in metres, when it is one (0.01, 0.001); else :data:`DEFAULT_PRECISION_M`."""
    try:
        value = float(header.get("精度", ""))
    except ValueError:
        return DEFAULT_PRECISION_M
    return value if 0 < value < 1 else DEFAULT_PRECISION_M


def point_rings(
    points: list[tuple[str, int, float, float]], lines: list[int], source: str
) -> list[tuple[int, list[tuple[float, float]], int]]:
    """Rings of one parcel's points: consecutive points of one 圈号, until the first repeats.

    Parameters
    ----------
    points : list of (点号, 圈号, X northing, Y easting)
    lines : list of int
        The line (or row) each point is on, for messages.
    source : str

    Returns
    -------
    list of (圈号, [(easting, northing), …], first line)

    Raises
    ------
    BoundaryPointsError
        A ring of fewer than 3 distinct points.
    """
    rings: list[tuple[int, list[tuple[float, float]], int]] = []
    current: list[tuple[float, float]] = []
    ring_no, start = None, 0
    for (_, number, x, y), line in zip(points, lines, strict=True):
        if current and (number != ring_no):
            rings.append((ring_no, current, start))
            current = []
        if not current:
            ring_no, start = number, line
        current.append((y, x))
        if len(current) > 1 and current[-1] == current[0]:
            rings.append((ring_no, current, start))
            current = []
    if current:
        rings.append((ring_no, current, start))
    for number, coords, line in rings:
        if len({*coords}) < 3:
            raise BoundaryPointsError(
                f"{source}: line {line}: ring 圈号 {number} has {len({*coords})} distinct points; "
                "a ring needs at least 3"
            )
    return rings


def _inside(ring: shapely.Polygon, shell: shapely.Polygon, holes: list) -> bool:
    """Whether ``ring`` lies in ``shell`` and not in one of its holes (an island is a part)."""
    return shell.contains(ring) and not any(shapely.Polygon(h).contains(ring) for h in holes)


def assemble_parcel(rings: list, source: str, line: int) -> shapely.Geometry:
    """A parcel's polygon from its rings (:func:`point_rings`).

    A ring of 圈号 other than 1 inside an earlier ring (not in one of its
    holes) is a hole in it; any other ring is a part of its own.

    Raises
    ------
    BoundaryPointsError
        The rings make no valid polygon (crossing, touching holes); names ``line``.
    """
    shells: list[tuple[shapely.Polygon, list]] = []
    for number, coords, _ in rings:
        ring = shapely.Polygon(coords)
        host = next((s for s in shells if number != 1 and _inside(ring, *s)), None)
        if host is None:
            shells.append((ring, []))
        else:
            host[1].append(coords)
    parts = [shapely.Polygon(shell.exterior.coords, holes) for shell, holes in shells]
    geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise BoundaryPointsError(
            f"{source}: line {line}: the parcel's rings are not valid ({reason})"
        )
    return geom


def _parcel_attributes(parts: list[str]) -> dict[str, str]:
    names = [*PARCEL_FIELDS, *(f"字段{i + 1}" for i in range(len(PARCEL_FIELDS), len(parts)))]
    return {name: value.strip() for name, value in zip(names, parts, strict=False) if value.strip()}


def _check_area(parcel: Parcel, precision: float, source: str, notes: list[str]) -> None:
    """Compare 地块面积 (公顷) with the planar area, within the rounding and the precision."""
    stated = parcel.attributes.get("地块面积", "")
    try:
        stated_ha = float(stated)
    except ValueError:
        return
    computed_ha = parcel.geometry.area / 10_000.0
    decimals = len(stated.partition(".")[2])
    tolerance = 0.5 * 10.0**-decimals + parcel.geometry.length * precision / 10_000.0
    if abs(stated_ha - computed_ha) > tolerance:
        note = (
            f"{source}: line {parcel.line}: 地块面积 {stated} 公顷 differs from the area of its "
            f"points, {computed_ha:.4f} 公顷 (by more than the rounding and 精度 {precision} m)"
        )
        notes.append(note)
        logger.warning("%s", note)


def read_boundary_points(path: str | os.PathLike) -> BoundaryFile:
    """Read a 界址点坐标 file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    BoundaryFile
        Parcels in the file's CRS (x easting without the zone number
        removed: the CRS is the zone-prefixed one when Y carries it).

    Raises
    ------
    BoundaryPointsError
        Missing file or section, a malformed line, 界址点数 unlike the
        points given, an open or degenerate ring, swapped X and Y, or a CRS
        the header and values do not settle; the message names the file and
        line.
    """
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BoundaryPointsError(f"{source}: cannot be read ({exc.strerror})") from None
    text, encoding = _decode(data, source)
    header: dict[str, str] = {}
    section = None
    raw: list[tuple[int, list[str], list[tuple], list[int]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if (name := _section(line)) is not None:
            section = name
            continue
        if section == "属性描述":
            key, sep, value = line.partition("=")
            if sep:
                header[key.strip()] = value.strip()
        elif section == "地块坐标":
            parts = [p.strip() for p in line.split(",")]
            if parts[-1] == "@":
                raw.append((number, parts[:-1], [], []))
                continue
            if not raw:
                raise BoundaryPointsError(
                    f"{source}: line {number}: a point before any parcel line (one ending in @)"
                )
            if len(parts) != 4:
                raise BoundaryPointsError(
                    f"{source}: line {number}: a point line is 点号,圈号,X,Y; "
                    f"got {len(parts)} fields"
                )
            ring = _number(parts[1], source, number, "圈号")
            x = _number(parts[2], source, number, "X")
            y = _number(parts[3], source, number, "Y")
            raw[-1][2].append((parts[0], int(ring), x, y))
            raw[-1][3].append(number)
    if section is None or not raw:
        raise BoundaryPointsError(f"{source}: no [地块坐标] section with a parcel line ending in @")
    for line, parts, points, _ in raw:
        shape = parts[4] if len(parts) > 4 else ""
        if shape in ("点", "线"):
            raise BoundaryPointsError(
                f"{source}: line {line}: 图形属性 {shape}; a parcel with an area is 面"
            )
        if not points:
            raise BoundaryPointsError(f"{source}: line {line}: parcel without points")
        count = parts[0] if parts else ""
        if count.isdigit() and int(count) != len(points):
            raise BoundaryPointsError(
                f"{source}: line {line}: 界址点数 {count} but {len(points)} point lines follow"
            )
    xs = np.array([p[2] for _, _, pts, _ in raw for p in pts])
    ys = np.array([p[3] for _, _, pts, _ in raw for p in pts])
    try:
        crs = survey_crs(
            xs,
            ys,
            source=source,
            datum=header.get("坐标系", ""),
            band=header.get("几度分带", ""),
            zone=header.get("带号", ""),
            unit=header.get("计量单位", ""),
        )
    except SurveyCRSError as exc:
        raise BoundaryPointsError(str(exc)) from None
    notes = [f"{source}: read as {encoding}; CRS EPSG:{crs.to_epsg()} ({crs.name})"]
    precision = _precision(header)
    parcels = []
    for line, parts, points, lines in raw:
        rings = point_rings(points, lines, source)
        geometry = assemble_parcel(rings, source, line)
        parcel = Parcel(geometry, _parcel_attributes(parts), points, line)
        if crs.is_projected:
            _check_area(parcel, precision, source, notes)
        parcels.append(parcel)
    return BoundaryFile(crs, header, parcels, encoding, notes)
