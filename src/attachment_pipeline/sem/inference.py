"""Information matrices, casewise scores and standard errors, as lavaan computes them.

Notation: ``m`` is a group's moment vector ``[mu, vech(Sigma)]``; ``Delta_g = dm_g/dtheta``;
``f_g = n_g / N``; information matrices are *per observation*.

- expected information (ML, complete data): ``I = sum_g f_g Delta_g' A_g Delta_g``
  with ``A_g`` the normal information at the implied moments
  (:func:`~attachment_pipeline.sem.data.normal_information`);
- observed information: ``I = H / 2``, with H the Hessian of the discrepancy F
  (``F = -2 logL / N + const``) from central differences of the analytic gradient
  (lavaan's ``observed.information = "hessian"``);
- first-order information: ``B = sum_g f_g (1/n_g) sum_i s_i s_i'`` with ``s_i``
  the casewise score ``d logL_i / dtheta = Delta_g' u_i`` and ``u_i`` the score in
  the moments: ``d/dmu = P_o d_i``, ``d/dsigma_a = m_a/2 [P_o d_i d_i' P_o - P_o]_a``
  over the items observed for respondent i (``P_o`` the inverse of their implied
  covariance, ``d_i`` the deviation from their implied mean, ``m_a`` 2 off the
  diagonal);
- standard errors: ``vcov = I^-1 / N`` (ML, FIML); robust (MLR, Huber-White):
  ``vcov = I^-1 B I^-1 / N`` with the observed information (lavaan 0.6's default
  for MLR and for FIML); DWLS robust (``se = "robust.sem"``):
  ``vcov = (D'WD)^-1 (sum_g f_g D_g' W_g Gamma_g W_g D_g) (D'WD)^-1 / (N - G)`` with
  ``D'WD = sum_g f_g Delta_g' W_g Delta_g`` (Muthen, du Toit & Spisic, 1997).

References: Savalei (2010) for the observed vs expected information with
incomplete data; Yuan & Bentler (2000) for the sandwich with FIML.
"""

from __future__ import annotations

import numpy as np

from .data import normal_information, trace_pairs, vech_multiplicity, vech_products
from .linalg import inv_sym as _inv_pd
from .linalg import sub_inverses
from .optimize import numerical_jacobian

__all__ = [
    "expected_information",
    "observed_information",
    "first_order_moments",
    "first_order_information",
    "fiml_observed_h1_information",
    "vcov_from_information",
    "sandwich",
]

_CHUNK = 8192
#: missing-data patterns per block of the pattern sums (keeps the K x p x p temporaries small)
_PATTERN_CHUNK = 1024
#: patterns with at least this many respondents get one matrix product of their own
_BIG_PATTERN = 64




def expected_information(est, theta: np.ndarray) -> np.ndarray:
    """Per-observation expected information of a normal-theory model at ``theta``."""
    model = est.model
    q = model.q
    out = np.zeros((q, q))
    w = est.n_g / est.N
    for g in range(model.G):
        imp = model.implied(theta, g)
        inv = _inv_pd(imp["cov"])
        a = normal_information(inv, model.vech_rows, model.vech_cols, model.meanstructure)
        jac = model.jacobian(theta, g)
        out += w[g] * jac.T @ a @ jac
    return (out + out.T) / 2


def observed_information(est, theta: np.ndarray) -> np.ndarray:
    """Per-observation observed information: half the Hessian of F.

    ``H = sum_g c_g (Delta_g' H_g Delta_g + d/dtheta [Delta_g(theta)' f_g])`` with
    ``H_g = 2 A_g`` the Hessian of F_g in the moments (``A_g`` from
    :func:`fiml_observed_h1_information` at the implied moments) and ``f_g = dF_g/dm``
    held fixed; the last term, which needs only the model (no data) and is small
    near a well-fitting optimum, by two-point central differences. Equal to lavaan's numerical Hessian of the analytic gradient
    (``observed.information = "hessian"``) up to its differencing error.
    """
    model = est.model
    q = model.q
    h = np.zeros((q, q))
    for g, gd in enumerate(est.groups):
        imp = model.implied(theta, g)
        mean = imp["mean"] if model.meanstructure else gd.mean
        a = fiml_observed_h1_information(model, gd, mean, imp["cov"])
        jac = model.jacobian(theta, g)
        fm = est.moment_gradient(theta, g)
        # only the parameters group g's matrices use move its Jacobian, and only its columns for them are
        # nonzero: the other rows and columns are exactly zero, and skipping them matters with many groups
        # (20 groups: ~2,000 parameters, ~110 each)
        used = model.group_parameters(g)
        second = np.zeros((q, q))
        second[np.ix_(used, used)] = _central_jacobian(lambda th: model.jacobian(th, g, used).T @ fm, theta, used)
        h += est.c[g] * (jac.T @ (2 * a) @ jac + (second + second.T) / 2)
    return (h + h.T) / 4


def _central_jacobian(fun, x: np.ndarray, columns=None, h: float = 1e-5) -> np.ndarray:
    """Two-point central differences (error O(h^2)); enough for the small second-derivative term.

    ``columns``: the coordinates of ``x`` to differentiate in (default all); one column each, in that order.
    """
    cols = []
    for j in (range(len(x)) if columns is None else columns):
        e = np.zeros_like(x)
        e[j] = h * max(1.0, abs(x[j]))
        cols.append((fun(x + e) - fun(x - e)) / (2 * e[j]))
    return np.column_stack(cols)


#: the last result of :func:`pattern_inverses` (the observed and the first-order information
#: of a model, and of the saturated model, are computed at the same moments)
_PINV_LAST: dict = {}


def pattern_inverses(gd, cov: np.ndarray) -> np.ndarray:
    """Per missing-data pattern k, ``(Sigma_oo)^-1`` over its observed items, padded with zeros (K x p x p).

    Computed for all patterns of one size at once (:func:`~attachment_pipeline.sem.linalg.sub_inverses`);
    the last result is kept (read-only) for the next call with the same group and covariance matrix.
    """
    cov = np.ascontiguousarray(cov, dtype=float)
    key = (gd.key, cov.tobytes())
    if key in _PINV_LAST:
        return _PINV_LAST[key]
    _PINV_LAST.clear()
    out = _pattern_inverses(gd, cov)
    out.flags.writeable = False
    _PINV_LAST[key] = out
    return out


def forget_pattern_inverses() -> None:
    """Drop the kept result of :func:`pattern_inverses` (K x p x p; the engine calls this when a fit is done)."""
    _PINV_LAST.clear()


def _pattern_inverses(gd, cov: np.ndarray) -> np.ndarray:
    """:func:`pattern_inverses` without the memory of the last result."""
    lay = gd.layout
    out = np.zeros((len(gd.patterns), gd.p, gd.p))
    for ks, obs, mis in lay.sizes:
        ci = sub_inverses(cov, obs, mis)
        if ci is None:
            raise ValueError("The implied covariance matrix of the observed items is not positive definite; "
                             "robust statistics cannot be computed.")
        out[ks[:, None, None], obs[:, :, None], obs[:, None, :]] = ci[0]
    return out


def _casewise_moment_scores(model, gd, mean: np.ndarray, cov: np.ndarray, jac: np.ndarray | None = None,
                            positions: np.ndarray | None = None, pinv: np.ndarray | None = None):
    """Yield blocks of casewise scores ``u_i`` (rows x moments) of the normal log-likelihood at (mean, cov),
    or with ``jac`` the scores in the parameters ``u_i' Delta`` (rows x q).

    ``u_i`` over each respondent's observed items (see the module docstring), for
    the respondents at ``positions`` of the pattern order (all by default) in blocks
    of at most ``_CHUNK`` rows: with ``P_k`` the padded inverse of pattern k
    (:func:`pattern_inverses`, or ``pinv``) and ``d_i`` the deviations with zeros for
    missing answers, ``v_i = P_k d_i`` (one matrix product for the rows of a large
    pattern, a batched product for the rest), the mean part is ``v_i`` and the
    covariance part ``m_a/2 (v_i v_i' - P_k)_a`` (the products ``v_a v_b`` by
    :func:`~attachment_pipeline.sem.data.vech_products`). With ``jac``, the pattern
    term ``m_a/2 (P_k)_a`` is multiplied by the Jacobian once per pattern rather than
    once per row.
    """
    if gd.x is None:
        raise ValueError("Robust statistics need the raw data, not only moments.")
    lay = gd.layout
    rows_v, cols_v = model.vech_rows, model.vech_cols
    p = model.p
    half_m = 0.5 * vech_multiplicity(rows_v, cols_v)
    if pinv is None:
        pinv = pattern_inverses(gd, cov)
    const = half_m * pinv[:, rows_v, cols_v]                     # K x vech
    off = p if model.meanstructure else 0
    if jac is not None:
        jac_cov = jac[off:] * half_m[:, None]
        const = const @ jac[off:]                                 # K x q
    big = lay.n >= _BIG_PATTERN
    if positions is None:
        positions = np.arange(gd.n)
    left = np.empty((min(_CHUNK, len(positions)), len(rows_v)))
    for start in range(0, len(positions), _CHUNK):
        at = positions[start:start + _CHUNK]
        rows = lay.order[at]
        pat = lay.pattern[at]
        d = gd.x[rows] - mean
        d[np.isnan(d)] = 0.0
        v = np.empty_like(d)
        small = ~big[pat]
        if small.any():
            v[small] = np.einsum("rij,rj->ri", pinv[pat[small]], d[small])
        for k in np.unique(pat[~small]):                          # the few large patterns: one product each
            on = pat == k
            v[on] = d[on] @ pinv[k]
        vv = vech_products(v, out=left[:len(rows)])               # v_a v_b for every vech element
        if jac is not None:
            scores = vv @ jac_cov - const[pat]
            if model.meanstructure:
                scores += v @ jac[:p]
            yield scores
            continue
        vv *= half_m
        vv -= const[pat]
        yield np.concatenate([v, vv], axis=1) if model.meanstructure else vv.copy()


def _pattern_score_maps(model, gd, mean: np.ndarray, pinv: np.ndarray, jac: np.ndarray):
    """Per large pattern k (:class:`~attachment_pipeline.sem.data.PatternProducts`), the affine map
    ``s_i = a_k + G_k z_i`` from ``z_i = [y_i, vech(y_i y_i')]`` to the casewise scores in the parameters.

    With ``y_i = x_i - m_k`` (deviation from the pattern's mean), ``b = P_k (m_k - mu)``,
    ``D_t = dSigma/dtheta_t`` and ``mu_t = dmu/dtheta_t``, the score
    ``s_it = 1/2 v_i' D_t v_i + mu_t' v_i - 1/2 tr(P_k D_t)`` with ``v_i = P_k y_i + b`` is
    ``a_t = 1/2 b' D_t b + mu_t' b - 1/2 tr(P_k D_t)`` plus
    ``(P_k (D_t b + mu_t))' y_i`` plus ``sum_(a>=b) m_ab/2 (P_k D_t P_k)_ab y_ia y_ib``.
    Yields (t, a_k, G_k) for the t-th pattern of ``gd.products``.
    """
    p = model.p
    rows_v, cols_v = model.vech_rows, model.vech_cols
    half_m = 0.5 * vech_multiplicity(rows_v, cols_v)
    q = jac.shape[1]
    off = p if model.meanstructure else 0
    jac_mu = jac[:p] if model.meanstructure else np.zeros((p, q))
    dsig = np.zeros((q, p, p))                                   # D_t, symmetric
    dsig[:, rows_v, cols_v] = jac[off:].T
    dsig[:, cols_v, rows_v] = jac[off:].T
    lay = gd.layout
    for t, k in enumerate(gd.products.patterns):
        pk = pinv[k]
        delta = np.where(lay.observed[k], lay.mean[k] - mean, 0.0)
        b = pk @ delta
        pd_ = pk @ dsig                                          # P D_t (q x p x p)
        g_w = (pd_ @ pk)[:, rows_v, cols_v] * half_m
        g_y = pd_ @ b + jac_mu.T @ pk
        a = 0.5 * (dsig @ b) @ b + jac_mu.T @ b - 0.5 * np.trace(pd_, axis1=1, axis2=2)
        yield t, a, np.concatenate([g_y, g_w], axis=1)


def _score_products(model, gd, mean: np.ndarray, cov: np.ndarray, jac: np.ndarray | None = None) -> np.ndarray:
    """``sum_i s_i s_i'`` over the group's respondents, ``s_i`` the casewise scores in the moments
    (``jac`` None) or in the parameters (``Delta' u_i``).

    The large patterns' rows enter through their moment matrices (computed once per
    group, :attr:`~attachment_pipeline.sem.data.GroupData.products`): with the affine
    map ``s_i = a + G z_i`` of :func:`_pattern_score_maps`,
    ``sum_i s_i s_i' = n_k a a' + a (G sum z)' + (G sum z) a' + G (sum z z') G'``;
    the other rows by their scores (:func:`_casewise_moment_scores`), one symmetric
    product per block.
    """
    pinv = pattern_inverses(gd, cov)
    prod = gd.products
    k = model.n_moments if jac is None else jac.shape[1]
    out = np.zeros((k, k))
    for s in _casewise_moment_scores(model, gd, mean, cov, jac, positions=prod.rest, pinv=pinv):
        out += s.T @ s
    if len(prod.patterns):
        jac_m = np.eye(model.n_moments) if jac is None else jac
        n = gd.layout.n
        for t, a, g in _pattern_score_maps(model, gd, mean, pinv, jac_m):
            gz = g @ prod.sum_z[t]
            out += (n[prod.patterns[t]] * a[:, None] * a[None, :] + a[:, None] * gz[None, :] + gz[:, None] * a[None, :]
                    + (g @ prod.zz[t]) @ g.T)
    return (out + out.T) / 2


def first_order_moments(model, gd, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``B1_g = (1/n_g) sum_i u_i u_i'``: first-order information of group g in the moments
    (:func:`_score_products`)."""
    return _score_products(model, gd, mean, cov) / gd.n


def first_order_information(est, theta: np.ndarray) -> np.ndarray:
    """``B0 = sum_g f_g (1/n_g) sum_i s_i s_i'`` with ``s_i = Delta_g' u_i``: first-order information
    at the model (:func:`_score_products` with the model's Jacobian: q columns instead of all moments)."""
    model = est.model
    q = model.q
    out = np.zeros((q, q))
    w = est.n_g / est.N
    for g, gd in enumerate(est.groups):
        imp = model.implied(theta, g)
        mean = imp["mean"] if model.meanstructure else gd.mean  # saturated means without a mean structure
        out += w[g] * _score_products(model, gd, mean, imp["cov"], model.jacobian(theta, g)) / gd.n
    return (out + out.T) / 2


def fiml_observed_h1_information(model, gd, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Observed information (per observation) of the normal log-likelihood in the moments, at (mean, cov).

    Per pattern k with ``P = Sigma_oo^-1``, ``d = m_k - mu_o``, ``W = S_k + d d'``,
    ``Q = P W P`` (lavaan ``lav_mvnorm_missing_information_observed_samplestats``):
    ``mu,mu: n_k P``; ``mu_i,sigma_a: n_k (P E_a P d)_i``;
    ``sigma_a,sigma_b: n_k/2 (2 tr(P E_a Q E_b) - tr(P E_a P E_b))``; summed over
    patterns and divided by n_g. At the saturated estimates with complete data it
    is the normal information at the sample moments.

    The sums over patterns are formed once as
    ``Z = sum_k n_k vech(P_k) vech(Q_k)'`` (P_k and Q_k padded with zeros for the
    missing items; one matrix product per block of patterns, with
    ``Q_k = P_k S_k P_k + v_k v_k'``, ``v_k = P_k d``), from which every
    ``tr(X E_a Y E_b)`` is gathered (:func:`_trace_pairs_z`); the mean block
    ``sum_k n_k P_k`` and the cross block ``C[i, a, l] = sum_k n_k P_k[i, a] v_k[l]``
    are matrix products over the patterns too.
    """
    p = model.p
    rows, cols = model.vech_rows, model.vech_cols
    lay = gd.layout
    k_pat = len(gd.patterns)
    pv = pattern_inverses(gd, cov)
    d = np.where(lay.observed, lay.mean - mean, 0.0)
    vv = np.einsum("kij,kj->ki", pv, d)
    n = lay.n
    root_n = np.sqrt(n)
    at = rows * p + cols                                          # vech positions in a row-major p x p matrix
    z_pq = np.zeros((len(rows), len(rows)))
    z_pp = np.zeros_like(z_pq)
    for lo in range(0, k_pat, _PATTERN_CHUNK):
        sl = slice(lo, lo + _PATTERN_CHUNK)
        pc = pv[sl]
        qc = pc @ lay.cov[sl] @ pc + vv[sl, :, None] * vv[sl, None, :]
        ph = np.take(pc.reshape(len(pc), -1), at, axis=1)
        z_pq += (ph * n[sl, None]).T @ np.take(qc.reshape(len(qc), -1), at, axis=1)
        ph *= root_n[sl, None]
        z_pp += ph.T @ ph
    cov_block = 0.5 * (2 * _trace_pairs_z(z_pq, p, rows, cols) - _trace_pairs_z(z_pp, p, rows, cols))
    if not model.meanstructure:
        return cov_block / gd.n
    k = model.n_moments
    out = np.zeros((k, k))
    pn = (pv.reshape(k_pat, -1) * n[:, None]).T                  # p^2 x K
    out[:p, :p] = pn.sum(axis=1).reshape(p, p)
    out[p:, p:] = cov_block
    # C[i, a, l] = sum_k n_k P_k[i, a] v_k[l]
    c = (pn @ vv).reshape(p, p, p)
    mult = vech_multiplicity(rows, cols)
    cross = 0.5 * mult[None, :] * (c[:, rows, cols] + c[:, cols, rows])
    out[:p, p:] = cross
    out[p:, :p] = cross.T
    return out / gd.n


def _trace_pairs_z(z: np.ndarray, p: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``sum_k n_k tr(X_k E_a Y_k E_b)`` from ``Z = sum_k n_k vech(X_k) vech(Y_k)'`` (X_k, Y_k symmetric).

    ``tr(X E_a Y E_b) = m_a m_b / 4 (X_ik Y_jl + X_il Y_jk + X_jk Y_il + X_jl Y_ik)`` for
    ``a = (i, j)``, ``b = (k, l)``, and ``X_ik Y_jl = Z[v(i, k), v(j, l)]`` with ``v`` the vech
    position of an element of either triangle.

    >>> r, c = np.array([0, 1, 1]), np.array([0, 0, 1])
    >>> x, y = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[1.0, -0.3], [-0.3, 3.0]])
    >>> bool(np.allclose(_trace_pairs_z(np.outer(x[r, c], y[r, c]), 2, r, c), trace_pairs(x, y, r, c)))
    True
    """
    pos = np.zeros((p, p), dtype=np.int64)
    pos[rows, cols] = np.arange(len(rows))
    pos[cols, rows] = np.arange(len(rows))
    i, j = rows[:, None], cols[:, None]
    kk, ll = rows[None, :], cols[None, :]
    t = z[pos[i, kk], pos[j, ll]] + z[pos[i, ll], pos[j, kk]] + z[pos[j, kk], pos[i, ll]] + z[pos[j, ll], pos[i, kk]]
    m = vech_multiplicity(rows, cols)
    return t * np.outer(m, m) / 4


def vcov_from_information(info: np.ndarray, n: float) -> np.ndarray:
    """``I^-1 / n`` (NaN if the information is singular)."""
    try:
        return _inv_pd(info) / n
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)


def sandwich(info: np.ndarray, meat: np.ndarray, n: float) -> np.ndarray:
    """``I^-1 B I^-1 / n`` (Huber, 1967; White, 1982)."""
    try:
        a = _inv_pd(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)
    v = a @ meat @ a
    return (v + v.T) / 2 / n
