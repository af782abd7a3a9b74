"""Convex-RF (issue 5, Algorithm 2): filters, features, determinism, Dask, bad inputs."""
import warnings

import numpy as np
import pytest

from fastconvexrelu import _core, hull_neurons
from fastconvexrelu.convex_rf import ConvexRF, ConvexRFClassifier


def _images(n=12, H=10, W=9, C=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, H, W, C)).astype(np.uint8)


def _reference_features(X, rf):
    """Direct loops: normalize every patch, whiten, Lemma 2.7 response, ReLU, pool (float64)."""
    ph, pw = (rf.patch_size, rf.patch_size) if np.isscalar(rf.patch_size) else rf.patch_size
    s, g = rf.stride, rf.pool_grid
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:
        X = X[..., None]
    n, H, W, C = X.shape
    oh, ow = (H - ph) // s + 1, (W - pw) // s + 1
    U = rf.filters_  # (P, K) whitened-space filters
    c = rf.hull_biases_ if rf.bias == "hull" else np.zeros(U.shape[0])
    t = rf.threshold
    signs = (1.0, -1.0) if rf.polarity == "split" else (1.0,)
    P = U.shape[0] * len(signs)
    out = np.zeros((n, g * g * P))
    for i in range(n):
        for oy in range(oh):
            for ox in range(ow):
                p = X[i, oy * s:oy * s + ph, ox * s:ox * s + pw, :].ravel()
                if rf.epsilon is not None:
                    p = (p - p.mean()) / np.sqrt(p.var(ddof=1) + rf.epsilon)
                z = (p - rf.whitening_mean_) @ rf.whitening_ if rf.whiten else p
                r = np.concatenate([np.maximum(sg * (U @ z + c) - t, 0.0) for sg in signs])
                reg = (oy * g // oh) * g + (ox * g // ow)
                sl = slice(reg * P, (reg + 1) * P)
                out[i, sl] = np.maximum(out[i, sl], r) if rf.pooling == "max" else out[i, sl] + r
    return out


@pytest.mark.parametrize("whiten", [True, False])
def test_filters_are_hull_neurons_of_the_normalized_whitened_patches(whiten):
    X = _images()
    rf = ConvexRF(n_filters=60, patch_size=4, whiten=whiten, random_state=3).fit(X)
    img, oy, ox = rf.patch_indices_.T
    raw = np.stack([X[i, a:a + 4, b:b + 4, :].ravel() for i, a, b in zip(img, oy, ox)])
    raw = raw.astype(np.float64)
    # Algorithm 2 step 4, computed independently
    m = raw.mean(1, keepdims=True)
    Pn = (raw - m) / np.sqrt(raw.var(1, ddof=1, keepdims=True) + 10.0)
    if whiten:  # step 7
        mu = Pn.mean(0)
        D, V = np.linalg.eigh(np.cov(Pn, rowvar=False))
        Z = (Pn - mu) @ (V @ np.diag(1 / np.sqrt(np.maximum(D, 0) + 0.1)) @ V.T)
    else:
        Z = Pn
    np.testing.assert_allclose(rf.patches_, Z, atol=1e-9)
    U, b, dist = hull_neurons(Z)
    assert np.all(dist > 0) and rf.filters_.shape == (60, 48)
    np.testing.assert_allclose(rf.filters_, U.T, atol=1e-8)
    np.testing.assert_allclose(rf.hull_biases_, b, atol=1e-8)
    np.testing.assert_allclose(rf.distances_, dist, atol=1e-10)
    # Lemma 2.7: u_i^T z_i + b_i = d_i and u_i^T z_j + b_i <= 0 for j != i
    A = Z @ rf.filters_.T + rf.hull_biases_
    np.testing.assert_allclose(np.diag(A), dist, atol=1e-8)
    assert (A - np.diag(np.diag(A))).max() <= 1e-8


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(pooling="max", bias="hull", stride=2),
        dict(whiten=False, epsilon=None, patch_size=(3, 5), pool_grid=3),
        dict(polarity="split", threshold=0.25),
        dict(polarity="split", pooling="max", bias="hull", threshold=0.1, pool_grid=3),
        dict(threshold=0.5, whiten=False),
    ],
)
@pytest.mark.parametrize("kernel", [0, 1])
def test_features_match_direct_numpy_reference(kw, kernel):
    X = _images(n=5)
    rf = ConvexRF(n_filters=30, patch_size=kw.pop("patch_size", 4), random_state=0, chunk_size=2,
                  **kw).fit(X)
    ref = _reference_features(X, rf)
    F = np.concatenate([f for _, _, f in rf._iter_features(X, kernel=kernel)])
    assert F.dtype == np.float32 and F.shape == (5, rf.n_features_out_)
    # float32 kernel: relative error ~ K * 2^-24
    np.testing.assert_allclose(F, ref, rtol=2e-4, atol=2e-4 * np.abs(ref).max())
    if kernel == 0:
        np.testing.assert_array_equal(rf.transform(X), F)


def test_grayscale_and_deterministic_random_state_and_uint8_float_equal():
    X = _images(n=8, C=1)[..., 0]  # (n, H, W)
    a = ConvexRF(n_filters=20, patch_size=3, random_state=7).fit(X)
    b = ConvexRF(n_filters=20, patch_size=3, random_state=7).fit(X.astype(np.float64))
    c = ConvexRF(n_filters=20, patch_size=3, random_state=8).fit(X)
    np.testing.assert_array_equal(a.filters_, b.filters_)
    Fa = a.transform(X)
    np.testing.assert_array_equal(Fa, a.transform(X))
    np.testing.assert_array_equal(Fa, b.transform(X.astype(np.float32)))
    np.testing.assert_array_equal(Fa, a.transform(X[..., None].astype(np.float64)))
    assert not np.array_equal(a.patch_indices_, c.patch_indices_)
    np.testing.assert_allclose(Fa, _reference_features(X, a), rtol=2e-4,
                               atol=2e-4 * np.abs(Fa).max())


def test_duplicate_patches_are_dropped_with_a_warning():
    X = np.zeros((4, 6, 6), dtype=np.uint8)  # all patches constant -> normalized to 0
    X[0, :3, :3] = 200
    with pytest.warns(UserWarning, match="convex hull"):
        rf = ConvexRF(n_filters=60, patch_size=3, whiten=False, random_state=0).fit(X)
    assert 0 < rf.filters_.shape[0] < 60
    assert rf.n_features_out_ == 4 * rf.filters_.shape[0]
    assert np.all(np.isfinite(rf.transform(X)))


def test_bad_inputs():
    X = _images(n=4, H=8, W=8, C=3)
    rf = ConvexRF(n_filters=10, patch_size=3, random_state=0)
    with pytest.raises(ValueError, match="rank"):
        rf.fit(X[0, :, :, 0])
    with pytest.raises(ValueError, match="rank"):
        rf.fit(X[None])
    with pytest.raises(ValueError, match="larger than the images"):
        ConvexRF(n_filters=10, patch_size=9).fit(X)
    with pytest.raises(ValueError, match="n_filters"):
        ConvexRF(n_filters=4 * 36 + 1, patch_size=3).fit(X)
    Xn = X.astype(np.float64)
    Xn[2, 5, 5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rf.fit(Xn)
    rf.fit(X)
    with pytest.raises(ValueError, match="NaN"):
        rf.transform(Xn)
    with pytest.raises(ValueError, match="channels"):
        rf.transform(X[..., :2])
    with pytest.raises(ValueError, match="image shape"):
        rf.transform(X[:, :7])
    with pytest.raises(ValueError, match="channels"):
        rf.transform(X[..., 0])
    with pytest.raises(ValueError, match="dtype"):
        rf.fit(X.astype(complex))
    for bad in (dict(n_filters=0), dict(stride=0), dict(epsilon=-1.0), dict(pooling="mean"),
                dict(bias="yes"), dict(pool_grid=0), dict(chunk_size=0), dict(whiten="yes"),
                dict(threshold=-0.1), dict(threshold=np.nan), dict(polarity="both")):
        with pytest.raises(ValueError):
            ConvexRF(**{"n_filters": 10, "patch_size": 3, **bad}).fit(X)
    with pytest.raises(ValueError, match="not fitted"):
        ConvexRF().transform(X)
    # the C++ layer re-checks
    with pytest.raises(ValueError):
        _core.patch_features(np.zeros((1, 10), np.float32), 2, 5, 1, np.zeros((4, 2), np.float32),
                             np.zeros(2, np.float32), 3, 3)
    with pytest.raises(ValueError, match="threshold"):
        _core.patch_features(np.zeros((1, 9), np.float32), 3, 3, 1, np.zeros((4, 2), np.float32),
                             np.zeros(2, np.float32), 2, 2, 1, 10.0, 1, "sum", 1, 0, np.inf, True)


def test_split_polarity_is_the_mirrored_neurons():
    """polarity="split" = the features of the filters [u, -u] with biases [c - t, -c - t]."""
    X = _images(n=6)
    kw = dict(n_filters=25, patch_size=4, random_state=1, bias="hull", threshold=0.3)
    rf = ConvexRF(polarity="split", **kw).fit(X)
    one = ConvexRF(polarity="one", **kw).fit(X)
    assert rf.n_features_out_ == 2 * one.n_features_out_
    P = rf.filters_.shape[0]
    mirrored = ConvexRF(**{**kw, "threshold": 0.0}).fit(X)
    mirrored.effective_filters_ = np.ascontiguousarray(
        np.hstack([one.effective_filters_, -one.effective_filters_]))
    mirrored.effective_bias_ = np.ascontiguousarray(
        np.concatenate([one.effective_bias_ - 0.3, -one.effective_bias_ - 0.3]), dtype=np.float32)
    Fm = mirrored.transform(X).reshape(6, 4, 2 * P)
    Fs = rf.transform(X).reshape(6, 4, 2, P).reshape(6, 4, 2 * P)
    np.testing.assert_allclose(Fs, Fm, rtol=1e-5, atol=1e-5 * np.abs(Fm).max())
    np.testing.assert_array_equal(Fs[:, :, :P], one.transform(X).reshape(6, 4, P))


def test_classifier_separable_and_lasso_certificate():
    rng = np.random.default_rng(0)
    n = 120
    y = rng.integers(0, 3, n)
    X = rng.integers(0, 60, size=(n, 8, 8)).astype(np.float64)
    for k in range(3):  # class k: bright block in region k
        X[y == k, (k // 2) * 4:(k // 2) * 4 + 4, (k % 2) * 4:(k % 2) * 4 + 4] += 150
    clf = ConvexRFClassifier(n_filters=40, patch_size=3, beta=1e-3, tol=1e-8, random_state=0)
    clf.fit(X, y)
    assert clf.converged_ and np.all(clf.duality_gaps_ <= 1e-8 * clf.objectives_ + 1e-15)
    assert clf.score(X, y) >= 0.95
    # the output layer solves the stated lasso: compare with an independent solver
    from sklearn.linear_model import Lasso

    F = clf.transform(X).astype(np.float64)
    sd = F.std(0)
    live = sd > 0
    Fs = (F[:, live] - F[:, live].mean(0)) / sd[live]
    yk = (y == 1).astype(float)
    ref = Lasso(alpha=1e-3, tol=1e-12, max_iter=200000).fit(Fs, yk)
    np.testing.assert_allclose(clf.coef_[live, 1] * sd[live], ref.coef_, atol=2e-4)
    np.testing.assert_allclose(clf.decision_function(X)[:, 1], ref.predict(Fs), atol=1e-4)


def test_gram_lasso_against_sklearn_and_gap_is_an_upper_bound():
    rng = np.random.default_rng(1)
    n, p = 200, 30
    Xm = rng.standard_normal((n, p)) + 0.8 * rng.standard_normal((n, 1))
    Y = rng.standard_normal((n, 2))
    from sklearn.linear_model import Lasso

    G, Cm, yy = Xm.T @ Xm / n, Xm.T @ Y / n, (Y ** 2).sum(0) / n
    r = _core.gram_lasso(G, np.asfortranarray(Cm), yy, 0.05, 1e-12, 1000, 2)
    for k in range(2):
        ref = Lasso(alpha=0.05, fit_intercept=False, tol=1e-14, max_iter=100000).fit(Xm, Y[:, k])
        np.testing.assert_allclose(r["W"][:, k], ref.coef_, atol=1e-7)
    # an early stop: the reported gap bounds the true suboptimality
    r1 = _core.gram_lasso(G, np.asfortranarray(Cm), yy, 0.05, 1e-12, 1, 1, max_newton=0)
    obj = lambda w, k: 0.5 * np.sum((Xm @ w - Y[:, k]) ** 2) / n + 0.05 * np.abs(w).sum()  # noqa
    for k in range(2):
        sub = obj(r1["W"][:, k], k) - obj(r["W"][:, k], k)
        assert sub > 0 and r1["gap"][k] >= sub - 1e-12
        assert abs(r1["primal"][k] - obj(r1["W"][:, k], k)) < 1e-12


@pytest.mark.parametrize("direct_newton_max", [3000, 0])
def test_gram_lasso_converges_on_correlated_features_with_a_large_support(direct_newton_max):
    # ReLU features of correlated directions and a small beta: most coordinates stay active,
    # where coordinate descent alone crawls; the projected Newton steps must reach the optimum
    # (checked against CVXPY + Clarabel) within a few epochs -- with Cholesky directions, and
    # with conjugate-gradient directions (direct_newton_max=0, the path of large supports)
    rng = np.random.default_rng(3)
    n, p = 400, 150
    Z = rng.standard_normal((n, 20))
    Xm = np.maximum(Z @ (rng.standard_normal((20, p)) + 2.0), 0.0)
    Xm = (Xm - Xm.mean(0)) / Xm.std(0)
    Y = rng.standard_normal((n, 2)) + Xm[:, :2]
    cp = pytest.importorskip("cvxpy")

    beta = 1e-4
    G, Cm, yy = Xm.T @ Xm / n, Xm.T @ Y / n, (Y ** 2).sum(0) / n
    r = _core.gram_lasso(G, np.asfortranarray(Cm), yy, beta, 1e-10, 40, 1,
                         direct_newton_max=direct_newton_max)
    assert all(r["converged"]), (r["n_epochs"], r["gap"] / r["primal"])
    obj = lambda w, k: 0.5 * np.sum((Xm @ w - Y[:, k]) ** 2) / n + beta * np.abs(w).sum()  # noqa
    for k in range(2):
        assert np.count_nonzero(r["W"][:, k]) > 50
        w = cp.Variable(p)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Xm @ w - Y[:, k]) / n
                                      + beta * cp.norm1(w)))
        prob.solve(solver="CLARABEL")
        assert obj(r["W"][:, k], k) <= prob.value + 1e-7 * abs(prob.value)
        assert r["gap"][k] >= obj(r["W"][:, k], k) - prob.value - 1e-7 * abs(prob.value)


def test_dask_equals_in_process():
    distributed = pytest.importorskip("distributed")
    X = _images(n=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        kw = dict(n_filters=50, patch_size=4, random_state=5, chunk_size=3)
        a = ConvexRF(**kw).fit(X)
        b = ConvexRF(client=client, **kw).fit(X)
        np.testing.assert_allclose(b.filters_, a.filters_, atol=1e-9)
        np.testing.assert_allclose(b.hull_biases_, a.hull_biases_, atol=1e-9)
        Fa, Fb = a.transform(X), b.transform(X)
        np.testing.assert_allclose(Fb, Fa, rtol=1e-5, atol=1e-5 * np.abs(Fa).max())
        # same filters -> identical features (same kernel, per image)
        b.effective_filters_, b.effective_bias_ = a.effective_filters_, a.effective_bias_
        np.testing.assert_array_equal(b.transform(X), Fa)
        # the split neurons and the threshold travel to the workers too
        kw.update(polarity="split", threshold=0.2)
        a, b = ConvexRF(**kw).fit(X), ConvexRF(client=client, **kw).fit(X)
        b.effective_filters_, b.effective_bias_ = a.effective_filters_, a.effective_bias_
        np.testing.assert_array_equal(b.transform(X), a.transform(X))
        # the classifier's Gram pass over Dask chunks equals the in-process one
        y = np.arange(10) % 2
        for hflip in (False, True):  # mirrored chunks also go to the workers
            ca = ConvexRFClassifier(penalty="l2", beta=0.1, hflip=hflip, **kw).fit(X, y)
            cb = ConvexRFClassifier(penalty="l2", beta=0.1, hflip=hflip, client=client,
                                    **kw).fit(X, y)
            np.testing.assert_allclose(cb.decision_function(X), ca.decision_function(X),
                                       atol=1e-5)
    finally:
        client.close()
        cluster.close()


def test_constant_and_repeated_patches_are_skipped_when_others_are_available():
    rng = np.random.default_rng(4)
    X = np.zeros((30, 12, 12), dtype=np.uint8)  # mostly zero background, like MNIST
    X[:, 4:8, 4:8] = rng.integers(1, 256, size=(30, 4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rf = ConvexRF(n_filters=40, patch_size=3, whiten=False, random_state=0).fit(X)
    assert rf.filters_.shape[0] == 40
    img, oy, ox = rf.patch_indices_.T
    raw = np.stack([X[i, a:a + 3, b:b + 3].ravel() for i, a, b in zip(img, oy, ox)])
    assert np.all(raw.max(1) > raw.min(1)) and len(np.unique(raw, axis=0)) == 40


def _blocks(n=150, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.integers(0, 60, size=(n, 8, 8)).astype(np.float64)
    for k in range(3):  # class k: bright block in region k, weakened by noise
        X[y == k, (k // 2) * 4:(k // 2) * 4 + 4, (k % 2) * 4:(k % 2) * 4 + 4] += 60
    return X, y


def test_classifier_l2_penalty_is_ridge_on_standardized_features():
    from sklearn.linear_model import Ridge

    X, y = _blocks()
    beta = 0.05
    clf = ConvexRFClassifier(n_filters=30, patch_size=3, penalty="l2", beta=beta, polarity="split",
                             threshold=0.1, random_state=0).fit(X, y)
    F = clf.transform(X).astype(np.float64)
    sd = F.std(0)
    live = sd > 0
    Fs = (F[:, live] - F[:, live].mean(0)) / sd[live]
    Y = np.eye(3)[y]
    # (1/2n)||Fs w + w0 - y||^2 + beta/2 ||w||^2  <=>  sklearn Ridge(alpha = n beta)
    ref = Ridge(alpha=len(y) * beta).fit(Fs, Y)
    np.testing.assert_allclose(clf.coef_[live] * sd[live][:, None], ref.coef_.T, atol=1e-6)
    np.testing.assert_allclose(clf.decision_function(X), ref.predict(Fs), atol=1e-6)
    # the reported gap bounds the suboptimality; here it is at rounding level
    assert np.all(clf.duality_gaps_ >= 0) and np.all(clf.duality_gaps_ <= 1e-10)
    assert clf.beta_ == beta and clf.validation_scores_ is None


def _fit_with_filters_of(clf, X, y, **kw):
    """A classifier fitted on (X, y) with the filters of ``clf`` (fitted on all images, as in
    the validation path) instead of new ones."""
    sub = ConvexRFClassifier(**kw)
    sub._make_rf = lambda: clf.rf_
    rf_fit = clf.rf_.fit
    clf.rf_.fit = lambda X: clf.rf_  # noqa: E731 - keep the fitted filters
    try:
        return sub.fit(X, y)
    finally:
        clf.rf_.fit = rf_fit


def _bands(n=150, seed=0):
    """Class k: a bright block in row band k, left of the centre (so a mirror image differs)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.integers(0, 60, size=(n, 9, 8)).astype(np.float64)
    for k in range(3):
        X[y == k, 3 * k:3 * k + 3, 1:4] += 60
    return X, y


def test_classifier_hflip_is_ridge_on_images_and_their_mirrors():
    from sklearn.linear_model import Ridge

    X, y = _bands()
    beta = 0.05
    clf = ConvexRFClassifier(n_filters=30, patch_size=3, penalty="l2", beta=beta, hflip=True,
                             polarity="split", threshold=0.1, random_state=0).fit(X, y)
    Xm = X[:, :, ::-1]
    F, Fm = clf.transform(X).astype(np.float64), clf.transform(Xm).astype(np.float64)
    A = np.vstack([F, Fm])  # 2n rows: every image and its mirror
    sd = A.std(0)
    live = sd > 0
    mu = A[:, live].mean(0)
    ref = Ridge(alpha=A.shape[0] * beta).fit((A[:, live] - mu) / sd[live], np.eye(3)[np.r_[y, y]])
    np.testing.assert_allclose(clf.coef_[live] * sd[live][:, None], ref.coef_.T, atol=1e-6)
    # scores: the mean over the image and its mirror (a mirror-symmetric classifier)
    want = ref.predict(((F + Fm)[:, live] / 2 - mu) / sd[live])
    np.testing.assert_allclose(clf.decision_function(X), want, atol=1e-6)
    np.testing.assert_allclose(clf.decision_function(Xm), want, atol=1e-6)
    with pytest.raises(ValueError, match="hflip"):
        ConvexRFClassifier(n_filters=30, patch_size=3, hflip="yes").fit(X, y)


def test_classifier_hflip_validation_holds_out_the_mirrors_too():
    X, y = _bands()
    kw = dict(n_filters=30, patch_size=3, penalty="l2", hflip=True, random_state=4,
              validation_fraction=0.2)
    clf = ConvexRFClassifier(beta=[1e-1, 1e-2], **kw).fit(X, y)
    rng = np.random.default_rng(4)
    val = np.sort(rng.choice(len(y), size=30, replace=False))
    tr = np.setdiff1d(np.arange(len(y)), val)
    for b in (1e-1, 1e-2):  # a fit on the training part (and its mirrors) only
        sub = _fit_with_filters_of(clf, X[tr], y[tr], beta=b, **kw)
        assert abs(sub.score(X[val], y[val]) - clf.validation_scores_[b]) < 1e-12


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_classifier_beta_chosen_on_validation_split_then_refit(penalty):
    X, y = _blocks()
    betas = [1e-1, 1e-3, 1e-2]
    kw = dict(n_filters=30, patch_size=3, penalty=penalty, tol=1e-9, random_state=4,
              validation_fraction=0.2)
    clf = ConvexRFClassifier(beta=betas, **kw).fit(X, y)
    assert list(clf.validation_scores_) == betas
    assert clf.beta_ in betas
    assert clf.validation_scores_[clf.beta_] == max(clf.validation_scores_.values())
    # the final model is the single-beta fit on all images
    single = ConvexRFClassifier(beta=clf.beta_, **kw).fit(X, y)
    np.testing.assert_allclose(clf.coef_, single.coef_, atol=1e-7)
    # independent check of one validation score: fit on the training part only
    rng = np.random.default_rng(4)
    val = np.sort(rng.choice(len(y), size=30, replace=False))
    tr = np.setdiff1d(np.arange(len(y)), val)
    b = betas[1]
    sub = _fit_with_filters_of(clf, X[tr], y[tr], beta=b, **kw)
    assert abs(sub.score(X[val], y[val]) - clf.validation_scores_[b]) < 1e-12


@pytest.mark.parametrize("m", [1, 7, 10])
def test_ridge_solve_in_place_leaves_the_gram_matrix_unchanged(m):
    from fastconvexrelu._gram_output_layer import _ridge_solve_in_place

    rng = np.random.default_rng(m)
    A = rng.standard_normal((3 * m, m))
    G = np.asfortranarray(A.T @ A / (3 * m))
    G0 = G.copy()
    Cm = rng.standard_normal((m, 3))
    W = _ridge_solve_in_place(G, 0.1, Cm, block=3)  # blocks of 3: ragged last block
    np.testing.assert_allclose(W, np.linalg.solve(G0 + 0.1 * np.eye(m), Cm), rtol=1e-10)
    assert np.array_equal(G, G0)
    # a failed factorization (not positive definite) also leaves G as it was
    bad = np.asfortranarray(-G0 - np.eye(m))
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        _ridge_solve_in_place(bad, 0.1, Cm, block=3)
    assert np.array_equal(bad, -G0 - np.eye(m))


# flush per chunk / mixed / never; row blocks of S: ragged (3) or one (2048)
@pytest.mark.parametrize("buffer_bytes, block", [(1, 3), (28 * 40, 2048), (1 << 20, 3)])
def test_gram_stats_minus_equals_the_statistics_of_the_rest(buffer_bytes, block):
    from fastconvexrelu._gram_output_layer import GramStats, standardized_problem

    rng = np.random.default_rng(2)
    F = (rng.random((90, 7)) * 50 + 100).astype(np.float32)
    F[:, 3] = 7.0  # a constant column is dropped
    Y = np.eye(3)[rng.integers(0, 3, 90)]
    st = GramStats(7, 3, buffer_bytes=buffer_bytes, block=block)
    for s in range(0, 90, 25):
        st.add(F[s:s + 25], Y[s:s + 25])
    rest = st.minus(F[60:], Y[60:])
    G, Cm, yy, mu, inv, ybar = standardized_problem(rest)
    A = F[:60].astype(np.float64)
    sd = A.std(0)
    assert inv[3] == 0 and np.all(inv[[0, 1, 2, 4, 5, 6]] > 0)
    live = sd > 1e-9
    Z = (A[:, live] - A[:, live].mean(0)) / sd[live]
    np.testing.assert_allclose(G[np.ix_(live, live)], Z.T @ Z / 60, atol=1e-6)
    Yc = Y[:60] - Y[:60].mean(0)
    np.testing.assert_allclose(Cm[live], Z.T @ Yc / 60, atol=1e-6)
    np.testing.assert_allclose(yy, (Yc ** 2).mean(0), atol=1e-12)
    np.testing.assert_allclose(mu, A.mean(0), rtol=1e-6)
    G, *_ = standardized_problem(st)  # the totals: a full symmetric matrix
    np.testing.assert_allclose(G, G.T, rtol=0, atol=1e-14)
    assert np.all(np.diag(G)[[0, 1, 2, 4, 5, 6]] > 0.99)


def test_classifier_bad_output_layer_parameters():
    X, y = _blocks(n=30)
    for bad in (dict(beta=[]), dict(beta=[1e-3, -1.0]), dict(beta="x"), dict(penalty="l3"),
                dict(beta=[1e-3, 1e-2], validation_fraction=1.5),
                dict(beta=[1e-3, 1e-2], validation_fraction=0.001)):
        with pytest.raises(ValueError):
            ConvexRFClassifier(**{"n_filters": 10, "patch_size": 3, **bad}).fit(X, y)
