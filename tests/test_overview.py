"""The static overview figure (maps/overview.py): what lands on which pixel.

Pixels are located independently from the figure's documented geometry
(the region's bounds padded by 2 % of their larger side, ``width`` square
pixels across), not from the drawing code.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoplan.maps.overview import overview_image
from geoplan.maps.style import BACKGROUND, SEVERITY_STYLES, kind_style

CRS = "EPSG:4545"
X0, Y0, SIZE = 500_000.0, 3_500_000.0, 20_000.0  # a 20 km square county


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def pixel_of(x: float, y: float, width: int) -> tuple[int, int]:
    pad = 0.02 * SIZE
    size = (SIZE + 2 * pad) / width
    return int((Y0 + SIZE + pad - y) / size), int((x - (X0 - pad)) / size)


def draw(width: int = 400) -> np.ndarray:
    county = shapely.box(X0, Y0, X0 + SIZE, Y0 + SIZE)
    holed = shapely.Polygon(
        [
            (X0 + 1000, Y0 + 1000),
            (X0 + 9000, Y0 + 1000),
            (X0 + 9000, Y0 + 9000),
            (X0 + 1000, Y0 + 9000),
        ],
        holes=[
            [
                (X0 + 4000, Y0 + 4000),
                (X0 + 6000, Y0 + 4000),
                (X0 + 6000, Y0 + 6000),
                (X0 + 4000, Y0 + 6000),
            ]
        ],
    )
    # two overlapping patches wound in opposite senses: the overlap must stay filled
    ccw = shapely.box(X0 + 11000, Y0 + 11000, X0 + 15000, Y0 + 15000)
    cw = shapely.box(X0 + 13000, Y0 + 13000, X0 + 17000, Y0 + 17000).reverse()
    assert not cw.exterior.is_ccw
    tiny = shapely.box(X0 + 15000, Y0 + 3000, X0 + 15010, Y0 + 3020)  # 200 m², under a pixel
    layers = {
        "counties": gpd.GeoDataFrame({"name": ["县"]}, geometry=[county], crs=CRS),
        "permanent_farmland": gpd.GeoDataFrame(
            {"id": ["a", "b", "c"]}, geometry=[holed, ccw, cw], crs=CRS
        ),
    }
    conflicts = gpd.GeoDataFrame({"severity": ["prohibited"]}, geometry=[tiny], crs=CRS)
    return overview_image(layers, conflicts, width=width)


def test_holes_stay_open_overlaps_stay_filled_and_a_tiny_conflict_shows():
    image = draw(400)
    assert image.shape == (400, 400, 3) and image.dtype == np.uint8
    background = rgb(BACKGROUND)
    farmland = rgb(kind_style("permanent_farmland").fill)

    def at(x, y):
        return image[pixel_of(X0 + x, Y0 + y, 400)].astype(int)

    assert np.abs(at(-300, 10_000) - background).max() <= 2  # outside the county
    assert np.abs(at(5000, 5000) - background).max() <= 2  # in the hole
    for x, y in ((2500, 2500), (12000, 12000), (16000, 16000), (14000, 14000)):
        # farmland at 75 % over the background; (14000, 14000) is the overlap
        expected = 0.25 * background + 0.75 * farmland
        assert np.abs(at(x, y) - expected).max() <= 3, (x, y)
    # the 10 m × 20 m conflict, a fifth of a 52 m pixel, is drawn in the prohibited colours
    prohibited = [rgb(SEVERITY_STYLES["prohibited"].color), rgb(SEVERITY_STYLES["prohibited"].fill)]
    near = at(15005, 3010)
    assert min(np.abs(near - colour).max() for colour in prohibited) <= 40
