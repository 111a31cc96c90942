import numpy as np
import pytest

from geoplan.geo.units import convert_area, m2_to_ha, m2_to_km2, m2_to_mu, m2_to_wanmu


def test_mu_is_one_fifteenth_of_a_hectare():
    assert m2_to_mu(10_000.0) == pytest.approx(15.0)
    assert m2_to_mu(10000 / 15) == pytest.approx(1.0)


def test_other_units():
    assert m2_to_ha(25_000.0) == pytest.approx(2.5)
    assert m2_to_km2(3_500_000.0) == pytest.approx(3.5)
    # 1 万亩 = 10 000 亩 = 6.6667 km²
    assert m2_to_wanmu(1e6 * 10000 / 1500) == pytest.approx(1.0)
    # the plan's 生态保护红线: 250.95 万亩 ≈ 1 673.0 km²
    assert convert_area(250.95, "wanmu", "km2") == pytest.approx(1673.0, abs=0.05)


def test_arrays_and_unknown_unit():
    out = convert_area(np.array([1.0, 2.0]), "km2", "ha")
    assert np.allclose(out, [100.0, 200.0])
    with pytest.raises(ValueError, match="unknown area unit 'acre'"):
        convert_area(1.0, "acre", "m2")
