"""Power simulation: the families' primary tests under the null and a planted effect, table, plot, CLI."""

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline import power as pw
from attachment_pipeline.inference import pearson_rows


@pytest.fixture(scope="module")
def null_sets():
    # 600 null data sets of 150 couples each, simulated and scored in one call
    return pw.simulate_couples(150, 600, 0.0, seed=20261124)


def test_null_rejection_rate_is_nominal(null_sets):
    # Monte Carlo SE of a rate .05 over 600 data sets: .009
    for fam in pw.POWER_FAMILIES:
        p = pw.family_pvalues(null_sets, fam, seed=1)
        assert 0.025 <= np.mean(p < 0.05) <= 0.08, fam
        # p-values are roughly uniform: the deciles hold about 10% each
        assert np.all(np.abs(np.histogram(p, bins=10, range=(0, 1))[0] / 600 - 0.1) < 0.045), fam


def test_power_is_high_with_a_planted_effect():
    t = pw.power_table([500], [0.3], n_sim=60, seed=3)
    power = dict(zip(t.family, t.power))
    assert power["complementarity"] >= 0.95
    assert power["complementary_pairing"] >= 0.8
    assert power["minmax_complementarity"] >= 0.7
    assert np.allclose(t.mc_se, np.sqrt(t.power * (1 - t.power) / 60))


def test_simulated_couples_carry_the_planted_correlation():
    d = pw.simulate_couples(4000, 1, 0.5, seed=4)
    r = pearson_rows(np.concatenate([d.anx_a, d.anx_b], 1), np.concatenate([d.avo_b, d.avo_a], 1))[0]
    # latent .5 attenuated by the subscale reliabilities (about .9 each)
    assert 0.38 < r < 0.5
    # the min/max propensity is .5 anx - .5 avo + noise: within-couple index correlation negative
    m = pearson_rows(np.concatenate([d.mm_a, d.mm_b], 1), np.concatenate([d.mm_b, d.mm_a], 1))[0]
    assert m < -0.1
    assert set(np.unique(d.style_a)) <= {0, 1, 2, 3} and set(np.unique(d.type_b)) <= {0, 1, 2}
    assert 0.85 < d.alpha_anx[0] < 0.98


def test_power_table_reproducible_and_columns():
    a = pw.power_table([20, 40], [0.0, 0.4], n_sim=30, seed=5)
    b = pw.power_table([20, 40], [0.0, 0.4], n_sim=30, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert tuple(a.columns) == pw.POWER_COLUMNS and len(a) == 12
    assert set(a.family) == set(pw.POWER_FAMILIES)


def test_power_errors():
    with pytest.raises(ValueError, match="Unknown power family"):
        pw.power_table([10], [0.1], families=["prevalence"])
    with pytest.raises(ValueError, match="alpha"):
        pw.power_table([10], [0.1], alpha=1.5)
    with pytest.raises(ValueError, match="n_sim"):
        pw.simulate_couples(10, 0, 0.1, seed=1)


def test_plot_and_cli(tmp_path):
    t = pw.power_table([20, 30], [0.0, 0.3], n_sim=10, families=["complementarity"], seed=1)
    path = pw.plot_power(t, tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code = pw.main(["--out", str(tmp_path / "cli"), "--n-couples", "20", "30", "--effects", "0", "0.3",
                    "--n-sim", "10", "--seed", "1", "--families", "complementarity"])
    assert code == 0
    csv = pd.read_csv(tmp_path / "cli" / "power.csv")
    assert list(csv.columns) == list(pw.POWER_COLUMNS)
    np.testing.assert_allclose(csv.power, t.power)
    assert (tmp_path / "cli" / "power.png").exists()
