import numpy as np
import pytest
import shapely

from geoplan.geo.errors import GeometryError
from geoplan.geo.repair import repair_geometries

BOWTIE = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
# An ESRI-style ring that touches itself to enclose a hole (2×2 hole at (2, 2)).
SELF_TOUCHING = shapely.Polygon(
    [(0, 0), (6, 0), (6, 6), (2, 6), (2, 2), (4, 2), (4, 4), (2, 4), (2, 6), (0, 6), (0, 0)]
)
SQUARE = shapely.box(10, 10, 11, 11)


def test_each_problem_is_repaired_and_logged():
    geoms = [
        BOWTIE,
        None,
        shapely.Polygon(),
        shapely.Polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)]),
        SELF_TOUCHING,
        shapely.Point(0, 0),
        SQUARE,
        shapely.GeometryCollection([SQUARE, shapely.LineString([(0, 0), (1, 1)])]),
    ]
    fids = np.arange(100, 108)
    result = repair_geometries(geoms, family="polygon", source="f.gpkg:x", feature_ids=fids)

    assert list(result.keep) == [True, False, False, True, True, False, True, True]
    log = result.log
    assert set(log["source"]) == {"f.gpkg:x"}
    by_fid = log.groupby("feature")["action"].apply(list).to_dict()
    assert by_fid[100] == ["made valid"]
    assert by_fid[101] == by_fid[102] == by_fid[105] == ["dropped"]
    assert by_fid[103] == ["dropped Z/M, kept 2D"]
    assert by_fid[104][0] == "made valid"
    assert by_fid[107] == ["kept the polygon part"]
    assert 106 not in by_fid  # a valid square is left alone
    assert "Self-intersection" in log.loc[log["feature"] == 100, "problem"].iloc[0]
    assert result.dropped == 3 and result.repaired == 4

    out = dict(zip(fids[result.keep], result.geometries, strict=True))
    assert all(shapely.is_valid(g) for g in result.geometries)
    assert not any(shapely.has_z(g) for g in result.geometries)
    # the bow-tie keeps both triangles (area 2), as one multipart feature
    assert out[100].geom_type == "MultiPolygon" and out[100].area == pytest.approx(2.0)
    # the self-touching ring keeps its hole: 36 − 4
    assert out[104].area == pytest.approx(32.0)
    assert out[107].equals(SQUARE)


def test_line_family_and_bad_family():
    lines = [shapely.LineString([(0, 0), (1, 1)]), shapely.Point(1, 1)]
    result = repair_geometries(lines, family="line", source="rivers")
    assert list(result.keep) == [True, False]
    with pytest.raises(GeometryError, match="unknown geometry family"):
        repair_geometries(lines, family="raster", source="x")
