"""Generate the plan layers of the embedded 巴中市 dataset.

Real: the city and county boundaries (``layers/bazhong/boundaries``).
Generated, calibrated to the published plan figures (``layers/bazhong/facts``):
139 townships, the three zones, the three control lines, 耕地, the 13
protected areas, the parks, the rivers and a DEM. Not survey data.

The generator plants the conflicts real plans have and records them in a
table; everything else is built to be consistent (the zones tile the city,
each line lies in its zone). One module per layer family does the work;
:func:`build` runs them in the order that draws the random numbers.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplan.layers.bazhong.gen.admin import read_boundaries, townships
from geoplan.layers.bazhong.gen.dem import dem
from geoplan.layers.bazhong.gen.farmland import farmland_and_cultivated
from geoplan.layers.bazhong.gen.parks import parks, plant_park_cases
from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.protected import plant_protected_cases, protected_areas
from geoplan.layers.bazhong.gen.rivers import rivers
from geoplan.layers.bazhong.gen.urban import urban_boundary
from geoplan.layers.bazhong.gen.zones import redline_layer, zone_layer, zones_and_redline

SEED = 20_351_231


def build(seed: int = SEED) -> tuple[Plan, np.ndarray, tuple[float, float, float]]:
    """Generate every layer, the planted-conflict table and the DEM.

    Returns
    -------
    plan : Plan
        The layers by GeoPackage table name, and the planted cases.
    elevation, transform
        The DEM and its (west, north, cell) in metres, as :func:`dem` returns them.
    """
    rng = np.random.default_rng(seed)
    plan = Plan()
    city, counties = read_boundaries()
    town = townships(rng, counties)
    river = rivers(rng, city)
    urban = urban_boundary(rng, town)
    urban_union = shapely.union_all(urban.geometry.values)
    protected = protected_areas(rng, counties, river)
    ecological, agricultural, redline, lobe = zones_and_redline(city, urban_union, protected, seed)
    farm, cultivated = farmland_and_cultivated(rng, plan, agricultural, redline, urban)
    park, placements = parks(rng, urban, agricultural, town, river, protected, counties)
    plant_park_cases(plan, park, placements, protected)
    plant_protected_cases(plan, protected, lobe)
    plan.layers = {
        "XZQ_XJ": counties,
        "XZQ_XZ": town,
        "SQ": zone_layer(urban_union, agricultural, ecological),
        "STBHHX": redline_layer(redline, counties),
        "YJJBNT": farm,
        "GD": cultivated,
        "CZKFBJ": urban,
        "ZRBHD": protected,
        "CYYQ": park,
        "HL": river,
    }
    elevation, transform = dem(city, river.geometry.values, seed + 7)
    return plan, elevation, transform
