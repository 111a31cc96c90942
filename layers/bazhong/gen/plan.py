"""Generate the plan layers of the embedded 巴中市 dataset.

Real: the city and county boundaries (``layers/bazhong/boundaries``).
Generated, calibrated to the published plan figures (``layers/bazhong/facts``):
139 townships, the three zones, the three control lines, 耕地, the 13
protected areas with their 功能分区, the parks, the rivers, the drinking-water
source zones, the tailings ponds and a DEM, and the 田坎 deduction of 耕地 from
the DEM's slope. Not survey data.

The generator plants the conflicts real plans have and records them in a
table; everything else is built to be consistent (the zones tile the city,
each line lies in its zone). One module per layer family does the work;
:func:`build` runs them in the order that draws the random numbers; the
layers added later draw from streams of their own (or none), so that adding
them left the others as they were.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplan.layers.bazhong.gen.admin import read_boundaries, townships
from geoplan.layers.bazhong.gen.deductions import with_deductions
from geoplan.layers.bazhong.gen.dem import dem
from geoplan.layers.bazhong.gen.farmland import farmland_and_cultivated, plant_core_farmland
from geoplan.layers.bazhong.gen.parks import parks, plant_park_cases
from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.protected import (
    plant_protected_cases,
    protected_areas,
    zone_protected_areas,
)
from geoplan.layers.bazhong.gen.rivers import rivers
from geoplan.layers.bazhong.gen.tailings import plant_tailings_case, tailings
from geoplan.layers.bazhong.gen.urban import urban_boundary
from geoplan.layers.bazhong.gen.water_sources import plant_water_source_cases, water_sources
from geoplan.layers.bazhong.gen.zones import redline_layer, zone_layer, zones_and_redline

SEED = 20_351_231
#: Offset of the seed of the random stream of the layers added for issue 19
#: (the core farmland patch, the tailings ponds).
LATER_STREAM = 19


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
    zoned = zone_protected_areas(protected)
    plant_protected_cases(plan, zoned, lobe)
    later = np.random.default_rng(seed + LATER_STREAM)
    farm = plant_core_farmland(later, plan, farm, zoned)
    water = water_sources(river, park)
    plant_water_source_cases(plan, water, park)
    ponds = tailings(
        later,
        ecological,
        shapely.union_all([redline, *protected.geometry.values]),
        shapely.union_all([*urban.geometry.values, *park.geometry.values, *water.geometry.values]),
        river,
        town,
    )
    plant_tailings_case(plan, ponds, river)
    plan.layers = {
        "XZQ_XJ": counties,
        "XZQ_XZ": town,
        "SQ": zone_layer(urban_union, agricultural, ecological),
        "STBHHX": redline_layer(redline, counties),
        "YJJBNT": farm,
        "GD": cultivated,
        "CZKFBJ": urban,
        "ZRBHD": zoned,
        "CYYQ": park,
        "HL": river,
        "YYSYBHQ": water,
        "WKK": ponds,
    }
    elevation, transform = dem(city, river.geometry.values, seed + 7)
    plan.layers["GD"] = with_deductions(cultivated, elevation, transform)
    return plan, elevation, transform
