import numpy as np
import pytest
from pyproj import CRS, Transformer

from geoplan.geo.crs import (
    classify_crs,
    gk3_epsg,
    prefixed_zone_of_eastings,
    require_projected,
    resolve_source_crs,
    working_crs_for,
    zone_of_longitude,
)
from geoplan.geo.errors import CRSError


@pytest.mark.parametrize(
    ("epsg", "kind", "zone"),
    [
        (4490, "cgcs2000", None),
        (4326, "wgs84", None),
        (4513, "gk3_prefixed", 25),
        (4523, "gk3_prefixed", 35),
        (4524, "gk3_prefixed", 36),
        (4533, "gk3_prefixed", 45),
        (4534, "gk3", 25),
        (4544, "gk3", 35),
        (4545, "gk3", 36),
        (4554, "gk3", 45),
        (3857, "other_projected", None),
    ],
)
def test_classify(epsg, kind, zone):
    got = classify_crs(epsg)
    assert (got.kind, got.zone, got.epsg) == (kind, zone, epsg)


def test_epsg_codes_match_central_meridians():
    for zone in range(25, 46):
        for prefixed in (False, True):
            crs = CRS.from_epsg(gk3_epsg(zone, prefixed=prefixed))
            params = {p.name: p.value for p in crs.coordinate_operation.params}
            assert params["Longitude of natural origin"] == 3 * zone
            false_easting = params["False easting"]
            assert false_easting == (zone * 1e6 + 500_000 if prefixed else 500_000)


def test_zone_of_longitude_bazhong():
    assert zone_of_longitude(106.0) == 35  # zone 35 reaches 106.5°E
    assert zone_of_longitude(106.49) == 35
    assert zone_of_longitude(106.51) == 36
    assert zone_of_longitude(107.8) == 36
    assert working_crs_for(106.3, 107.8).to_epsg() == 4545


def _prefixed_eastings(zone: int, lon: np.ndarray, lat: np.ndarray):
    t = Transformer.from_crs(4490, gk3_epsg(zone, prefixed=True), always_xy=True)
    return t.transform(lon, lat)


def test_prefixed_eastings_detected():
    lon = np.array([106.2, 106.4, 106.1])
    lat = np.array([31.8, 32.1, 32.5])
    x, _ = _prefixed_eastings(35, lon, lat)
    assert np.all((x > 35_000_000) & (x < 36_000_000))
    assert prefixed_zone_of_eastings(x) == 35
    x36, _ = _prefixed_eastings(36, lon + 1.5, lat)
    assert prefixed_zone_of_eastings(x36) == 36
    assert prefixed_zone_of_eastings(np.array([512_345.0, 498_000.0])) is None
    assert prefixed_zone_of_eastings(np.array([35_512_345.0, 36_498_000.0])) is None


def test_resolve_without_prj_uses_prefix():
    x, y = _prefixed_eastings(36, np.array([107.2, 107.3]), np.array([32.0, 32.1]))
    crs, note = resolve_source_crs(None, x, y, source="f.shp")
    assert crs.to_epsg() == 4524
    assert "zone-prefixed" in note


def test_resolve_wrong_zone_in_prj():
    x, y = _prefixed_eastings(36, np.array([107.2, 107.3]), np.array([32.0, 32.1]))
    crs, note = resolve_source_crs(CRS.from_epsg(4523), x, y, source="f.shp")
    assert crs.to_epsg() == 4524
    assert "zone 36" in note
    # a .prj that names the CM-only zone while eastings carry the prefix
    crs, _ = resolve_source_crs(CRS.from_epsg(4545), x, y, source="f.shp")
    assert crs.to_epsg() == 4524


def test_resolve_keeps_a_correct_declaration():
    x, y = _prefixed_eastings(35, np.array([106.2]), np.array([32.0]))
    crs, note = resolve_source_crs(CRS.from_epsg(4523), x, y, source="f.shp")
    assert crs.to_epsg() == 4523 and note is None


def test_resolve_lonlat_without_crs():
    crs, note = resolve_source_crs(None, np.array([106.5]), np.array([31.9]), source="f")
    assert crs.to_epsg() == 4490 and "CGCS2000" in note


def test_resolve_no_crs_and_no_zone_fits():
    with pytest.raises(CRSError, match=r"f\.shp: no CRS .* fit no known zone"):
        resolve_source_crs(None, np.array([512_000.0]), np.array([3_500_000.0]), source="f.shp")


def test_resolve_declared_geographic_but_metres():
    with pytest.raises(CRSError, match="not longitude/latitude"):
        resolve_source_crs(
            CRS.from_epsg(4490), np.array([512_000.0]), np.array([3_500_000.0]), source="f"
        )


def test_require_projected():
    assert require_projected(CRS.from_epsg(4545), "x").to_epsg() == 4545
    with pytest.raises(CRSError, match="geographic"):
        require_projected(CRS.from_epsg(4490), "layer")
    with pytest.raises(CRSError, match="no CRS"):
        require_projected(None, "layer")
