r"""Whitening of a data matrix (Section 2.2.1, Lemma 2.4).

With the compact SVD :math:`A = U\Sigma V^\top` (rank :math:`r`; :math:`U\in\mathbb{R}^{n\times
r}`, :math:`V\in\mathbb{R}^{d\times r}`), the paper whitens by
:math:`\tilde A = AV\Sigma^{-1} = U`, and the zero-phase (ZCA) form is
:math:`\tilde A = AV\Sigma^{-1}V^\top = UV^\top`, which keeps the ``d`` original coordinates.
Both satisfy :math:`\tilde A^\top\tilde A = I_r` (paper) / :math:`V V^\top` (ZCA, the
projection onto the row space) and :math:`\tilde A\tilde A^\top = UU^\top`.  Hence for
``n <= d`` and a full-row-rank ``A`` (:math:`r = n`) *both* forms satisfy
:math:`\tilde A\tilde A^\top = I_n`, the hypothesis of Lemma 2.4 (spike-free), Lemma 3.2
(:math:`\ell_0`-:math:`\ell_1` equivalence) and Corollary 3.6; for ``n > d`` no matrix of rank
at most ``d`` can have :math:`\tilde A\tilde A^\top = I_n`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validation import check_X, check_bool

__all__ = ["whiten"]

_KINDS = ("zca", "paper")


def whiten(X, kind="zca", eps=None, return_transform=False):
    r"""Whiten the data matrix ``X`` (rows are samples), without centering.

    With the compact SVD :math:`X = U\Sigma V^\top` restricted to the singular values
    :math:`\sigma_k > \mathrm{eps}\cdot\sigma_{\max}`:

    * ``kind="zca"`` (zero-phase): :math:`\tilde X = XV\Sigma^{-1}V^\top = UV^\top`,
      shape (n, d), so new samples are mapped by the same :math:`d\times d` matrix;
    * ``kind="paper"``: :math:`\tilde X = XV\Sigma^{-1} = U`, shape (n, r) (Section 2.2.1).

    For ``n <= d`` and full row rank both give :math:`\tilde X\tilde X^\top = I_n`
    (Lemma 2.4: the whitened matrix is spike-free and the closed form of Lemma 3.1 is
    optimal for (4), Lemma 3.2).  In general :math:`\tilde X\tilde X^\top = UU^\top` is the
    projection onto the column space of ``X`` and :math:`\tilde X^\top\tilde X` is
    :math:`I_r` (paper) or the projection :math:`VV^\top` onto the row space (ZCA).  The
    data are not centered (the paper's ``A`` is used as is); center first for a covariance
    whitening.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    kind : {"zca", "paper"}, default="zca"
    eps : float or None, default=None
        Relative cut-off: singular values :math:`\le \mathrm{eps}\,\sigma_{\max}` are treated
        as zero (dropped).  ``None`` means ``max(n, d) * machine epsilon`` (numerical rank).
    return_transform : bool, default=False
        Also return ``T`` with :math:`\tilde X = XT`: :math:`V\Sigma^{-1}V^\top` (d, d) or
        :math:`V\Sigma^{-1}` (d, r).

    Returns
    -------
    Xw : ndarray of shape (n, d) (zca) or (n, r) (paper)
    T : ndarray, only if ``return_transform``

    Raises
    ------
    ValueError
        Bad ``X`` (NaN/inf, not 2-D, empty), ``X`` equal to zero, unknown ``kind`` or a bad
        ``eps``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import whiten
    >>> X = np.random.default_rng(0).standard_normal((3, 5))
    >>> np.allclose(whiten(X) @ whiten(X).T, np.eye(3))
    True
    """
    A = check_X(X, name="X")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    n, d = A.shape
    if eps is None:
        eps = max(n, d) * np.finfo(float).eps
    elif (
        isinstance(eps, (bool, np.bool_))
        or not isinstance(eps, numbers.Real)
        or not np.isfinite(eps)
        or not 0 <= eps < 1
    ):
        raise ValueError(f"eps must be a real number in [0, 1) or None, got {eps!r}.")
    return_transform = check_bool(return_transform, "return_transform")
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    if s[0] == 0:
        raise ValueError("X is zero: it cannot be whitened (rank 0).")
    r = int(np.sum(s > eps * s[0]))
    U, s, V = U[:, :r], s[:r], Vt[:r].T
    if kind == "paper":
        Xw = U.copy()
        T = V / s
    else:
        Xw = U @ V.T
        T = (V / s) @ V.T
    return (Xw, T) if return_transform else Xw
