"""The fast fit (in-place loss, one BLAS thread, optional CV tolerance) against a direct reference.

The reference loss below is the textbook formula written out in float64; the fast one must agree with
it and with a finite-difference gradient. The fast default fit must choose the same model as an
exhaustive one (no iteration cap, tiny tolerance, library thread default) on a seeded simulated bank,
with a held-out accuracy within 0.01 (observed difference: < 0.002).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from bayesbench.errors import ConfigError
from bayesbench.history import fit_bank
from bayesbench.history._factor import _loss_grad

from ._sim import factor_bank


def _reference(theta, H, M, n_obs, K, lam):
    nm, ni = H.shape
    U = theta[: nm * K].reshape(nm, K)
    V = theta[nm * K : nm * K + ni * K].reshape(ni, K)
    b = theta[nm * K + ni * K :]
    L = U @ V.T + b
    Mf = np.ones_like(H) if M is None else M
    loss = np.sum(Mf * (np.logaddexp(0.0, L) - H * L)) / n_obs + 0.5 * lam * (np.sum(U**2) + np.sum(V**2)) / n_obs
    R = Mf * (expit(L) - H) / n_obs
    return loss, np.concatenate([(R @ V + lam * U / n_obs).ravel(), (R.T @ U + lam * V / n_obs).ravel(), R.sum(0)])


@pytest.mark.parametrize("masked", [False, True])
def test_fast_loss_matches_the_reference_and_finite_differences(masked):
    rng = np.random.default_rng(3)
    nm, ni, K, lam = 40, 25, 3, 2.0
    theta = rng.normal(0, 1.5, nm * K + ni * K + ni)  # large logits: the stable branches are exercised
    H = (rng.random((nm, ni)) < 0.4).astype(np.float32)
    H[0, :5] = 0.5  # soft labels
    M = (rng.random((nm, ni)) < 0.8).astype(np.float32) if masked else None
    n_obs = int(M.sum()) if masked else nm * ni
    f, g = _loss_grad(theta, H, M, n_obs, K, lam)
    rf, rg = _reference(theta, H.astype(float), None if M is None else M.astype(float), n_obs, K, lam)
    assert f == pytest.approx(rf, rel=1e-5)
    np.testing.assert_allclose(g, rg, rtol=1e-4, atol=1e-7)
    for k in rng.choice(theta.size, 8, replace=False):  # central differences of the reference loss
        e = np.zeros_like(theta)
        e[k] = 1e-5
        fd = (
            _reference(theta + e, H.astype(float), None if M is None else M.astype(float), n_obs, K, lam)[0]
            - _reference(theta - e, H.astype(float), None if M is None else M.astype(float), n_obs, K, lam)[0]
        ) / 2e-5
        assert g[k] == pytest.approx(fd, rel=1e-3, abs=1e-7)


def test_fast_fit_matches_the_exhaustive_fit():
    bank, _ = factor_bank(n_models=300, n_items=120, rank=3, seed=5)
    fast = fit_bank(bank, ranks=(2, 3, 6), penalties=(1.0, 10.0), seed=0)
    tol = fit_bank(bank, ranks=(2, 3, 6), penalties=(1.0, 10.0), seed=0, cv_tol=1e-5)
    slow = fit_bank(
        bank, ranks=(2, 3, 6), penalties=(1.0, 10.0), seed=0, threads=None, maxiter=3000, cv_maxiter=None, tol=1e-12
    )
    for f in (fast, tol):
        assert (f.rank, f.penalty) == (slow.rank, slow.penalty)
        assert abs(f.heldout_accuracy - slow.heldout_accuracy) <= 0.01
        assert abs(f.heldout_log_loss - slow.heldout_log_loss) <= 0.01
        # the fitted probabilities agree closely (same model, slightly different stopping points)
        assert np.max(np.abs(expit(f.U @ f.V.T + f.b) - expit(slow.U @ slow.V.T + slow.b))) < 0.01


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"threads": 0}, "`threads` must be a positive integer or None"),
        ({"threads": 1.5}, "`threads`"),
        ({"tol": 0.0}, r"`tol` must be in \(0, 1\)"),
        ({"cv_tol": 2.0}, r"`cv_tol` must be in \(0, 1\)"),
    ],
)
def test_bad_fit_options(kw, match):
    bank, _ = factor_bank(n_models=40, n_items=20, rank=2, seed=0)
    with pytest.raises(ConfigError, match=match):
        fit_bank(bank, ranks=(2,), penalties=(1.0,), **kw)
