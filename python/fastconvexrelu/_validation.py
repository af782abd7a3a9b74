"""Input and parameter validation, done in Python before any call into ``_core``.

Everything that reaches the C++ kernels is a C-contiguous ``float64`` array without
NaN/inf; every problem with user input is reported as a ``ValueError`` whose message
names the offending argument (``"X"``, ``"y"``, ``"beta"``, ...).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "ConvergenceWarning",
    "NotFittedError",
    "check_X_y",
    "check_X",
    "check_labels",
    "check_is_fitted",
    "check_params",
]


class ConvergenceWarning(UserWarning):
    """Warning raised when a solver stops before reaching its tolerance."""


class NotFittedError(ValueError, AttributeError):
    """Raised when ``predict``/``score``/... is called on an unfitted estimator.

    Subclasses both ``ValueError`` and ``AttributeError`` (like scikit-learn's
    ``NotFittedError``) so that either can be caught.
    """


# --------------------------------------------------------------------------- arrays
def _as_float_array(a, name):
    """Convert ``a`` to a float64 ndarray (any shape), with clear errors."""
    if a is None:
        raise ValueError(f"{name} must be an array-like of numbers, got None.")
    _reject_sparse(a, name)
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged nested lists, exotic objects
        raise ValueError(f"{name} could not be converted to a numeric array: {exc}") from exc
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} has a complex dtype ({arr.dtype}): Complex data not supported.")
    if arr.dtype.kind not in "biuf":
        # object / string / datetime ...: try a numeric conversion
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} could not be converted to a float64 array "
                f"(dtype {arr.dtype}): {exc}"
            ) from exc
        if np.iscomplexobj(arr):  # pragma: no cover - defensive
            raise ValueError(f"{name} has complex values: Complex data not supported.")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _reject_sparse(a, name):
    """Sparse matrices (scipy.sparse, without importing scipy) are not supported."""
    if _is_sparse(a):
        raise ValueError(
            f"{name} is a sparse matrix: sparse input is not supported; convert it with "
            f"{name}.toarray()."
        )


def _check_finite(arr, name):
    if not np.all(np.isfinite(arr)):
        what = "NaN" if np.any(np.isnan(arr)) else "infinity"
        raise ValueError(f"{name} contains {what}; all values must be finite.")


def _check_2d(X, name="X"):
    X = _as_float_array(X, name)
    if X.ndim != 2:
        if X.ndim == 1:
            raise ValueError(
                f"{name} must be a 2-D array of shape (n_samples, n_features), got a 1-D "
                f"array of shape {X.shape}. Reshape your data with {name}.reshape(-1, 1) if "
                f"it has a single feature, or {name}.reshape(1, -1) if it is a single sample."
            )
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got a "
            f"{X.ndim}-D array of shape {X.shape}."
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{name} is empty: found array with 0 sample(s) (shape={X.shape}) while a "
            "minimum of 1 is required."
        )
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    _check_finite(X, name)
    return X


def _as_1d(y, name="y"):
    """Return ``y`` as a 1-D ndarray (not converted to float). (n, 1) columns are raveled."""
    if y is None:
        raise ValueError(
            f"{name} is None: this estimator requires y to be passed, but the target y is None."
        )
    _reject_sparse(y, name)
    try:
        arr = np.asarray(y)
    except Exception as exc:
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of shape (n_samples,), got an array of shape "
            f"{arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples.")
    return arr


#: largest sparse feature matrix (entries) that check_X turns into a dense array (2 GiB)
MAX_DENSIFIED_ENTRIES = 2**28


def _is_sparse(a):
    mod = type(a).__module__ or ""
    return mod.startswith("scipy.sparse") or (hasattr(a, "tocsr") and hasattr(a, "nnz"))


def _densify(X, name):
    """A scipy.sparse matrix as a dense float64 array, if it fits MAX_DENSIFIED_ENTRIES."""
    shape = tuple(int(k) for k in X.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D sparse matrix, got shape {shape}.")
    if shape[0] * shape[1] > MAX_DENSIFIED_ENTRIES:
        raise ValueError(
            f"{name} is a sparse matrix of shape {shape}: too large to densify "
            f"({shape[0] * shape[1] * 8 / 2**30:.1f} GiB as float64; the limit is "
            f"{MAX_DENSIFIED_ENTRIES * 8 / 2**30:.0f} GiB). The kernels work on dense rows: "
            "reduce the number of features first (e.g. sklearn's TruncatedSVD)."
        )
    data = np.asarray(X.tocsr().data)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got a sparse matrix of dtype {data.dtype}.")
    _check_finite(data, name)
    return np.ascontiguousarray(X.toarray(), dtype=np.float64)


def check_X(X, n_features_in=None, name="X"):
    """Validate a feature matrix.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), or a scipy.sparse matrix
        Sparse matrices (e.g. a bag-of-words) are converted to dense arrays when they have at
        most :data:`MAX_DENSIFIED_ENTRIES` entries (2 GiB), else ``ValueError``.
    n_features_in : int or None
        If given (fitted estimator), ``X`` must have that many columns.

    Returns
    -------
    X : ndarray, C-contiguous float64 of shape (n_samples, n_features)
    """
    if _is_sparse(X):
        X = _densify(X, name)
    X = _check_2d(X, name)
    if n_features_in is not None and X.shape[1] != n_features_in:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the estimator was fitted with "
            f"{n_features_in} features."
        )
    return X


def check_X_y(X, y):
    """Validate a regression data set ``(X, y)``.

    Returns C-contiguous float64 arrays ``X`` of shape (n, d) and ``y`` of shape (n,).
    """
    X = check_X(X)
    y = _as_1d(y, "y")
    y = _as_float_array(y, "y")
    _check_finite(y, "y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {X.shape[0]} samples, "
            f"y has {y.shape[0]}."
        )
    return X, y


def check_X_Y(X, Y):
    """Validate a regression data set with scalar or vector targets.

    Returns C-contiguous float64 arrays ``X`` of shape (n, d) and ``Y`` of shape (n,) or
    (n, o) (an (n, 1) column is kept 2-D). A non-finite entry is reported with its column.
    """
    if Y is not None and np.ndim(Y) == 2 and np.shape(Y)[1] != 1:
        X = check_X(X)
        Y = _as_float_array(Y, "y")
        if Y.shape[1] == 0:
            raise ValueError(f"y has 0 output columns (shape={Y.shape}).")
        bad = ~np.all(np.isfinite(Y), axis=0)
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            what = "NaN" if np.any(np.isnan(Y[:, k])) else "infinity"
            raise ValueError(f"y[:, {k}] contains {what}; all target values must be finite.")
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has {X.shape[0]} samples, "
                f"y has {Y.shape[0]}."
            )
        return X, Y
    return check_X_y(X, Y)


def _one_hot_labels(Y, n_samples):
    """Class indices from a one-hot (n, o) 0/1 matrix; every class must occur."""
    Y = _as_float_array(Y, "y")
    _check_finite(Y, "y")
    if n_samples is not None and Y.shape[0] != n_samples:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {n_samples} samples, "
            f"y has {Y.shape[0]}."
        )
    if not np.all((Y == 0) | (Y == 1)) or not np.all(Y.sum(axis=1) == 1):
        raise ValueError(
            "y is 2-D but not one-hot: a 2-D y must have exactly one 1 (and otherwise 0) "
            "in every row."
        )
    empty = np.flatnonzero(Y.sum(axis=0) == 0)
    if empty.size:
        raise ValueError(
            f"y (one-hot) has classes with no samples: column(s) {empty.tolist()}; "
            "drop the empty columns or add samples of those classes."
        )
    if Y.shape[1] < 2:
        raise ValueError("y (one-hot) has a single class; a classifier needs two classes.")
    return np.arange(Y.shape[1]), np.argmax(Y, axis=1)


def check_labels(y, n_samples=None, multiclass=False):
    """Validate class labels.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels of two (or, with ``multiclass``, more) distinct values (numbers, strings,
        ...); with ``multiclass``, also a one-hot 0/1 matrix (classes are its columns,
        each of which must have a sample).
    n_samples : int or None
        Expected number of samples (``X.shape[0]``).
    multiclass : bool, default=False
        Allow more than two classes.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted distinct labels; for two classes ``classes[1]`` is mapped to +1.
    y_enc : ndarray of shape (n_samples,)
        Two classes: the labels mapped to -1/+1 (float64). More (``multiclass``): the class
        indices into ``classes`` (intp).
    """
    if multiclass and y is not None and np.ndim(y) == 2 and np.shape(y)[1] > 1:
        classes, idx = _one_hot_labels(y, n_samples)
        if classes.shape[0] == 2:
            return classes, np.where(idx == 1, 1.0, -1.0)
        return classes, idx.astype(np.intp)
    y = _as_1d(y, "y")
    if np.iscomplexobj(y):
        raise ValueError(f"y has a complex dtype ({y.dtype}): Complex data not supported.")
    if y.dtype.kind == "f":
        _check_finite(y, "y")
    elif y.dtype.kind == "O":
        # numeric NaN hidden in object arrays
        for v in y:
            if isinstance(v, numbers.Real) and not np.isfinite(float(v)):
                raise ValueError("y contains NaN or infinity; all labels must be finite.")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {n_samples} samples, "
            f"y has {y.shape[0]}."
        )
    try:
        classes, y_idx = np.unique(y, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"y has labels of mixed types that cannot be sorted: {exc}") from exc
    if classes.shape[0] < 2:
        raise ValueError(
            f"y has only one class ({classes[0]!r}); a classifier needs two classes."
        )
    if classes.shape[0] > 2:
        if y.dtype.kind == "f" and np.any(classes != np.round(classes)):
            raise ValueError(
                "Unknown label type: y looks continuous (float values that are not "
                f"integers, {classes.shape[0]} distinct); a classifier needs class labels."
            )
        if multiclass:
            return classes, np.asarray(y_idx, dtype=np.intp).ravel()
        raise ValueError(
            f"y has {classes.shape[0]} classes: Only binary classification is supported. "
            "(multiclass is not available yet)."
        )
    y_pm = np.where(np.asarray(y_idx).ravel() == 1, 1.0, -1.0)
    return classes, np.ascontiguousarray(y_pm, dtype=np.float64)


def check_is_fitted(estimator, attributes=("output_weights_",)):
    """Raise :class:`NotFittedError` unless ``estimator`` has all ``attributes``."""
    if not all(hasattr(estimator, a) for a in attributes):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


# ----------------------------------------------------------------------- parameters
def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def check_bool(value, name):
    """``value`` as a bool if it is a Python or NumPy bool, else ValueError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_nonneg_real(value, name):
    """A finite real number >= 0 (not a bool) as a float, else ValueError naming ``name``."""
    if not _is_real(value) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite real number >= 0, got {value!r}.")
    return float(value)


def check_params(*, beta, loss, valid_losses, tol, max_iter, bias=True, verbose=False):
    """Validate estimator hyper-parameters; return them normalized.

    Returns
    -------
    beta : float, loss : str, tol : float, max_iter : int, bias : bool, verbose : bool
    """
    if not _is_real(beta) or np.isnan(beta) or beta < 0 or not np.isfinite(beta):
        raise ValueError(f"beta must be a finite real number >= 0, got {beta!r}.")
    if not isinstance(loss, str) or loss not in valid_losses:
        raise ValueError(
            f"loss must be one of {', '.join(repr(v) for v in valid_losses)}; got {loss!r}."
        )
    if loss == "logistic" and beta == 0:
        raise ValueError("beta must be > 0 for the logistic loss (beta = 0 has no minimizer).")
    if not _is_real(tol) or not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"tol must be a finite real number > 0, got {tol!r}.")
    if max_iter is not None and (
        isinstance(max_iter, (bool, np.bool_))
        or not isinstance(max_iter, numbers.Integral)
        or max_iter < 1
    ):
        raise ValueError(f"max_iter must be None or an integer >= 1, got {max_iter!r}.")
    bias = check_bool(bias, "bias")
    max_iter = None if max_iter is None else int(max_iter)
    return float(beta), loss, float(tol), max_iter, bool(bias), bool(verbose)
