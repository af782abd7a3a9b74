r"""Multiclass output layer on streamed features via the Gram matrix (Algorithm 2, step 14).

For features :math:`F` (n x m, produced chunk by chunk and never stored) and one-hot targets
:math:`Y`, the per-class problems on the standardized features
:math:`\hat F = (F - 1\mu^T)\,\mathrm{diag}(\sigma)^{-1}`

.. math::

    \text{l1:}\ \min_w \frac{1}{2n}\|\hat F w - (y_k - \bar y_k)\|^2 + \beta\|w\|_1, \qquad
    \text{l2:}\ \min_w \frac{1}{2n}\|\hat F w - (y_k - \bar y_k)\|^2 + \frac{\beta}{2}\|w\|_2^2

only need :math:`G = \hat F^T\hat F/n`, :math:`\hat F^T (Y - \bar Y)/n` and
:math:`\|y_k - \bar y_k\|^2/n`.  :class:`GramStats` accumulates the raw sums in float64 from
float32 chunk products taken about a fixed shift (the first chunk's mean), so the later
centering does not cancel digits; a held-out validation part is kept as raw features, and the
statistics of the remaining (training) part are the totals minus the held-out ones.
"""

from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["GramStats", "standardized_problem", "solve_output_layer"]


class GramStats:
    """Shifted sums ``S = sum (f - c)(f - c)^T``, ``s1 = sum (f - c)``, ``FY = sum (f - c) y^T``.

    Chunks passed to :meth:`add` are buffered up to ``buffer_bytes`` of float32 rows and
    multiplied as one block, by float32 products of ``block`` rows of ``S`` at a time, lower
    block triangle only, each added to the float64 sum at once (no m x m float32 temporary;
    faster than NumPy's ``A.T @ A``, which also crashes in the bundled OpenBLAS ``ssyrk`` for
    m ~ 32 000 with 2 threads).  The upper triangle is filled in when the statistics are read.
    """

    def __init__(self, m, c, buffer_bytes=512 << 20, block=2048):
        self.S = np.zeros((m, m))
        self.s1 = np.zeros(m)
        self.FY = np.zeros((m, c))
        self.Ys = np.zeros(c)  # sum of the targets
        self.n = 0
        self.shift = None
        self._rows = max(1, int(buffer_bytes) // (4 * max(m, 1)))
        self._buf = []  # pending (F, Y) chunks
        self._buf_n = 0
        self._block = max(1, int(block))
        self._upper_stale = False  # S holds only its lower block triangle up to date

    def _accumulate(self, F, Y, sign):
        """Add (sign=1) or remove (-1) the shifted sums of float32 rows ``F`` with targets Y."""
        A = F - self.shift  # float32
        b = self._block
        for i in range(0, A.shape[1], b):
            Ai = A[:, i:i + b]
            P = Ai.T @ A[:, :i + b]  # float32 product, rows i:i+b of S, lower block triangle
            if sign > 0:
                self.S[i:i + b, :i + b] += P
            else:
                self.S[i:i + b, :i + b] -= P
            self.FY[i:i + b] += sign * (Ai.T.astype(np.float64) @ Y)
        self._upper_stale = True
        self.s1 += sign * A.sum(axis=0, dtype=np.float64)
        self.Ys += sign * Y.sum(axis=0)
        self.n += sign * F.shape[0]

    def _sync(self):
        """Flush, then fill the upper triangle of ``S`` from the lower one."""
        self.flush()
        if self._upper_stale:
            S, b = self.S, self._block
            for i in range(0, S.shape[0], b):
                D = S[i:i + b, i:i + b]
                D[...] = np.tril(D) + np.tril(D, -1).T
                S[i:i + b, i + b:] = S[i + b:, i:i + b].T
            self._upper_stale = False

    def add(self, F, Y):
        """Add a float32 chunk ``F`` (k x m) with targets ``Y`` (k x c).

        The chunk is referenced, not copied, until the next :meth:`flush`: do not modify it.
        """
        if F.shape[0] == 0:
            return
        if self.shift is None:
            self.shift = F.mean(axis=0, dtype=np.float64).astype(np.float32)
        self._buf.append((np.asarray(F, dtype=np.float32), np.asarray(Y, dtype=np.float64)))
        self._buf_n += F.shape[0]
        if self._buf_n >= self._rows:
            self.flush()

    def flush(self):
        """Fold the buffered chunks into the sums."""
        if not self._buf:
            return
        if len(self._buf) == 1:
            F, Y = self._buf[0]
        else:
            F = np.concatenate([b[0] for b in self._buf])
            Y = np.concatenate([b[1] for b in self._buf])
        self._buf, self._buf_n = [], 0
        self._accumulate(F, Y, 1)

    def minus(self, F, Y):
        """Statistics without the rows ``F`` (float32, k x m), ``Y`` (a new object; the
        only m x m temporaries are its sum and one row block)."""
        self.flush()
        out = GramStats.__new__(GramStats)
        out.__dict__.update(self.__dict__)
        out.S, out.s1, out.FY = self.S.copy(), self.s1.copy(), self.FY.copy()
        out.Ys, out._buf, out._buf_n = self.Ys.copy(), [], 0
        out._accumulate(np.asarray(F, dtype=np.float32), np.asarray(Y, dtype=np.float64), -1)
        return out


def standardized_problem(st):
    """(G, Cm, yy, mu, inv, ybar) of the standardized, centered problem from :class:`GramStats`.

    ``inv[j] = 1 / sigma_j`` (0 for constant columns, which are dropped from the model).
    ``G`` is computed in the memory of ``st.S`` (no second m x m matrix), so ``st`` is
    consumed (``st.S`` is set to None).
    """
    st._sync()
    n = st.n
    m_shift = st.s1 / n
    mu = st.shift.astype(np.float64) + m_shift
    ybar = st.Ys / n
    G, st.S = st.S, None
    G /= n  # -> centered second moments, then standardized, in place
    for i in range(0, G.shape[0], 1024):
        G[i:i + 1024] -= np.outer(m_shift[i:i + 1024], m_shift)
    var = np.maximum(np.diag(G), 0.0)
    sd = np.sqrt(var)
    live = sd > 1e-8 * max(float(sd.max()), np.finfo(float).tiny)
    inv = np.where(live, 1.0 / np.where(live, sd, 1.0), 0.0)
    G *= inv[:, None]
    G *= inv[None, :]
    Cm = (st.FY / n - np.outer(m_shift, ybar)) * inv[:, None]
    yy = ybar * (1.0 - ybar)  # ||y_k - ybar_k||^2 / n for 0/1 targets
    return G, Cm, yy, mu, inv, ybar


def _ridge_solve_in_place(G, beta, Cm, block=2048):
    """``(G + beta I)^{-1} Cm`` for a symmetric F-ordered ``G``, without a second m x m matrix.

    A blocked right-looking Cholesky factorization written into the lower triangle of ``G``
    (LAPACK only on the diagonal blocks, BLAS-3 products for the panels and trailing columns).
    The diagonal blocks are saved first (m x block) and the strict upper triangle outside them
    is never written, so ``G`` is restored exactly afterwards, also when the factorization
    fails.  (The vendored OpenBLAS ``potrf`` crashes on orders >= ~16 000 here with several
    threads; this only calls it on orders <= ``block``.)
    """
    from scipy.linalg import LinAlgError, solve_triangular
    from scipy.linalg.lapack import dpotrf

    m = G.shape[0]
    if not (G.flags.f_contiguous and G.dtype == np.float64):
        G = np.asfortranarray(G, dtype=np.float64)  # a private copy: nothing to restore
    starts = list(range(0, m, block))
    diag_blocks = [G[k:k + block, k:k + block].copy() for k in starts]
    try:
        for k0 in starts:
            k1 = min(m, k0 + block)
            Akk = G[k0:k1, k0:k1]
            Akk.flat[:: k1 - k0 + 1] += beta
            Lkk, info = dpotrf(Akk, lower=1, clean=1)
            if info != 0:
                raise LinAlgError(
                    f"G + beta I is not positive definite (leading minor {k0 + info})")
            G[k0:k1, k0:k1] = Lkk
            if k1 == m:
                break
            X = solve_triangular(Lkk, G[k1:, k0:k1].T, lower=True, check_finite=False).T
            G[k1:, k0:k1] = X  # panel of L
            for j0 in range(k1, m, block):  # trailing update, lower block columns only
                j1 = min(m, j0 + block)
                G[j0:, j0:j1] -= X[j0 - k1:] @ X[j0 - k1:j1 - k1].T
        # solve L L^T W = Cm by blocks
        Y = np.array(Cm, dtype=np.float64)
        for k0 in starts:
            k1 = min(m, k0 + block)
            r = Y[k0:k1] - G[k0:k1, :k0] @ Y[:k0] if k0 else Y[k0:k1]
            Y[k0:k1] = solve_triangular(G[k0:k1, k0:k1], r, lower=True, check_finite=False)
        for k0 in reversed(starts):
            k1 = min(m, k0 + block)
            r = Y[k0:k1] - G[k1:, k0:k1].T @ Y[k1:] if k1 < m else Y[k0:k1]
            Y[k0:k1] = solve_triangular(G[k0:k1, k0:k1], r, lower=True, trans="T",
                                        check_finite=False)
    finally:
        for k0, D in zip(starts, diag_blocks):  # restore: diagonal blocks, then lower <- upper
            k1 = min(m, k0 + block)
            G[k0:k1, k0:k1] = D
            G[k1:, k0:k1] = G[k0:k1, k1:].T
    return Y


def solve_output_layer(G, Cm, yy, beta, penalty, tol, max_epochs, n_threads, W0=None):
    """Solve every class problem; returns dict W, primal, gap, n_epochs, converged.

    ``penalty="l1"``: the C++ Gram lasso (coordinate descent + Newton steps), stopped at an
    exact duality gap <= ``tol`` * primal.  ``penalty="l2"``: one Cholesky solve of
    ``(G + beta I) W = Cm``; its reported gap is the strong-convexity bound
    ``||grad||^2 / (2 beta)`` of the computed solution (a true upper bound on suboptimality).
    """
    if penalty == "l1":
        W0 = np.zeros((0, 0)) if W0 is None else np.asfortranarray(W0)
        r = _core.gram_lasso(G, np.asfortranarray(Cm), yy, beta, tol, max_epochs, n_threads, W0)
        return {k: np.asarray(v) for k, v in r.items()}
    W = _ridge_solve_in_place(G, beta, Cm)
    GW = G @ W
    grad = GW + beta * W - Cm
    primal = 0.5 * np.einsum("ij,ij->j", W, GW) - np.einsum("ij,ij->j", Cm, W) + 0.5 * yy \
        + 0.5 * beta * np.einsum("ij,ij->j", W, W)
    gap = np.einsum("ij,ij->j", grad, grad) / (2.0 * beta)
    k = Cm.shape[1]
    return {"W": W, "primal": primal, "gap": gap, "n_epochs": np.zeros(k, dtype=np.int32),
            "converged": np.ones(k, dtype=bool)}
