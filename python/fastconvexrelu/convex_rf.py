r"""Convex-RF: unsupervised convex filters for images (paper Section 8.1, Algorithm 2).

:class:`ConvexRF` is a scikit-learn style transformer:

``fit`` (Algorithm 2, steps 1-11)
    samples ``P`` random ``s x s x C`` patches from the training images, normalizes each one
    (step 4, :math:`\tilde p = (p - \mathrm{mean}(p)) / \sqrt{\mathrm{var}(p) + \epsilon}`,
    variance with denominator ``K - 1``), optionally ZCA-whitens them (step 7,
    :math:`W = V (D + \epsilon_w I)^{-1/2} V^T` from the eigendecomposition of their
    covariance, applied to the centered patches) and computes one filter per patch with
    Lemma 2.7 / eq. (10): for the whitened patches :math:`z_i`,

    .. math::

        u_i = \frac{z_i - \sum_{j\ne i}\lambda_j z_j}{\|z_i - \sum_{j\ne i}\lambda_j z_j\|_2},
        \qquad b_i = \min_{j\ne i}(-z_j^T u_i),

    with :math:`\lambda` the minimum-norm point of the simplex QP (28), solved exactly by the
    batched Wolfe kernel (:func:`fastconvexrelu.hull_neurons.min_norm_points`).
``transform`` (steps 12-13)
    extracts *all* patches of every image (stride ``stride``), normalizes and whitens them the
    same way, computes the responses :math:`r_i = u_i^T z + c_i` with
    :math:`c_i = b_i` (``bias="hull"``) or :math:`0` (``bias="none"``, Algorithm 2 as
    printed), applies the ReLU :math:`\max(0, r_i - t)` (threshold ``t``, 0 as printed) and,
    with ``polarity="split"``, also :math:`\max(0, -r_i - t)` -- the neuron :math:`-u_i` with
    the mirrored bias, so the hidden layer has the neurons :math:`\pm u_i` (Coates & Ng's
    polarity split) -- and pools each response map over a ``pool_grid x pool_grid`` grid of
    regions (sum or max), giving ``pool_grid**2 * P`` (``2 *`` that when split) features per
    image.  The
    whitening is folded into the filters (:math:`u^T W (\tilde p - \mu) = (W u)^T \tilde p -
    \mu^T W u`), so the C++ kernel :func:`fastconvexrelu._core.patch_features` does im2col,
    normalization, one GEMM, bias, ReLU and pooling fused per image, in float32, over chunks
    of ``chunk_size`` images (bounded memory), with threads and the GIL released.

:class:`ConvexRFClassifier` adds the output layer (step 14): one l1-regularized (or, as an
option, l2-regularized) least-squares problem per class on one-hot targets and standardized
features, solved on the Gram matrix by the C++ coordinate-descent kernel
:func:`fastconvexrelu._core.gram_lasso` with an exact duality-gap stopping rule (l2: one
Cholesky solve); the Gram matrix is accumulated chunk by chunk, so the feature matrix is never
stored.  ``beta`` may be a list, chosen on a held-out split.

With a ``dask.distributed`` ``Client`` (``client=...``), the hull-neuron QPs (in blocks of
targets) and the feature extraction (per image chunk) run as Dask tasks on its workers; the
results equal the in-process ones up to rounding.
"""

from __future__ import annotations

import numbers
import sys
import time
import warnings

import numpy as np

from . import _core
from ._estimators import _ParamsMixin
from ._validation import ConvergenceWarning, check_bool, check_is_fitted, check_nonneg_real
from ._gram_output_layer import GramStats, solve_output_layer, standardized_problem
from .hull_neurons import min_norm_points

__all__ = ["ConvexRF", "ConvexRFClassifier", "plot_filters"]

_POOLINGS = {"sum": "sum", "quadrant": "sum", "max": "max"}
_BIASES = ("none", "hull")
_POLARITIES = ("one", "split")


# ----------------------------------------------------------------------------- validation
def _check_int(value, name, low=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_pos_real(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        extra = "None or " if allow_none else ""
        raise ValueError(f"{name} must be {extra}a finite real number > 0, got {value!r}")
    return float(value)


def _check_patch_size(value):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"patch_size must be an int or a pair (h, w), got {value!r}")
        return (_check_int(value[0], "patch_size"), _check_int(value[1], "patch_size"))
    s = _check_int(value, "patch_size")
    return (s, s)


def _n_threads(n_jobs):
    if n_jobs is None or (
        isinstance(n_jobs, numbers.Integral) and not isinstance(n_jobs, bool) and n_jobs == -1
    ):
        return 0  # all cores (C++ side)
    return _check_int(n_jobs, "n_jobs")


def _check_images(X, name="X", shape=None):
    """Images as an array (n, H, W, C) without copying; validate rank, shape, dtype.

    NaN/inf are checked chunk-wise by :func:`_check_finite_images`.
    """
    if X is None:
        raise ValueError(f"{name} must be an array of images, got None")
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise ValueError(f"{name}: sparse images are not supported")
    arr = np.asarray(X)
    if arr.dtype.kind not in "uif":
        raise ValueError(
            f"{name} must hold real pixel values (uint8/int/float), got dtype {arr.dtype}"
        )
    if arr.ndim == 3:
        arr = arr[..., None]
    elif arr.ndim != 4:
        raise ValueError(
            f"{name} must have shape (n, H, W) or (n, H, W, C), got an array of rank {arr.ndim} "
            f"and shape {arr.shape}"
        )
    if arr.shape[0] == 0 or min(arr.shape[1:]) == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if shape is not None and tuple(arr.shape[1:]) != tuple(shape):
        if arr.shape[3] != shape[2]:
            raise ValueError(
                f"{name} has {arr.shape[3]} channels, but the transformer was fitted on images "
                f"with {shape[2]} (shape (H, W, C) = {tuple(shape)})"
            )
        raise ValueError(
            f"{name} has image shape {tuple(arr.shape[1:])} (H, W, C), but the transformer was "
            f"fitted on {tuple(shape)}"
        )
    return arr


def _check_finite_images(chunk, name, start):
    if chunk.dtype.kind == "f" and not np.isfinite(chunk).all():
        bad = start + int(np.flatnonzero(~np.isfinite(chunk).reshape(chunk.shape[0], -1).all(1))[0])
        raise ValueError(f"{name} contains NaN or inf pixels (first in image {bad})")


def _chunk(X, s, e, mirror):
    """Images s..e of a (n, H, W, C) array, mirrored left-right when ``mirror``."""
    return X[s:e, :, ::-1] if mirror else X[s:e]


def _as_f32_rows(chunk):
    """(m, H, W, C) chunk -> C-contiguous float32 (m, H*W*C) (uint8 -> float32 is exact)."""
    return np.ascontiguousarray(chunk.reshape(chunk.shape[0], -1), dtype=np.float32)


def _normalize_patches(Pm, epsilon):
    """Algorithm 2, step 4 (float64): (p - mean(p)) / sqrt(var(p) + epsilon), var with K - 1."""
    Pm = np.asarray(Pm, dtype=np.float64)
    if epsilon is None:
        return Pm.copy()
    mean = Pm.mean(axis=1, keepdims=True)
    K = Pm.shape[1]
    var = ((Pm - mean) ** 2).sum(axis=1, keepdims=True) / max(K - 1, 1)
    return (Pm - mean) / np.sqrt(var + epsilon)


def _hull_block(Z, start, stop, n_threads):
    """Lemma 2.7 neurons of the targets Z[start:stop] against all other rows of Z."""
    T = Z if (start == 0 and stop == Z.shape[0]) else Z[start:stop]
    res = min_norm_points(
        Z, T, exclude=np.arange(start, stop, dtype=np.int64), n_jobs=n_threads or None
    )
    dist = res.distances
    with np.errstate(invalid="ignore", divide="ignore"):
        U = res.residuals / dist[:, None]
    return U, res.biases, dist, res.status


def _features_block(images_f32, shape, filters_f32, bias_f32, patch, stride, epsilon, grid, pool,
                    threshold, split, n_threads, kernel=0):
    H, W, C = shape
    return _core.patch_features(
        images_f32, H, W, C, filters_f32, bias_f32, patch[0], patch[1], stride,
        -1.0 if epsilon is None else epsilon, grid, pool, n_threads, kernel, threshold, split,
    )


def _log(est, msg):
    """Progress line on stderr when ``est.verbose`` is set."""
    if est.verbose:
        print(f"[{type(est).__name__}] {msg}", file=sys.stderr, flush=True)


def _dask_workers(client):
    try:
        return max(1, len(client.scheduler_info()["workers"]))
    except Exception:  # pragma: no cover - unusual client
        return 1


# ----------------------------------------------------------------------------- transformer
class ConvexRF(_ParamsMixin):
    r"""Convex-RF feature extractor (paper Algorithm 2, steps 1-13; Lemma 2.7 filters).

    Parameters
    ----------
    n_filters : int, default=1600
        ``P``: number of sampled patches, i.e. of filters (one per patch, eq. (10)).  The
        patches are drawn at random among up to ``4 P`` distinct positions, skipping constant
        and repeated patches while enough others are available.
    patch_size : int or (int, int), default=6
        Patch height and width ``s``; patches have ``K = s_h s_w C`` entries.
    stride : int, default=1
        Step between the patches extracted by ``transform``.
    epsilon : float or None, default=10.0
        Patch normalization constant of step 4, in squared pixel units (10 suits 0..255
        pixels, Coates & Ng); ``None`` disables the normalization.
    whiten : bool, default=True
        ZCA-whiten the normalized patches (step 7).
    whiten_epsilon : float, default=0.1
        Regularization of the whitening, :math:`W = V (D + \epsilon_w I)^{-1/2} V^T`.
    bias : {"none", "hull"}, default="none"
        Response offsets: 0 (Algorithm 2, step 13: ``ReLU(A_p U)``) or the Lemma 2.7 biases
        ``b_i = min_{j != i} (-z_j^T u_i)`` (then a filter responds only to patches farther
        out along ``u_i`` than all sampled patches except its own).
    threshold : float, default=0.0
        ``t >= 0`` in the activation :math:`\max(0, r - t)` (0: Algorithm 2 as printed;
        Coates & Ng's soft threshold uses 0.25).
    polarity : {"one", "split"}, default="one"
        ``"one"``: the neurons :math:`u_i` (Algorithm 2); ``"split"``: also the mirrored
        neurons :math:`-u_i` with bias :math:`-c_i`, i.e. the features
        :math:`\max(0, r - t)` and :math:`\max(0, -r - t)` (twice as many features for
        about the same extraction cost: the GEMM is shared).
    pooling : {"sum", "quadrant", "max"}, default="sum"
        Pooling of the ReLU responses over each region ("quadrant" = "sum").
    pool_grid : int, default=2
        The response map is split into ``pool_grid x pool_grid`` regions (2: quadrants).
    random_state : None, int or numpy Generator
        Patch sampling.
    n_jobs : int or None, default=None
        Threads of the C++ kernels (None / -1: all cores).
    chunk_size : int, default=1000
        Images per feature-extraction call (bounds the memory: the float32 copy of one chunk
        plus its features) and per Dask task.
    verbose : bool or int, default=False
        Print progress between chunks.
    client : dask.distributed.Client or None
        Run the hull-neuron blocks and the feature chunks as tasks on its workers.

    Attributes
    ----------
    filters_ : (P', K) ndarray
        Unit-norm Lemma 2.7 filters :math:`u_i` in the whitened patch space (rows).
        ``P' <= P``: filters of sampled patches at distance 0 from the hull of the others
        (duplicates, e.g. constant patches, or interior points) are undefined and dropped
        (a warning says how many).
    hull_biases_ : (P',) ndarray
        Lemma 2.7 biases :math:`b_i`.
    distances_ : (P',) ndarray
        Distances :math:`d_i > 0` of the patches to the hull of the others.
    patches_ : (P', K) ndarray
        The normalized (and whitened) patches the filters were computed from.
    whitening_ : (K, K) ndarray or None; whitening_mean_ : (K,) ndarray or None
    effective_filters_ : (K, P') float32 ndarray; effective_bias_ : (P',) float32 ndarray
        What ``transform`` applies to the normalized patches :math:`\tilde p`: responses
        :math:`\tilde p^T (W u_i) + (c_i - \mu^T W u_i)`.
    n_features_out_ : int
        ``pool_grid**2 * P'``, times 2 with ``polarity="split"``.
    image_shape_ : (H, W, C)
    """

    def __init__(
        self,
        n_filters=1600,
        patch_size=6,
        stride=1,
        epsilon=10.0,
        whiten=True,
        whiten_epsilon=0.1,
        bias="none",
        threshold=0.0,
        polarity="one",
        pooling="sum",
        pool_grid=2,
        random_state=None,
        n_jobs=None,
        chunk_size=1000,
        verbose=False,
        client=None,
    ):
        self.n_filters = n_filters
        self.patch_size = patch_size
        self.stride = stride
        self.epsilon = epsilon
        self.whiten = whiten
        self.whiten_epsilon = whiten_epsilon
        self.bias = bias
        self.threshold = threshold
        self.polarity = polarity
        self.pooling = pooling
        self.pool_grid = pool_grid
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.verbose = verbose
        self.client = client

    # -- parameters ----------------------------------------------------------------------
    def _validated(self):
        p = {}
        p["P"] = _check_int(self.n_filters, "n_filters", 2)
        p["patch"] = _check_patch_size(self.patch_size)
        p["stride"] = _check_int(self.stride, "stride")
        p["epsilon"] = _check_pos_real(self.epsilon, "epsilon", allow_none=True)
        check_bool(self.whiten, "whiten")
        p["whiten_epsilon"] = _check_pos_real(self.whiten_epsilon, "whiten_epsilon")
        if self.bias not in _BIASES:
            raise ValueError(f"bias must be one of {_BIASES}, got {self.bias!r}")
        p["threshold"] = check_nonneg_real(self.threshold, "threshold")
        if self.polarity not in _POLARITIES:
            raise ValueError(f"polarity must be one of {_POLARITIES}, got {self.polarity!r}")
        p["split"] = self.polarity == "split"
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {tuple(_POOLINGS)}, got {self.pooling!r}")
        p["pool"] = _POOLINGS[self.pooling]
        p["grid"] = _check_int(self.pool_grid, "pool_grid")
        p["threads"] = _n_threads(self.n_jobs)
        p["chunk"] = _check_int(self.chunk_size, "chunk_size")
        return p

    def _grid(self, shape, patch, stride, grid):
        H, W, _ = shape
        if patch[0] > H or patch[1] > W:
            raise ValueError(
                f"patch_size {patch} is larger than the images ({H} x {W})"
            )
        oh = (H - patch[0]) // stride + 1
        ow = (W - patch[1]) // stride + 1
        if grid > min(oh, ow):
            raise ValueError(
                f"pool_grid={grid} exceeds the {oh} x {ow} map of patch positions"
            )
        return oh, ow

    # -- fit -----------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Sample patches, normalize, whiten and compute the Lemma 2.7 filters.

        Parameters
        ----------
        X : array of shape (n, H, W) or (n, H, W, C), uint8 or float
            Training images (pixel values used as given; uint8 and the same values as float
            give identical results).
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Wrong rank, empty, NaN/inf pixels, patch larger than the images, ``n_filters``
            larger than the number of available patches ``n * out_h * out_w``, or invalid
            parameters.
        """
        p = self._validated()
        X = _check_images(X)
        shape = X.shape[1:]
        ph, pw = p["patch"]
        oh, ow = self._grid(shape, p["patch"], p["stride"], p["grid"])
        n = X.shape[0]
        total = n * oh * ow
        P = p["P"]
        if P > total:
            raise ValueError(
                f"n_filters={P} is larger than the number of available patches "
                f"({n} images x {oh * ow} positions = {total})"
            )
        t0 = time.perf_counter()
        rng = np.random.default_rng(self.random_state)
        # Step 2: P random patch positions (image, oy, ox).  Up to 4P distinct positions are
        # drawn and, in random order, constant patches and repeated patches are skipped (their
        # Lemma 2.7 filters would be undefined: distance 0 to the hull of the others).
        s = p["stride"]
        for start in range(0, n, p["chunk"]):
            _check_finite_images(X[start:start + p["chunk"]], "X", start)
        n_cand = min(total, 4 * P)
        cand = rng.choice(total, size=n_cand, replace=False)
        img, pos = np.divmod(cand, oh * ow)
        oy, ox = np.divmod(pos, ow)
        raw = np.empty((n_cand, ph * pw * shape[2]), dtype=np.float64)
        for k in range(n_cand):
            raw[k] = X[img[k], oy[k] * s: oy[k] * s + ph, ox[k] * s: ox[k] * s + pw, :].ravel()
        ok = np.ptp(raw, axis=1) > 0
        _, first = np.unique(raw, axis=0, return_index=True)
        uniq = np.zeros(n_cand, dtype=bool)
        uniq[first] = True
        sel = np.flatnonzero(ok & uniq)[:P]
        if sel.size < P:  # not enough distinct non-constant patches: fill with the others
            rest = np.setdiff1d(np.arange(n_cand), sel)[: P - sel.size]
            sel = np.concatenate([sel, rest])
        sel = np.sort(sel)
        raw, img, oy, ox = raw[sel], img[sel], oy[sel], ox[sel]
        Pn = _normalize_patches(raw, p["epsilon"])  # step 4
        if self.whiten:  # step 7 (ZCA, on centered patches)
            mu = Pn.mean(axis=0)
            cov = np.cov(Pn, rowvar=False)
            D, V = np.linalg.eigh(cov)
            D = np.maximum(D, 0.0)
            Wz = (V / np.sqrt(D + p["whiten_epsilon"])) @ V.T
            Wz = 0.5 * (Wz + Wz.T)
            Z = (Pn - mu) @ Wz
        else:
            mu, Wz, Z = None, None, Pn
        Z = np.ascontiguousarray(Z)
        _log(self, f"sampled and whitened {P} patches of {Z.shape[1]} entries "
                  f"({time.perf_counter() - t0:.2f} s)")
        # Steps 8-10: one Lemma 2.7 neuron per patch.
        t1 = time.perf_counter()
        U, b, dist, status = self._hull_neurons(Z, p["threads"], p["chunk"])
        keep = dist > 0
        n_drop = int(P - keep.sum())
        if n_drop:
            warnings.warn(
                f"{n_drop} of {P} sampled patches lie in the convex hull of the others "
                "(distance 0, e.g. duplicate or constant patches): their filters are undefined "
                f"and dropped, leaving {P - n_drop}",
                UserWarning,
                stacklevel=2,
            )
        if keep.sum() == 0:
            raise ValueError("no sampled patch is a vertex of the hull of the others: no filters")
        if np.any(status[keep] == 3):
            warnings.warn("some hull-neuron QPs hit max_iter", ConvergenceWarning, stacklevel=2)
        U, b, dist = U[keep], b[keep], dist[keep]
        _log(self, f"{keep.sum()} Lemma 2.7 filters in {time.perf_counter() - t1:.2f} s")
        self.filters_ = U
        self.hull_biases_ = b
        self.distances_ = dist
        self.patches_ = Z[keep]
        self.whitening_ = Wz
        self.whitening_mean_ = mu
        self.patch_indices_ = np.stack([img, oy, ox], axis=1)[keep]
        offs = b if self.bias == "hull" else np.zeros_like(b)
        if Wz is not None:
            Ue = Wz @ U.T  # (K, P'): u^T W (p~ - mu) = (W u)^T p~ - mu^T W u
            be = offs - mu @ Ue
        else:
            Ue, be = U.T, offs
        self.effective_filters_ = np.ascontiguousarray(Ue, dtype=np.float32)
        self.effective_bias_ = np.ascontiguousarray(be, dtype=np.float32)
        self.image_shape_ = tuple(int(v) for v in shape)
        self.n_features_out_ = p["grid"] ** 2 * U.shape[0] * (2 if p["split"] else 1)
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _hull_neurons(self, Z, threads, chunk):
        client = self.client
        P = Z.shape[0]
        if client is None:
            return _hull_block(Z, 0, P, threads)
        n_workers = _dask_workers(client)
        block = max(1, -(-P // (4 * n_workers)))
        Zf = client.scatter(Z, broadcast=True, hash=False)
        futs = [client.submit(_hull_block, Zf, s, min(P, s + block), 1, pure=False)
                for s in range(0, P, block)]
        parts = client.gather(futs)
        return tuple(np.concatenate([q[i] for q in parts]) for i in range(4))

    # -- transform -----------------------------------------------------------------------
    def _iter_features(self, X, kernel=0, mirror=False):
        """Yield (start, stop, features float32) chunk by chunk, in order.

        With ``mirror``, the features of the horizontally mirrored images ``X[:, :, ::-1]``.
        """
        check_is_fitted(self, ("effective_filters_",))
        p = self._validated()
        X = _check_images(X, "X", self.image_shape_)
        n = X.shape[0]
        chunk = p["chunk"]
        args = (self.image_shape_, self.effective_filters_, self.effective_bias_, p["patch"],
                p["stride"], p["epsilon"], p["grid"], p["pool"], p["threshold"], p["split"])
        t0 = time.perf_counter()
        starts = list(range(0, n, chunk))
        if self.client is None:
            for s in starts:
                e = min(n, s + chunk)
                _check_finite_images(X[s:e], "X", s)
                F = _features_block(_as_f32_rows(_chunk(X, s, e, mirror)), *args, p["threads"],
                                    kernel)
                _log(self, f"transform: {e}/{n} images ({e / (time.perf_counter() - t0):.0f} img/s)")
                yield s, e, F
            return
        client = self.client
        window = 2 * _dask_workers(client)
        Uf = client.scatter(self.effective_filters_, broadcast=True, hash=False)
        bf = client.scatter(self.effective_bias_, broadcast=True, hash=False)
        shape, _, _, patch, stride, eps, grid, pool, thr, split = args
        futs = {}

        def submit(s):
            e = min(n, s + chunk)
            _check_finite_images(X[s:e], "X", s)
            futs[s] = client.submit(_features_block, _as_f32_rows(_chunk(X, s, e, mirror)),
                                    shape, Uf, bf, patch,
                                    stride, eps, grid, pool, thr, split, 1, kernel, pure=False)

        for s in starts[:window]:
            submit(s)
        for i, s in enumerate(starts):  # sliding window: bounded memory, results in order
            F = futs.pop(s).result()
            if i + window < len(starts):
                submit(starts[i + window])
            e = min(n, s + chunk)
            _log(self, f"transform (dask): {e}/{n} images ({e / (time.perf_counter() - t0):.0f} img/s)")
            yield s, e, F

    def transform(self, X):
        """Pooled ReLU responses of all patches to the filters (Algorithm 2, steps 12-13).

        Parameters
        ----------
        X : array of shape (n, H, W) or (n, H, W, C), uint8 or float, same (H, W, C) as fit

        Returns
        -------
        F : (n, pool_grid**2 * S * P') float32 ndarray, S = 2 if ``polarity="split"`` else 1
            ``F[i, (r S + k) P' + j]`` = sum (or max) over the patch positions of region ``r``
            (row-major ``r = ry * pool_grid + rx``) of ``max(0, u_j^T z + c_j - t)`` (k = 0) or
            ``max(0, -(u_j^T z + c_j) - t)`` (k = 1).

        Raises
        ------
        ValueError
            Not fitted, wrong rank, image shape or channel count different from ``fit``,
            NaN/inf pixels.
        """
        out = None
        for s, e, F in self._iter_features(X):
            if out is None:
                n = np.asarray(X).shape[0]
                out = np.empty((n, F.shape[1]), dtype=np.float32)
            out[s:e] = F
        return out

    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def plot_filters(self, path=None, *, n_max=256, space="input"):
        """Draw the filters as an image grid (paper Figure 10); see :func:`plot_filters`."""
        return plot_filters(self, path, n_max=n_max, space=space)


# ----------------------------------------------------------------------------- classifier
class ConvexRFClassifier(_ParamsMixin):
    r"""Convex-RF features plus a regularized least-squares output layer (Algorithm 2).

    With the features :math:`F = \mathrm{ConvexRF}(X)` standardized column-wise,
    :math:`\hat F = (F - 1\mu^T)\,\mathrm{diag}(\sigma)^{-1}` (constant columns are dropped),
    and one-hot targets :math:`Y \in \{0,1\}^{n\times c}`, ``fit`` solves for every class
    :math:`k` (step 14, with an unpenalized intercept)

    .. math::

        \min_{w_k, w_{0k}}\ \frac{1}{2n}\|\hat F w_k + w_{0k} 1 - y_k\|_2^2
        + \beta\|w_k\|_1 \quad(\texttt{penalty="l1"}, \text{the paper}),\qquad
        \ldots + \frac{\beta}{2}\|w_k\|_2^2 \quad(\texttt{penalty="l2"}),

    i.e. :math:`w_{0k} = \bar y_k` and a lasso (ridge) problem on centered data, exactly
    separable over classes.  Both are solved on the Gram matrix :math:`G = \hat F^T\hat F / n`
    (float32 chunk products about a fixed shift, summed in float64, so ``F`` is never stored):
    l1 by coordinate descent with covariance updates and Newton steps
    (:func:`fastconvexrelu._core.gram_lasso`), stopped when the exact duality gap is at most
    ``tol`` times the objective; l2 by one Cholesky solve.  ``predict`` returns the class with
    the largest score :math:`\hat F w_k + w_{0k}`.

    When ``beta`` is a sequence, a random ``validation_fraction`` of the images is held out
    (its features kept, the Gram statistics of the rest are the totals minus its own), every
    ``beta`` is fitted on the rest (largest first, warm-started), the one with the best held-out
    accuracy is kept (ties: the larger) and the model is refitted on all images with it.

    The defaults follow Algorithm 2 as printed.  Measured in ``bench/RESULTS.md`` (50 000
    training images): ``polarity="split", threshold=0.25, penalty="l2"`` with ``beta`` chosen
    from a short list is much more accurate (CIFAR-10 62.7% -> 73.4% at ``n_filters=1600``;
    MNIST 97.2% -> 98.9%), and ``hflip=True`` adds about 2.5 points on CIFAR-10 (77.6% at
    ``n_filters=3000`` in 21 minutes on 2 cores); the l1 output layer at a small ``beta`` is
    much slower once the support has thousands of features (Newton directions by conjugate
    gradients above 3000, none above 8000).

    Memory: the features are never stored, but the output layer holds the m x m Gram matrix in
    float64 (m = ``n_features_out_``): about ``8 m^2`` bytes; while a ``beta`` list is
    validated, two such matrices (totals and training part).  The l2 solve factors in place
    (blocked Cholesky in the lower triangle, the matrix restored afterwards).

    Parameters
    ----------
    beta : float or sequence of floats, default=1e-4
        :math:`\beta` above, or candidates chosen on a validation split.
    penalty : {"l1", "l2"}, default="l1"
        Output-layer regularizer (l1: Algorithm 2, step 14).
    validation_fraction : float, default=0.1
        Held-out share of the images when ``beta`` is a sequence.
    hflip : bool, default=False
        Data augmentation by left-right mirroring: the features of every training image and
        of its mirror image enter the objective above (2n rows, same weight), and the class
        scores of an image are the mean of its own and its mirror's (also on the validation
        part, whose mirrors are held out with it).  Twice the feature work in ``fit`` and
        ``predict``; no extra memory for the output layer.
    tol : float, default=1e-4
        Relative duality gap of each class problem (l1).
    max_epochs : int, default=2000
        Coordinate-descent sweeps per class (l1); a ConvergenceWarning is issued when reached.
    Others
        As in :class:`ConvexRF` (``random_state`` also draws the validation split).

    Attributes
    ----------
    rf_ : fitted ConvexRF
    classes_ : (c,) ndarray
    coef_ : (n_features, c) ndarray, intercept_ : (c,) ndarray
        In the raw feature space: scores = ``rf_.transform(X) @ coef_ + intercept_``.
    beta_ : float
        The :math:`\beta` of the final fit.
    validation_scores_ : dict or None
        Held-out accuracy of every candidate ``beta`` (None for a single ``beta``).
    duality_gaps_, objectives_ : (c,) ndarray
        Upper bounds on the suboptimality of each class problem and its objective.
    n_epochs_ : (c,) ndarray
    converged_ : bool
    gram_time_, solve_time_ : float
        Seconds spent on features + Gram statistics, and on the output-layer solves.
    """

    def __init__(
        self,
        n_filters=1600,
        patch_size=6,
        stride=1,
        epsilon=10.0,
        whiten=True,
        whiten_epsilon=0.1,
        bias="none",
        threshold=0.0,
        polarity="one",
        pooling="sum",
        pool_grid=2,
        beta=1e-4,
        penalty="l1",
        validation_fraction=0.1,
        hflip=False,
        tol=1e-4,
        max_epochs=2000,
        random_state=None,
        n_jobs=None,
        chunk_size=1000,
        verbose=False,
        client=None,
    ):
        self.n_filters = n_filters
        self.patch_size = patch_size
        self.stride = stride
        self.epsilon = epsilon
        self.whiten = whiten
        self.whiten_epsilon = whiten_epsilon
        self.bias = bias
        self.threshold = threshold
        self.polarity = polarity
        self.pooling = pooling
        self.pool_grid = pool_grid
        self.beta = beta
        self.penalty = penalty
        self.validation_fraction = validation_fraction
        self.hflip = hflip
        self.tol = tol
        self.max_epochs = max_epochs
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.verbose = verbose
        self.client = client

    def _make_rf(self):
        names = ConvexRF._get_param_names()
        return ConvexRF(**{k: getattr(self, k) for k in names})

    def _betas(self):
        b = self.beta
        if isinstance(b, (list, tuple, np.ndarray)):
            vals = [_check_pos_real(v, "beta") for v in np.asarray(b, dtype=object).ravel()]
            if not vals:
                raise ValueError("beta must be a positive float or a non-empty sequence of them")
            return vals
        return [_check_pos_real(b, "beta")]

    def fit(self, X, y):
        """Fit the filters on ``X``, then the output layer on the pooled features.

        Parameters
        ----------
        X : images (n, H, W) or (n, H, W, C)
        y : (n,) class labels (at least two classes)

        Returns
        -------
        self
        """
        betas = self._betas()
        if self.penalty not in ("l1", "l2"):
            raise ValueError(f"penalty must be 'l1' or 'l2', got {self.penalty!r}")
        tol = _check_pos_real(self.tol, "tol")
        max_epochs = _check_int(self.max_epochs, "max_epochs")
        vf = self.validation_fraction
        if len(betas) > 1 and (
            isinstance(vf, (bool, np.bool_)) or not isinstance(vf, numbers.Real)
            or not 0.0 < vf < 1.0
        ):
            raise ValueError(f"validation_fraction must be in (0, 1), got {vf!r}")
        Xa = _check_images(X)
        y_arr = np.asarray(y)
        if y_arr.ndim != 1 or y_arr.shape[0] != Xa.shape[0]:
            raise ValueError(
                f"y must be a 1-D array with one label per image ({Xa.shape[0]}), got shape "
                f"{y_arr.shape}"
            )
        classes, y_idx = np.unique(y_arr, return_inverse=True)
        if classes.size < 2:
            raise ValueError("y must contain at least two classes")
        check_bool(self.hflip, "hflip")
        n = Xa.shape[0]
        n_val = int(round(vf * n)) if len(betas) > 1 else 0
        if len(betas) > 1 and not 1 <= n_val < n - 1:
            raise ValueError(
                f"validation_fraction={vf!r} of {n} images leaves no validation or training part"
            )
        threads = _n_threads(self.n_jobs)
        rf = self._make_rf().fit(Xa)
        c = classes.size
        Y = np.zeros((n, c))
        Y[np.arange(n), y_idx] = 1.0
        m = rf.n_features_out_
        rng = np.random.default_rng(self.random_state)
        val_idx = np.sort(rng.choice(n, size=n_val, replace=False)) if n_val else np.zeros(0, int)
        views = (False, True) if self.hflip else (False,)
        Fv = np.empty((len(views), n_val, m), dtype=np.float32)  # held-out features per view
        stats = GramStats(m, c)
        t0 = time.perf_counter()
        for v, mirror in enumerate(views):
            for s, e, F in rf._iter_features(Xa, mirror=mirror):
                stats.add(F, Y[s:e])
                lo, hi = np.searchsorted(val_idx, [s, e])
                Fv[v, lo:hi] = F[val_idx[lo:hi] - s]
        self.gram_time_ = time.perf_counter() - t0
        t1 = time.perf_counter()
        W0 = None
        self.validation_scores_ = None
        beta = betas[0]
        if n_val:
            G, Cm, yy, mu, inv, ybar = standardized_problem(
                stats.minus(Fv.reshape(-1, m), np.tile(Y[val_idx], (len(views), 1))))
            Fv_mean = Fv.mean(axis=0) if len(views) > 1 else Fv[0]  # scores are linear in F
            scores = {}
            for b in sorted(set(betas), reverse=True):
                r = solve_output_layer(G.T, Cm, yy, b, self.penalty, tol, max_epochs, threads, W0)
                W0 = r["W"]
                coef = W0 * inv[:, None]
                pred = np.argmax(Fv_mean @ coef.astype(np.float32) + (ybar - mu @ coef), axis=1)
                scores[b] = float(np.mean(pred == y_idx[val_idx]))
                _log(self, f"beta={b:g}: validation accuracy {scores[b]:.4f}")
            del G
            beta = max(sorted(scores, reverse=True), key=lambda b: scores[b])
            self.validation_scores_ = {b: scores[b] for b in betas}
            W0 = None  # the chosen beta is refitted from scratch (other standardization)
            del Fv_mean
        del Fv
        G, Cm, yy, mu, inv, ybar = standardized_problem(stats)
        del stats
        r = solve_output_layer(G.T, Cm, yy, beta, self.penalty, tol, max_epochs, threads, W0)
        self.solve_time_ = time.perf_counter() - t1
        W = r["W"]
        self.beta_ = beta
        self.coef_ = W * inv[:, None]
        self.intercept_ = ybar - mu @ self.coef_
        self.duality_gaps_ = np.asarray(r["gap"])
        self.objectives_ = np.asarray(r["primal"])
        self.n_epochs_ = np.asarray(r["n_epochs"])
        self.converged_ = bool(all(r["converged"]))
        if not self.converged_:
            warnings.warn(
                f"ConvexRFClassifier: the output-layer lasso stopped at max_epochs={max_epochs} "
                f"with relative duality gaps up to "
                f"{float(np.max(self.duality_gaps_ / self.objectives_)):.2e} > tol={tol}",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.rf_ = rf
        self.classes_ = classes
        self.n_features_out_ = m
        return self

    def decision_function(self, X):
        """Class scores ``F @ coef_ + intercept_``, shape (n, c).

        With ``hflip``, ``F`` is the mean of the features of each image and of its mirror.
        """
        check_is_fitted(self, ("coef_",))
        out = None
        views = [self.rf_._iter_features(X)]
        if self.hflip:
            views.append(self.rf_._iter_features(X, mirror=True))
        for chunks in zip(*views):
            s, e, F = chunks[0]
            F = F.astype(np.float64) if len(chunks) == 1 else 0.5 * (F + chunks[1][2])
            if out is None:
                out = np.empty((np.asarray(X).shape[0], self.classes_.size))
            out[s:e] = F @ self.coef_ + self.intercept_
        return out

    def predict(self, X):
        """The class with the largest score."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def score(self, X, y):
        """Accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def transform(self, X):
        """The pooled features of the fitted :class:`ConvexRF` (``rf_.transform``)."""
        check_is_fitted(self, ("rf_",))
        return self.rf_.transform(X)


# ----------------------------------------------------------------------------- plotting
def plot_filters(rf, path=None, *, n_max=256, space="input"):
    """Draw Convex-RF filters as an image grid (the paper's Figure 10).

    Parameters
    ----------
    rf : fitted ConvexRF (or ConvexRFClassifier)
    path : str or path-like, optional
        Where to save the figure (e.g. a PNG).
    n_max : int, default=256
        Number of filters shown (the first ``n_max``).
    space : {"input", "whitened"}, default="input"
        ``"input"``: the effective filters ``W u_i`` applied to normalized patches;
        ``"whitened"``: ``u_i`` itself.  Each filter is rescaled to [0, 1] for display.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ._plotting import _pyplot

    rf = getattr(rf, "rf_", rf)
    check_is_fitted(rf, ("filters_",))
    if space not in ("input", "whitened"):
        raise ValueError(f"space must be 'input' or 'whitened', got {space!r}")
    n_max = _check_int(n_max, "n_max")
    Fm = rf.effective_filters_.T if space == "input" else rf.filters_
    Fm = np.asarray(Fm[:n_max], dtype=np.float64)
    ph, pw = _check_patch_size(rf.patch_size)
    C = rf.image_shape_[2]
    k = Fm.shape[0]
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.45, rows * 0.45), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= k:
            continue
        f = Fm[i].reshape(ph, pw, C)
        lo, hi = f.min(), f.max()
        f = (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f)
        ax.imshow(f[..., 0] if C == 1 else f, cmap="gray" if C == 1 else None,
                  interpolation="nearest")
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0, right=1, top=1, bottom=0)
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig
