r"""scikit-learn compatible estimators for globally optimal two-layer ReLU networks.

scikit-learn is *not* imported here at run time; the estimators implement its API
(``get_params``/``set_params``, ``fit``/``predict``/``score``, fitted attributes with a
trailing underscore, ``__sklearn_tags__``) so that ``clone``, ``Pipeline``,
``GridSearchCV`` and ``cross_val_score`` work with them.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from typing import Any, NamedTuple

import numpy as np

from ._deadline import time_limit
from ._objective import network_output
from ._solvers_1d import fit_extreme_points, line_parametrization
from ._validation import (
    ConvergenceWarning,
    check_is_fitted,
    check_labels,
    check_params,
    check_X,
    check_X_Y,
    _is_real,
)

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier"]

_VALID_SOLVERS = ("auto", "extreme_points", "cutting_plane", "arrangements", "seeded")
_VALID_PENALTIES = ("auto", "weight_decay", "l1")
# losses of the weight-decay vector-output solver (fastconvexrelu.vector_outputs); the
# classifier's "logistic" is the softmax for several classes
_WEIGHT_DECAY_LOSSES = ("squared", "huber", "logistic")
_FITTED_ATTRS = ("output_weights_", "hidden_weights_", "n_features_in_")


# max_iter=None: each solver's own default (its iterations differ in kind and cost)
_DEFAULT_MAX_ITER = {"extreme_points": 200, "cutting_plane": 200, "arrangements": 100_000}
# pattern sources of solver="arrangements" (see fit_arrangements)
_VALID_PATTERNS = ("auto", "enumerate", "sample", "seeded")


def _input_scale(X):
    """1.0 for inputs of ordinary magnitude; else the power of 2 nearest to max |X| (so that
    X / s is exact), for max |X| outside [2^-20, 2^20] (~1e-6 .. 1e6): the kernels work in
    float32 in places and square entries, which would overflow or underflow there."""
    amax = float(np.max(np.abs(X))) if X.size else 0.0
    if amax == 0.0 or 2.0 ** -20 <= amax <= 2.0 ** 20:
        return 1.0
    return float(2.0 ** round(math.log2(amax)))


def _intercept_fits_exactly(y, params, sample_weight):
    """True when the intercept alone gives f(X) = y on every sample of positive weight: a
    squared or Huber loss with a bias and each target column constant there (e.g. a
    constant y).  The network without neurons is then the exact global optimum (J = 0)."""
    if not params.bias or params.loss not in ("squared", "huber"):
        return False
    if params.beta == 0 and (params.loss == "huber" or params.solver in ("arrangements", "seeded")):
        return False  # invalid combinations: the route raises its ValueError
    if params.loss == "huber" and params.solver in ("cutting_plane", "extreme_points"):
        return False
    Y = y if y.ndim == 2 else y[:, None]
    if sample_weight is not None:
        Y = Y[np.asarray(sample_weight) > 0]
    return Y.shape[0] > 0 and bool(np.all(Y == Y[:1]))


def _intercept_only_optimum(X, y, params, sample_weight):
    """(c*, V): the optimal intercept c* (float, or (o,) array) and its dual point when the network without neurons is the
    global optimum, else None.  With a bias, f = c* (c* minimizing the loss alone: squared ->
    weighted means, logistic -> log-odds, softmax -> log class weights, hinge -> the sign of
    the weightier class) is optimal iff its
    dual point V = -grad_f L(c*) (rows sum to 0) satisfies sigma(V) <= beta (no neuron can
    enter).  For any u with ||u|| <= 1 and b, (X u + b)_+ - t 1 (t = the entry at the sample
    with the smallest X u) has entries in [0, diam(X)], so with sum_i V_i = 0,
    ||V^T (X u + b)_+|| <= sum_i ||V_i||_2 diam(X) <= sum_i ||V_i||_2 2 max_i ||x_i - x_bar||;
    that bound <= beta certifies the intercept-only network (always so for constant X).
    Also the exact fits of :func:`_intercept_fits_exactly` (V = 0)."""
    if _intercept_fits_exactly(y, params, sample_weight):
        keep = slice(None) if sample_weight is None else np.asarray(sample_weight) > 0
        c = np.asarray(y[keep][0], dtype=np.float64) if y.ndim == 2 else float(y[keep][0])
        return c, np.zeros(y.shape)
    if not params.bias or params.beta <= 0 or params.loss not in ("squared", "logistic", "hinge"):
        return None
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    S = float(np.sum(s))
    if not S > 0:
        return None
    if params.loss == "squared":
        c = (s @ Y) / S
        V = s[:, None] * (Y - c)
    elif params.loss == "hinge":  # per +-1 column: c = sign(S+ - S-), V = -(a subgradient)
        c = np.zeros(Y.shape[1])
        V = np.zeros(Y.shape)
        for k in range(Y.shape[1]):
            pos = Y[:, k] > 0
            sp, sm = float(np.sum(s[pos])), float(np.sum(s[~pos]))
            if sp > sm:  # c = 1: the -1 samples have slope s_i, the +1 ones a share of theirs
                c[k] = 1.0
                V[:, k] = np.where(pos, s * (sm / sp), -s)
            elif sp < sm:
                c[k] = -1.0
                V[:, k] = np.where(pos, s, -s * (sp / sm))
            else:
                V[:, k] = s * Y[:, k]
    elif Y.shape[1] == 1:  # binary logistic, y in {-1, +1}
        sp, sm = float(np.sum(s[Y[:, 0] > 0])), float(np.sum(s[Y[:, 0] < 0]))
        if not (sp > 0 and sm > 0):
            return None  # one class only: no minimizer
        c = np.array([math.log(sp / sm)])
        V = (s * Y[:, 0] / (1.0 + np.exp(Y[:, 0] * c[0])))[:, None]
    else:  # softmax on one-hot rows
        Sk = s @ Y
        if not np.all(Sk > 0):
            return None
        c = np.log(Sk / S)
        c -= c.mean()
        p = np.exp(c - c.max())
        p /= p.sum()
        V = s[:, None] * (Y - p)
    diam = 2.0 * float(np.max(np.linalg.norm(X - X.mean(axis=0), axis=1)))
    bound = float(np.sum(np.linalg.norm(V, axis=1))) * diam
    if not bound <= params.beta:
        return None
    return (float(c[0]), V[:, 0]) if np.ndim(y) == 1 else (c, V)


def _restore_on_error(fit):
    """``fit`` is all or nothing: on any exception (a ValueError, or KeyboardInterrupt from a
    signal during the C++ kernels) the estimator's attributes are restored to what they were
    before the call, so an interrupted fit leaves no half-set fitted attributes."""
    import functools

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


class _Params(NamedTuple):
    beta: float
    loss: str
    tol: float
    max_iter: int
    bias: bool
    verbose: bool
    solver: str
    n_patterns: Any
    random_state: Any
    huber_delta: float
    patterns: str = "auto"


class _ParamsMixin:
    """Minimal ``BaseEstimator``: parameters are exactly the ``__init__`` arguments."""

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__} must not take *args in __init__")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep=True):
        """Get the parameters of this estimator.

        Parameters
        ----------
        deep : bool, default=True
            Also return parameters of contained estimators (as ``name__param``).

        Returns
        -------
        params : dict
        """
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for k, v in value.get_params(deep=True).items():
                    out[f"{name}__{k}"] = v
            out[name] = value
        return out

    def set_params(self, **params):
        """Set the parameters of this estimator; returns ``self``.

        Raises
        ------
        ValueError
            For a name that is not a parameter of this estimator.
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested = {}
        for key, value in params.items():
            name, delim, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {sorted(self._get_param_names())!r}."
                )
            if delim:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self):
        sig = inspect.signature(type(self).__init__)
        parts = []
        for name in self._get_param_names():
            value = getattr(self, name)
            default = sig.parameters[name].default
            changed = True
            try:
                changed = not (value is default or (type(value) is type(default) and value == default))
            except Exception:  # e.g. arrays
                pass
            if changed:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)


class _BaseConvexReLU(_ParamsMixin):
    """Shared fitting machinery; subclasses define the losses and the target handling."""

    _valid_losses: tuple = ()
    _estimator_type: str = ""

    # -- fitting ----------------------------------------------------------------------
    #: beta="auto" is this rate times the number of samples (the objective sums the losses)
    _auto_beta_rate = 1e-3

    def _resolve_beta(self, n_samples):
        """``beta`` with "auto" resolved to ``_auto_beta_rate * n_samples``; sets ``beta_``."""
        beta = self.beta
        if isinstance(beta, str):
            if beta != "auto":
                raise ValueError(f"beta must be 'auto' or a finite real number >= 0, got {beta!r}.")
            beta = self._auto_beta_rate * n_samples
        self.beta_ = float(beta)
        return beta

    def _check_params(self, n_samples=1):
        beta, loss, tol, max_iter_, bias, verbose = check_params(
            beta=self._resolve_beta(n_samples),
            loss=self.loss,
            valid_losses=self._valid_losses,
            tol=self.tol,
            max_iter=self.max_iter,
            bias=self.bias,
            verbose=self.verbose,
        )
        solver = self.solver
        if not isinstance(solver, str) or solver not in _VALID_SOLVERS:
            raise ValueError(
                f"solver must be one of {', '.join(repr(s) for s in _VALID_SOLVERS)}; got "
                f"{solver!r}."
            )
        n_patterns = self.n_patterns
        if n_patterns is not None and (
            isinstance(n_patterns, (bool, np.bool_))
            or not isinstance(n_patterns, numbers.Integral)
            or n_patterns < 1
        ):
            raise ValueError(f"n_patterns must be None or an integer >= 1, got {n_patterns!r}.")
        if self.random_state is not None and not isinstance(
            self.random_state, (numbers.Integral, np.random.Generator, np.random.RandomState)
        ):
            raise ValueError(
                "random_state must be None, an int or a numpy Generator, got "
                f"{self.random_state!r}."
            )
        patterns = getattr(self, "patterns", "auto")
        if not isinstance(patterns, str) or patterns not in _VALID_PATTERNS:
            raise ValueError(
                f"patterns must be one of {', '.join(repr(s) for s in _VALID_PATTERNS)}; got "
                f"{patterns!r}."
            )
        self._resolve_penalty(loss)  # validates ``penalty``
        max_time = getattr(self, "max_time", None)
        if max_time is not None and (not _is_real(max_time) or not max_time > 0):
            raise ValueError(f"max_time must be None or a real number > 0 (seconds), got "
                             f"{max_time!r}.")
        huber_delta = getattr(self, "huber_delta", 1.0)
        if not _is_real(huber_delta) or not np.isfinite(huber_delta) or huber_delta <= 0:
            raise ValueError(f"huber_delta must be a finite real number > 0, got {huber_delta!r}.")
        return _Params(
            beta, loss, tol, max_iter_, bias, verbose, solver,
            None if n_patterns is None else int(n_patterns), self.random_state,
            float(huber_delta), patterns,
        )

    def _resolve_penalty(self, loss, vector=False):
        """``penalty`` with "auto" resolved: weight decay where the weight-decay solver
        supports ``loss`` (squared, huber, logistic/softmax), else l1. ValueError for an
        invalid value, and for "weight_decay" with vector outputs and an unsupported loss."""
        penalty = getattr(self, "penalty", "auto")
        if not isinstance(penalty, str) or penalty not in _VALID_PENALTIES:
            raise ValueError(
                f"penalty must be one of {', '.join(repr(p) for p in _VALID_PENALTIES)}; got "
                f"{penalty!r}."
            )
        if penalty == "auto":
            return "weight_decay" if loss in _WEIGHT_DECAY_LOSSES else "l1"
        if penalty == "weight_decay" and vector and loss not in _WEIGHT_DECAY_LOSSES:
            raise ValueError(
                f"penalty='weight_decay' is not available with loss={loss!r} for vector "
                "outputs / more than two classes; use penalty='l1' (or 'auto')."
            )
        return penalty

    def _fit_weight_decay(self, X, Y, params):
        """Vector outputs with the weight-decay penalty: column generation on (48)-(49) of
        supplementary A.7, see :mod:`fastconvexrelu.vector_outputs`."""
        from .vector_outputs import fit_weight_decay

        beta, loss, tol, max_iter, bias, verbose, solver = params[:7]
        if beta == 0:
            raise ValueError(
                "beta must be > 0 for vector outputs with penalty='weight_decay'."
            )
        if solver == "extreme_points":
            raise ValueError(
                "solver='extreme_points' needs scalar outputs; use solver='auto' for vector "
                "outputs with penalty='weight_decay'."
            )
        max_iter = _DEFAULT_MAX_ITER["cutting_plane"] if max_iter is None else max_iter
        res = fit_weight_decay(
            X, Y, loss="softmax" if loss == "logistic" else loss, beta=beta, bias=bias,
            tol=tol, max_iter=max_iter, n_patterns=params.n_patterns,
            random_state=params.random_state, huber_delta=params.huber_delta, verbose=verbose,
        )
        self._store(res, "cutting_plane", X)
        self.relaxation_gap_ = float(res.relaxation_gap)
        self.restricted_gap_ = float(res.restricted_gap)
        self.n_patterns_ = int(res.n_patterns)
        self.patterns_exact_ = bool(res.patterns_exact)
        if verbose:
            print(
                f"[{type(self).__name__}] weight decay, {'converged' if self.converged_ else 'NOT converged'} "
                f"after {self.n_iter_} rounds: objective={self.objective_:.10g} "
                f"duality_gap={self.duality_gap_:.3e} relaxation_gap={self.relaxation_gap_:.3e} "
                f"active_neurons={self.n_active_} ({res.message})"
            )
        self._warn_if_not_converged("cutting_plane", max_iter, tol, res.message)
        return self

    def _use_seeded(self, X, y, params, weighted=False):
        """solver="seeded", or "auto" for the cross-entropy classifier when neither the exact
        1-D route nor the enumerated arrangement applies (and no pattern options are set);
        with sample weights always under "auto" (the one weighted route)."""
        if params.solver == "seeded":
            if self._estimator_type != "classifier" or params.loss != "logistic":
                raise ValueError(
                    "solver='seeded' is the cross-entropy classification route: it needs "
                    "ConvexReLUClassifier with loss='logistic'."
                )
            if params.beta == 0:
                raise ValueError("solver='seeded' needs beta > 0.")
            return True
        if weighted and (params.solver == "auto" and self._estimator_type == "regressor"
                         and y.ndim == 1 and params.loss in ("squared", "huber")
                         and params.patterns == "auto" and params.n_patterns is None
                         and params.beta > 0):
            return True  # the weighted regression route
        if (params.solver != "auto" or self._estimator_type != "classifier"
                or params.loss != "logistic" or params.patterns != "auto"
                or params.n_patterns is not None):
            return False
        if weighted:
            return True
        from ._solver_arrangements import arrangement_is_small

        if y.ndim == 1 and line_parametrization(X, params.bias)[0] is not None:
            return False  # exact extreme-point route (d = 1 or samples on a line)
        return not arrangement_is_small(X, params.bias, None)

    def _fit_weight_decay_seeded(self, X, y, params, sample_weight=None):
        """The seeded weight-decay route (:mod:`fastconvexrelu.weight_decay_seeded`)."""
        from .weight_decay_seeded import fit_weight_decay_seeded

        Y = y[:, None] if y.ndim == 1 else y
        if self._estimator_type == "regressor":
            loss = params.loss
        else:
            loss = "logistic" if Y.shape[1] == 1 else "softmax"
        res = fit_weight_decay_seeded(X, Y, loss=loss, beta=params.beta, bias=params.bias,
                                      tol=max(params.tol, 1e-4), random_state=params.random_state,
                                      verbose=params.verbose, sample_weight=sample_weight,
                                      huber_delta=params.huber_delta)
        self.penalty_ = "weight_decay"
        self._store(res, "seeded", X)
        self.relaxation_gap_ = float(res.relaxation_gap)
        self.restricted_gap_ = float(res.restricted_gap)
        self.n_patterns_ = int(res.n_patterns)
        self.patterns_exact_ = False
        if params.verbose:
            print(f"[{type(self).__name__}] seeded weight decay: objective={self.objective_:.10g} "
                  f"restricted_gap={self.restricted_gap_:.3e} active_neurons={self.n_active_} "
                  f"({res.message})")
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__}: solver 'seeded': the convex master over the seed "
                f"neurons stopped at restricted gap {self.restricted_gap_:.3e} (objective "
                f"{self.objective_:.6g}, tol={params.tol:g}); the network is not certified "
                "(duality_gap_ = inf). A larger beta converges faster.",
                ConvergenceWarning,
                stacklevel=4,
            )
        return self

    def _fit_network(self, X, y, params, sample_weight=None):
        """:meth:`_fit_with_input_scale` under ``max_time`` (:mod:`._deadline`)."""
        max_time = getattr(self, "max_time", None)
        if max_time is None:
            return self._fit_with_input_scale(X, y, params, sample_weight)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with time_limit(max_time) as passed:
                self._fit_with_input_scale(X, y, params, sample_weight)
        timed_out = passed()
        for w in caught:  # the route's own warnings, but not-converged ones: see below
            if not (timed_out and issubclass(w.category, ConvergenceWarning)):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if timed_out:
            # the loops stopped at max_time: the network is the best found so far; a finite
            # duality_gap_ is still a true bound for it (it was computed for this network)
            self.converged_ = False
            warnings.warn(
                f"{type(self).__name__}: the fit reached max_time={max_time:g} s and stopped "
                f"early with the best network so far (converged_ = False, objective "
                f"{self.objective_:.6g}, certified duality gap {self.duality_gap_:.3e}).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _fit_with_input_scale(self, X, y, params, sample_weight=None):
        """Fit on ``X / s`` with ``beta / s`` for inputs of extreme magnitude (s a power of 2,
        see :func:`_input_scale`) and map the hidden weights back, u = u' / s: the networks
        compute the same outputs, J(X, beta) of the mapped network equals J(X / s, beta / s)
        of the fitted one (||u|| = ||u'|| / s), and a dual point v certifies both (sigma_X(v)
        = s sigma_{X/s}(v)), so objective_, duality_gap_ and dual_coef_ carry over."""
        s = _input_scale(X)
        if s == 1.0:
            return self._fit_network_scaled(X, y, params, sample_weight)
        self._fit_network_scaled(X / s, y, params._replace(beta=params.beta / s), sample_weight)
        self.hidden_weights_ = self.hidden_weights_ / s
        self.input_scale_ = s
        self.__dict__.pop("_warm_", None)  # warm starts of the scaled problem do not carry over
        return self

    def _fit_network_scaled(self, X, y, params, sample_weight=None):
        beta, loss, tol, max_iter, bias, verbose, solver = params[:7]
        vector = y.ndim == 2
        self.penalty_ = self._resolve_penalty(loss, vector)
        if vector and params.patterns == "seeded":
            raise ValueError(
                "patterns='seeded' supports scalar outputs only (y of shape (n,)); use "
                "patterns='auto', 'enumerate' or 'sample' for vector outputs / multiclass."
            )
        c_only = _intercept_only_optimum(X, y, params, sample_weight)
        if c_only is not None and (
            sample_weight is None or self._use_seeded(X, y, params, weighted=True)
        ):
            return self._fit_intercept_only(X, y, params, sample_weight, *c_only)
        if self._use_seeded(X, y, params, weighted=sample_weight is not None):
            return self._fit_weight_decay_seeded(X, y, params, sample_weight)
        if sample_weight is not None:
            raise ValueError(
                "sample_weight is supported by the seeded routes with solver='auto' (or "
                "'seeded') and patterns='auto': ConvexReLUClassifier with loss='logistic', "
                "ConvexReLURegressor with scalar targets, loss='squared' or 'huber' and "
                f"beta > 0; got solver={solver!r}, loss={loss!r}, patterns={params.patterns!r}"
                + (", vector targets" if vector else "") + "."
            )
        if vector and y.shape[1] > 1 and self.penalty_ == "weight_decay":
            # (one output column: both penalties are the same problem, the l1 path solves it)
            return self._fit_weight_decay(X, y, params)
        if solver == "cutting_plane":
            if vector:
                raise ValueError(
                    "solver='cutting_plane' supports scalar outputs only; use "
                    "solver='arrangements' for vector outputs / multiclass."
                )
            return self._fit_cutting_plane(X, y, params)
        if solver == "arrangements":
            return self._fit_arrangements(X, y, params)
        line, reason = (None, "vector outputs") if vector else line_parametrization(X, bias)
        if loss == "huber":
            line, reason = None, "the Huber loss"
        if line is None:
            if solver == "auto":
                from ._solver_arrangements import arrangement_is_small

                # the pattern program: all patterns when the arrangement is small (exact,
                # certified), else seeded patterns for scalar outputs (lowest J in
                # bench/results/general.md: below the cutting plane, sampled patterns, pyscnn
                # and backprop), sampled ones for vector outputs; the cutting plane only for
                # beta = 0 (minimum norm) without bias, which the program does not handle
                if (
                    not vector
                    and loss in ("squared", "hinge")
                    and beta == 0
                    and not bias
                    and not arrangement_is_small(X, bias, params.n_patterns)
                ):
                    return self._fit_cutting_plane(X, y, params)
                return self._fit_arrangements(X, y, params)
            raise ValueError(
                "solver='extreme_points' needs scalar outputs, a squared/hinge/logistic loss "
                "and d = 1 or samples on one line (through any point when bias=True, through "
                "the origin when bias=False): " + reason + "."
            )
        used = "extreme_points"
        if verbose:
            print(
                f"[{type(self).__name__}] solver={used} n_samples={X.shape[0]} "
                f"n_features={X.shape[1]} loss={loss} beta={beta:g} bias={bias}"
            )
        max_iter = _DEFAULT_MAX_ITER[used] if max_iter is None else max_iter
        res = fit_extreme_points(
            X, y, line, loss=loss, beta=beta, bias=bias, tol=tol, max_iter=max_iter
        )
        self._store(res, used, X)
        if verbose:
            self._print_history(res.history_gap, res.message)
        self._warn_if_not_converged(used, max_iter, tol, res.message)
        return self

    def _fit_intercept_only(self, X, y, params, sample_weight, c, V):
        """The network without neurons, f = c, when it is the global optimum (see
        :func:`_intercept_only_optimum`): either c fits every (weighted) target exactly (J = 0,
        the minimum of the non-negative objective; dual point V = 0), or the dual point
        V = -grad L(c) of the loss-optimal intercept satisfies sigma(V) <= beta.  Then
        D(V) = L(c) (Fenchel-Young with sum_i V_i = 0), so the certified gap is 0."""
        from ._objective import network_objective

        d = X.shape[1]
        W = np.zeros((0, y.shape[1])) if y.ndim == 2 else np.zeros(0)

        class _Res(NamedTuple):
            hidden_weights: Any
            hidden_bias: Any
            output_weights: Any
            intercept: Any
            objective: float
            duality_gap: float
            dual_coef: Any
            n_iter: int
            converged: bool

        if params.beta > 0:
            loss = "softmax" if params.loss == "logistic" and y.ndim == 2 else params.loss
            J = network_objective(X, y, np.zeros((d, 0)), np.zeros(0), W, c, params.beta,
                                  loss, huber_delta=params.huber_delta,
                                  sample_weight=sample_weight)
        else:  # minimum-norm interpolation: the intercept interpolates, norm 0
            J = 0.0
        self._store(_Res(np.zeros((d, 0)), np.zeros(0), W, c, float(J), 0.0,
                         V, 0, True), "intercept_only", X)
        if y.ndim == 2:
            self.relaxation_gap_ = 0.0
        self.restricted_gap_ = 0.0
        if params.verbose:
            print(f"[{type(self).__name__}] no neuron can lower J (sigma(dual) <= beta): "
                  f"intercept-only network, objective={self.objective_:.3g}, duality_gap=0")
        return self

    def _store(self, res, used, X):
        """Set the fitted attributes shared by every solver from a solver result."""
        W = np.asarray(res.output_weights, dtype=np.float64)
        self.hidden_weights_ = np.asarray(res.hidden_weights, dtype=np.float64)
        hb = getattr(res, "hidden_bias", None)
        self.hidden_bias_ = np.zeros(W.shape[0]) if hb is None else np.asarray(hb, float)
        self.output_weights_ = W
        c = np.asarray(getattr(res, "intercept", 0.0), dtype=np.float64)  # 0: bias-free
        self.intercept_ = float(c) if c.ndim == 0 else c
        self.objective_ = float(res.objective)
        self.duality_gap_ = float(res.duality_gap)
        self.dual_coef_ = res.dual_coef
        self.solver_ = used
        self.n_iter_ = int(res.n_iter)
        self.n_features_in_ = int(X.shape[1])
        self.converged_ = bool(res.converged)
        nz = W != 0 if W.ndim == 1 else np.any(W != 0, axis=1)
        self.n_active_ = int(np.count_nonzero(nz))

    def _print_history(self, history_gap, message):
        name = type(self).__name__
        hist = list(enumerate(history_gap, start=1))
        if len(hist) > 20:  # keep the log short: first and last 10 checks
            hist = hist[:10] + [None] + hist[-10:]
        for item in hist:
            if item is None:
                print("  ...")
            else:
                print(f"  check {item[0]:4d}  certified gap {item[1]:.3e}")
        status = "converged" if self.converged_ else "NOT converged"
        print(
            f"[{name}] {status} after {self.n_iter_} iterations: "
            f"objective={self.objective_:.10g} duality_gap={self.duality_gap_:.3e} "
            f"active_neurons={self.n_active_}" + (f" ({message})" if message else "")
        )

    def _warn_if_not_converged(self, used, max_iter, tol, message):
        if not self.converged_ and getattr(self, "patterns_source_", None) == "seeded":
            # the seeded route stops at its own budgets (not max_iter) and never certifies
            warnings.warn(
                f"{type(self).__name__}: solver '{used}' with seeded patterns is not certified "
                f"(duality gap {self.duality_gap_:.3e}, tol={tol:g})"
                + (f": {message}" if message else "")
                + ". A finite certified gap needs an arrangement small enough to enumerate "
                "(patterns='enumerate', small d).",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif not self.converged_:
            stalled = "stalled" in (message or "")
            warnings.warn(
                f"{type(self).__name__}: solver '{used}' did not converge "
                + ("(it stalled before max_iter)" if stalled
                   else f"within max_iter={max_iter} iterations")
                + f" (certified duality gap {self.duality_gap_:.3e}, tol={tol:g})"
                + (f": {message}" if message else "")
                + (". A larger beta or tol converges faster." if stalled
                   else ". Increase max_iter or tol."),
                ConvergenceWarning,
                stacklevel=4,
            )

    def _fit_arrangements(self, X, y, params, warm_start=None):
        """solver='arrangements' (and 'auto' on general data): the convex program over
        activation patterns, see :mod:`fastconvexrelu._solver_arrangements`."""
        from ._solver_arrangements import fit_arrangements

        beta, loss, tol, max_iter, bias, verbose, solver, n_patterns, rng, delta = params[:10]
        max_iter = _DEFAULT_MAX_ITER["arrangements"] if max_iter is None else max_iter
        if warm_start is None:
            warm_start = getattr(self, "_path_warm_start", None)
        if loss == "logistic" and y.ndim == 2:
            loss = "softmax"
        res = fit_arrangements(
            X, y, loss=loss, beta=beta, bias=bias, tol=tol, max_iter=max_iter,
            n_patterns=n_patterns, random_state=rng, huber_delta=delta, verbose=verbose,
            warm_start=warm_start, patterns=params.patterns,
        )
        self._store(res, "arrangements", X)
        self.restricted_gap_ = float(res.restricted_gap)
        self.n_patterns_ = int(res.n_patterns)
        self.patterns_exact_ = bool(res.patterns_exact)
        self.patterns_source_ = str(res.source)
        self._warm_ = res.warm
        if verbose:
            status = "converged" if self.converged_ else "NOT converged"
            print(
                f"[{type(self).__name__}] arrangements ({self.n_patterns_} "
                f"{'enumerated' if self.patterns_exact_ else self.patterns_source_} patterns) "
                f"{status} "
                f"after {self.n_iter_} iterations: objective={self.objective_:.10g} "
                f"duality_gap={self.duality_gap_:.3e} restricted_gap={self.restricted_gap_:.3e} "
                f"active_neurons={self.n_active_}"
            )
        self._warn_if_not_converged("arrangements", max_iter, tol, res.message)
        return self

    def _fit_cutting_plane(self, X, y, params):
        """solver='cutting_plane': Algorithm 1 (bias=False) / Algorithm 3 (bias=True), see
        fastconvexrelu.cutting_plane."""
        beta, loss, tol, max_iter, bias, verbose, solver = params[:7]
        max_iter = _DEFAULT_MAX_ITER["cutting_plane"] if max_iter is None else max_iter
        from .cutting_plane import cutting_plane

        if bias:
            pool = {} if params.n_patterns is None else {"n_patterns": params.n_patterns}
            if params.random_state is not None:
                pool["random_state"] = params.random_state
            res = cutting_plane(
                X, y, loss=loss, beta=beta, tol=tol, max_iter=max_iter, bias=True,
                verbose=verbose, **pool,
            )
        else:
            res = cutting_plane(
                X, y, loss=loss, beta=beta, tol=tol, max_iter=max_iter, oracle="auto",
                verbose=verbose,
            )
        self._store(res, "cutting_plane", X)
        self.relaxation_gap_ = float(res.relaxation_gap)
        if not bias and self.n_active_ == 0 and not np.isfinite(self.duality_gap_):
            # Algorithm 1's oracle is the spike-free relaxation (15): on data that is not
            # spike-free its cone {u : X u >= 0} can be {0}, and the "converged" fit is empty
            warnings.warn(
                f"{type(self).__name__}: solver='cutting_plane' with bias=False optimizes over "
                "the spike-free relaxation (eq. 15), exact only for spike-free data "
                "(Proposition 3.2); here it admits no neuron (the cone {u : X u >= 0} is {0}), "
                "so the fit is the zero network and is not certified (duality_gap_ = inf). "
                "Use solver='arrangements' or 'auto'.",
                UserWarning,
                stacklevel=3,
            )
        return self

    def path(self, X, y, betas):
        r"""Fit copies of this estimator for each :math:`\beta` in ``betas`` (descending) with
        warm starts; see :func:`fastconvexrelu.regularization_path`. ``self`` is unchanged.

        Returns
        -------
        RegularizationPath
        """
        from .path import regularization_path

        return regularization_path(self, X, y, betas)

    def _decision(self, X):
        check_is_fitted(self, _FITTED_ATTRS)
        X = check_X(X, self.n_features_in_)
        return network_output(
            X, self.hidden_weights_, self.hidden_bias_, self.output_weights_, self.intercept_
        )

    # -- sklearn tags -------------------------------------------------------------------
    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_y": True, "allow_nan": False}

    def __sklearn_tags__(self):  # scikit-learn >= 1.6 (imported only when sklearn asks)
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        is_clf = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(multi_class=False) if is_clf else None,
            regressor_tags=None if is_clf else RegressorTags(),
            input_tags=InputTags(two_d_array=True, allow_nan=False),
        )

    # -- certificate on general data (issue 17) --------------------------------------------
    def certify(self, X, y, time_limit=None, node_limit=None, rel_tol=1e-4, n_threads=0,
                verbose=False, improve=False):
        r"""Prove how far the fitted network is from the global optimum on ``(X, y)``: the
        exact, anytime dual oracle of :func:`fastconvexrelu.certify_network` (branch and bound
        for :math:`\sigma(g) = \max_{\|u\|\le1, b}|g^\top(Xu + b\mathbf 1)_+|`).

        Sets ``dual_`` (the feasible dual point, shape (n,); :math:`\mathbf 1^\top` ``dual_``
        = 0 exactly with ``bias=True``), ``lower_bound_`` (:math:`D` at it, a lower bound on
        the optimum), ``duality_gap_ = objective_ - lower_bound_`` (a proven bound; ``inf``
        with ``certificate_.message`` saying why when nothing could be certified, e.g. vector
        outputs) and ``certificate_`` (the full :class:`NetworkCertificate`). A time or node
        limit gives a larger, still true, gap.

        Parameters
        ----------
        X, y : the training data of ``fit``
        time_limit : float or None
            Seconds for the dual oracle (None: until it converges).
        node_limit : int or None
        rel_tol : float, default=1e-4
            Relative accuracy of the bound on :math:`\sigma`.
        n_threads : int, default=0 (all cores)
        verbose : bool or float
        improve : bool, default=False
            Also drive the network towards the global optimum
            (:func:`fastconvexrelu.exact_column_generation.exact_column_generation`): while
            the certified gap is above ``tol * J`` and ``time_limit`` (default 60 s) lasts,
            add the most violated neuron the oracle finds, re-solve the convex master and
            move the neurons by local descent. The fitted network (``hidden_weights_``, ...,
            ``objective_``, ``n_active_``) is replaced by the best certified one; J never
            increases. Scalar outputs, ``loss="squared"`` or ``"logistic"``, ``beta > 0``; the
            oracle is exact (and the rounds fast) for few features (d <= 3).

        Returns
        -------
        self
        """
        from .network_certificate import certify_network

        check_is_fitted(self, _FITTED_ATTRS)
        params = self._check_params()
        if self._estimator_type == "classifier":
            X = check_X(X, self.n_features_in_)
            classes, y_enc = check_labels(y, X.shape[0], multiclass=True)
            if classes.shape[0] != self.classes_.shape[0] or not np.all(
                classes.astype(object) == np.asarray(self.classes_).astype(object)
            ):
                raise ValueError("y: its classes differ from the fitted classes_.")
        else:
            X, y_enc = check_X_Y(X, y)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but the estimator was fitted with "
                    f"{self.n_features_in_}."
                )
        W = np.asarray(self.output_weights_, dtype=np.float64)
        # the solver's own dual (when it is one vector per sample) is a second candidate
        dual = getattr(self, "dual_coef_", None)
        dual = None if dual is None else np.asarray(dual, dtype=np.float64).ravel()
        if dual is not None and not np.all(np.isfinite(dual)):
            dual = None
        scalar = np.ndim(y_enc) == 1 and W.ndim == 1 and params.beta > 0
        if improve and not (scalar and params.loss in ("squared", "logistic")):
            raise ValueError("certify(improve=True) needs scalar outputs (a regressor with y of "
                             "shape (n,) or two classes), loss 'squared' or 'logistic' and "
                             f"beta > 0; got loss={params.loss!r}, beta={params.beta:g}.")
        if improve:
            from .exact_column_generation import exact_column_generation

            tl = 60.0 if time_limit is None else time_limit
            res = exact_column_generation(
                X, y_enc, self.hidden_weights_, self.hidden_bias_, W, self.intercept_,
                beta=params.beta, loss=params.loss, bias=params.bias, tol=params.tol,
                time_limit=tl, n_threads=n_threads, verbose=bool(verbose))
            cert = res.certificate  # of the returned network, whose J is at most the start's
            self.hidden_weights_ = res.hidden_weights
            self.hidden_bias_ = res.hidden_bias
            self.output_weights_ = res.output_weights
            self.intercept_ = res.intercept if params.bias else 0.0
            self.objective_ = float(cert.objective)
            self.n_active_ = int(np.count_nonzero(res.output_weights))
            self.dual_coef_ = None
            self.converged_ = bool(cert.duality_gap <= params.tol * max(cert.objective, 0.0))
            self.n_rounds_ = res.n_rounds
        elif scalar:
            cert = certify_network(
                X, y_enc, self.hidden_weights_, self.hidden_bias_, W, self.intercept_,
                beta=params.beta, loss=params.loss, bias=params.bias,
                huber_delta=params.huber_delta, time_limit=time_limit, node_limit=node_limit,
                rel_tol=rel_tol, n_threads=n_threads, verbose=verbose,
                dual=dual if dual is not None and dual.shape == (X.shape[0],) else None,
            )
        else:
            from .network_certificate import _not_certified

            why = ("beta = 0 (the minimum-norm problem) is not certified by the dual oracle"
                   if params.beta == 0 else
                   "vector outputs / more than two classes are not certified by the dual "
                   "oracle (one output column only)")
            cert = _not_certified(self.objective_, None, why)
        self.certificate_ = cert
        self.dual_ = cert.dual
        self.lower_bound_ = float(cert.lower_bound)
        # the recomputed J of the arrays and the solver's objective_ differ by rounding only
        self.duality_gap_ = (max(float(self.objective_), float(cert.objective)) - self.lower_bound_
                             if math.isfinite(cert.duality_gap) else math.inf)
        return self


#: the ``max_time`` parameter, shared by both estimators' docstrings
_MAX_TIME_DOC = r"""    max_time : float or None, default=None
        A time limit in seconds for ``fit`` (None: none). When it passes, every loop of the
        route (seeds, convex master, pattern or neuron generation) stops at the end of its
        current iteration and ``fit`` returns the best network found so far with
        ``converged_ = False`` and a ``ConvergenceWarning`` that names ``max_time``; a finite
        ``duality_gap_`` is still a true bound for that network. The final steps after the
        loops (combination of the seeds, the certificate) add up to about a second at
        n = 20 000.
"""

_OBJECTIVE_DOC = r"""
    The network is

    .. math::

        f(x) = \sum_{j=1}^m w_j\,(u_j^\top x + b_j)_+ + c

    (``bias=False`` fixes :math:`b_j = 0` and :math:`c = 0`), and ``fit`` minimizes,
    over networks of any width :math:`m`,

    .. math::

        J = L(f(X), y) + \beta \sum_{j=1}^m |w_j|\,\|u_j\|_2 ,

    which, by positive homogeneity, equals weight-decay training
    :math:`L + \tfrac{\beta}{2}\sum_j (w_j^2 + \|u_j\|_2^2)` at its optimum. The problem is
    non-convex, but it is solved to global optimality through its convex dual: for
    one-dimensional data, or samples on one line, the optimal neurons are the finitely
    many extreme points with kinks at the samples (paper, Lemma 2.6, Corollaries 3.2 and
    3.4), and the finite convex program over them is solved with a certified duality gap.
"""


def _class_sample_weight(class_weight, classes, y_enc, sample_weight, n):
    """Per-sample weights from ``sample_weight`` times ``class_weight`` (None, "balanced":
    :math:`n / (K n_k)`, or a dict label -> weight, missing labels 1); None when both are
    None.  ``ValueError`` naming the argument for bad values."""
    from ._losses import check_sample_weight

    s = check_sample_weight(sample_weight, n)
    K = classes.shape[0]
    idx = np.asarray(y_enc)
    idx = (idx > 0).astype(np.intp) if K == 2 else idx.astype(np.intp)
    if class_weight is None:
        return _two_weighted_classes(s, idx, K, classes, "sample_weight")
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}.")
        counts = np.bincount(idx, minlength=K)  # as scikit-learn: unweighted class counts
        cw = n / (K * np.maximum(counts, 1))
    elif isinstance(class_weight, dict):
        cw = np.ones(K)
        known = {c: k for k, c in enumerate(classes.tolist())}
        for label, w in class_weight.items():
            key = label.item() if isinstance(label, np.generic) else label
            if key not in known:
                raise ValueError(f"class_weight has a label {label!r} that is not in y (classes: {classes.tolist()}).")
            if not _is_real(w) or not np.isfinite(w) or w < 0:
                raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0, got {w!r}.")
            cw[known[key]] = float(w)
    else:
        raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}.")
    s = cw[idx] if s is None else s * cw[idx]
    if not np.any(s > 0):
        raise ValueError("class_weight and sample_weight leave no sample with a positive weight.")
    return _two_weighted_classes(s, idx, K, classes, "class_weight and sample_weight")


def _two_weighted_classes(s, idx, K, classes, name):
    """``s`` unchanged if samples of at least two classes keep a positive weight, else a
    ValueError naming ``name`` (a classifier of one weighted class has no minimizer)."""
    if s is None:
        return s
    alive = np.bincount(idx, weights=s, minlength=K) > 0
    if np.count_nonzero(alive) < 2:
        left = classes[alive].tolist()
        raise ValueError(f"{name} leave{'s' if name == 'sample_weight' else ''} positive weight "
                         f"on one class only ({left}); a classifier needs samples of at least "
                         "two classes with positive weight.")
    return s


class ConvexReLURegressor(_BaseConvexReLU):
    __doc__ = (
        r"""Globally optimal two-layer ReLU network for regression.

    Loss :math:`L(f, y) = \tfrac12 \sum_i (f_i - y_i)^2`.
    """
        + _OBJECTIVE_DOC
        + r"""
    ``beta = 0`` is minimum-norm interpolation: minimize :math:`\sum_j |w_j|\,\|u_j\|_2`
    subject to :math:`f(X) = y` (a ``ValueError`` if infeasible, e.g. repeated samples
    with different targets).

    Vector targets ``y`` of shape (n, o) (supplementary A.7): :math:`f(x) = \sum_j
    (u_j^\top x + b_j)_+ w_j^\top + c` with :math:`w_j, c \in \mathbb R^o` and, by default
    (``penalty="auto"``), the weight-decay penalty
    :math:`J = L + \beta \sum_j \|u_j\|_2 \|w_j\|_2` (Lemma 1 of A.7: the optimum of
    :math:`L + \tfrac\beta2\sum_j(\|u_j\|^2 + \|w_j\|^2)`), trained by column generation on
    (48)-(49) with the oracle (50) relaxed to the activation-pattern cones as in (15)
    (:mod:`fastconvexrelu.vector_outputs`); ``duality_gap_`` is certified when the
    arrangement is small enough to enumerate, else ``inf`` (see ``relaxation_gap_``).
    ``penalty="l1"``: :math:`\beta \sum_j \|u_j\|_2 \|w_j\|_1` (A.7.3, each neuron then
    feeds one output), solved by the ``"arrangements"`` program.

    Parameters
    ----------
    beta : float, default=1e-3
        Regularization strength (>= 0).
    loss : {"squared", "huber"}, default="squared"
        Squared :math:`\tfrac12 (f - y)^2` or Huber
        :math:`h_\delta(r) = r^2/2` (:math:`|r| \le \delta`), :math:`\delta(|r| - \delta/2)`
        otherwise (Theorem 6.1: any convex loss; ``solver="arrangements"``), summed over
        samples and outputs.
    solver : {"auto", "extreme_points", "arrangements", "cutting_plane"}, default="auto"
        ``"extreme_points"`` (exact, certified) needs scalar outputs, d = 1 or samples on one
        line (through the origin when ``bias=False``); ``"auto"`` picks it when it applies,
        otherwise ``"arrangements"`` (``patterns="auto"``: all patterns when the arrangement
        is small, else seeded patterns for scalar outputs -- the lowest objective in the
        general-data benchmark -- and sampled ones for vector outputs), except
        ``"cutting_plane"`` for ``beta = 0`` without bias. ``"arrangements"``: the convex
        program over activation patterns chosen by ``patterns``; all of them (exact,
        certified ``duality_gap_``) when enumerated, else ``duality_gap_ = inf`` and the
        program's own gap over its patterns in ``restricted_gap_``.
        ``"cutting_plane"``: Algorithm 1 (``bias=False``) / Algorithm 3 (``bias=True``,
        squared, hinge and logistic losses); its ``duality_gap_`` is finite only when it can be proven
        (spike-free data, or an exact check over all activation patterns in small
        dimension), otherwise ``inf``, with the relaxation's gap in ``relaxation_gap_``.
    bias : bool, default=True
        Free hidden biases :math:`b_j` and intercept :math:`c`; ``False`` fixes both to 0.
    tol : float, default=1e-8
        Relative duality-gap tolerance of the solver.
    max_iter : int or None, default=None
        Maximum number of solver iterations; None: the solver's default (200 interior-point
        iterations, 200 cutting-plane rounds, 100000 first-order iterations of the
        arrangement program).
    verbose : bool, default=False
        Print the solver, its gap history and a summary.
    n_patterns : int or None, default=None
        ``solver="arrangements"``: number of sampled activation patterns (with
        ``solver="cutting_plane"`` and a bias: the size of the sampled pattern pool of the
        oracle, default 256); None enumerates all
        patterns when the arrangement has at most ~1000 cells and samples 200 otherwise. If
        the arrangement has fewer patterns than requested, all are used (``n_patterns_``).
    patterns : {"auto", "enumerate", "sample", "seeded"}, default="auto"
        Source of the activation patterns :math:`D_i = \mathrm{diag}(1[Xu_i + b_i > 0])` of
        ``solver="arrangements"`` (issue 3). ``"enumerate"``: all patterns of the hyperplane
        arrangement (exact: certified ``duality_gap_``; ``ValueError`` when it may exceed
        20000 cells). ``"sample"``: ``n_patterns`` random patterns. ``"seeded"`` (scalar
        outputs): the patterns of a few cheap non-convex fits of the weight-decay problem
        :math:`L + \tfrac\beta2(\|U\|_F^2 + \|w\|^2)` (4 fits of width 200, Adam then
        L-BFGS from random initializations in parallel C++ threads,
        :func:`fastconvexrelu.fit_nonconvex_seeds`), combined by the l1 problem
        :math:`\min_{t, c} L(\sum_j t_j (Xu_j + b_j)_+ + c) + \beta\|t\|_1` over all their
        unit neurons (a convex restriction of the pattern program, whose optimum is at most
        every fit's :math:`J`), then local descent from the combined network and again the
        l1 combination (2 rounds); no step increases :math:`J`. The convex program over the
        final patterns and rounds of pattern generation (supplementary A.3 dual constraint
        checked by the exact per-pattern oracle) are available through the route's
        ``program_iter`` / ``max_rounds`` options but off by default (measured gain
        :math:`\le 10^{-4}` relative for twice the time). Not a global certificate:
        ``duality_gap_ = inf`` and ``converged_ = False``. ``"auto"``: enumerate when the arrangement is small (at
        most ~1000 cells), else ``"sample"`` when ``n_patterns`` is given or for vector
        outputs, else ``"seeded"``.
    random_state : int, numpy Generator or None, default=None
        Seed of the pattern sampling and of the non-convex fits (results are deterministic
        for a fixed seed).
    huber_delta : float, default=1.0
        Threshold :math:`\delta` of the Huber loss.
    penalty : {"auto", "weight_decay", "l1"}, default="auto"
        Penalty for vector targets: ``"weight_decay"`` :math:`\beta\sum_j\|u_j\|_2
        \|w_j\|_2` (A.7, Lemma 1; the default, ``"auto"``) or ``"l1"``
        :math:`\beta\sum_j\|u_j\|_2\|w_j\|_1` (A.7.3). Identical for scalar targets.
        With weight decay every solver except ``"extreme_points"`` runs the weight-decay
        column generation (``solver_ = "cutting_plane"``); ``n_patterns`` /
        ``random_state`` then set its oracle's patterns.

"""
        + _MAX_TIME_DOC
        + r"""
    Attributes
    ----------
    hidden_weights_ : ndarray of shape (n_features, n_neurons)
        Hidden weights :math:`u_j` (columns, unit norm).
    hidden_bias_ : ndarray of shape (n_neurons,)
        Hidden biases :math:`b_j`.
    output_weights_ : ndarray of shape (n_neurons,)
        Output weights :math:`w_j` (all nonzero).
    intercept_ : float
        Output intercept :math:`c`.
    objective_ : float
        :math:`J` of the fitted network (recomputed by :func:`network_objective`).
    duality_gap_ : float
        Certified upper bound on ``objective_`` minus the global optimum over networks
        of any width (``inf`` when nothing can be certified).
    dual_coef_ : ndarray of shape (n_samples,)
        Dual-feasible vector :math:`v` giving the certificate.
    solver_ : str
        Solver actually used.
    n_iter_ : int
        Number of solver iterations.
    n_features_in_ : int
        Number of features seen in ``fit``.
    converged_ : bool
        Whether the solver reached ``tol``.
    n_active_ : int
        Number of neurons with nonzero output weight.
    restricted_gap_ : float
        ``solver="arrangements"`` only: gap of the program over the patterns used (a bound
        on the suboptimality within those patterns, not globally); weight-decay vector fits:
        the master's gap over the final neurons.
    n_patterns_ : int
        ``solver="arrangements"`` and weight-decay vector fits: number of activation
        patterns used (by the program / the oracle).
    patterns_exact_ : bool
        ``solver="arrangements"`` and weight-decay vector fits: whether all patterns were
        enumerated (then ``duality_gap_`` is certified).
    patterns_source_ : str
        ``solver="arrangements"`` only: ``"enumerated"``, ``"sampled"`` or ``"seeded"``.
    relaxation_gap_ : float
        ``solver="cutting_plane"`` and weight-decay vector fits: the gap against the
        (relaxed) oracle / the best neuron the oracle found (not a certificate).
    penalty_ : str
        The penalty used (``"weight_decay"`` or ``"l1"``; identical for scalar targets).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import ConvexReLURegressor
    >>> a = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    >>> y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    >>> est = ConvexReLURegressor(beta=0).fit(a.reshape(-1, 1), y)
    >>> round(est.objective_, 6)
    8.0
    """
    )

    _valid_losses = ("squared", "huber")
    _estimator_type = "regressor"
    _auto_beta_rate = 1e-3

    def __init__(
        self,
        beta="auto",
        loss="squared",
        solver="auto",
        bias=True,
        tol=1e-8,
        max_iter=None,
        verbose=False,
        n_patterns=None,
        random_state=None,
        huber_delta=1.0,
        patterns="auto",
        penalty="auto",
        max_time=None,
    ):
        self.beta = beta
        self.loss = loss
        self.solver = solver
        self.bias = bias
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.n_patterns = n_patterns
        self.random_state = random_state
        self.huber_delta = huber_delta
        self.patterns = patterns
        self.penalty = penalty
        self.max_time = max_time

    @_restore_on_error
    def fit(self, X, y, sample_weight=None):
        r"""Train the network to global optimality.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Weights :math:`s_i \ge 0` of the samples: the loss becomes
            :math:`\sum_i s_i\,\ell(f(x_i), y_i)`. ``solver="auto"`` then takes the seeded
            weight-decay route (full-batch non-convex seeds, the weighted group lasso over
            their neurons, local descent: uncertified, ``duality_gap_ = inf``,
            ``restricted_gap_`` over the final neurons); scalar targets, ``beta > 0``.

        Returns
        -------
        self
        """
        if isinstance(self.loss, str) and self.loss in ("hinge", "logistic"):
            raise ValueError(
                f"loss={self.loss!r} is a classification loss; ConvexReLURegressor supports "
                "only loss='squared' (use ConvexReLUClassifier for hinge/logistic)."
            )
        X, y = check_X_Y(X, y)
        params = self._check_params(X.shape[0])
        from ._losses import check_sample_weight

        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        return self._fit_network(X, y, params, sample_weight)

    def predict(self, X):
        """Network output :math:`f(x)` for each row of ``X`` (shape (n_samples,), or
        (n_samples, n_outputs) for vector targets)."""
        return self._decision(X)

    def score(self, X, y, sample_weight=None):
        r"""Coefficient of determination :math:`R^2 = 1 - \sum (y - f)^2 / \sum (y - \bar y)^2`."""
        X, y = check_X_Y(X, y)
        pred = self.predict(X)
        if pred.shape != y.shape:
            raise ValueError(f"y must have shape {pred.shape} to match the predictions, got {y.shape}.")
        n = y.shape[0]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float).ravel()
        if w.shape != (n,):
            raise ValueError("sample_weight must have shape (n_samples,).")
        Y, P = y.reshape(n, -1), pred.reshape(n, -1)
        scores = []
        for k in range(Y.shape[1]):  # uniform average over outputs (sklearn's default)
            ybar = np.average(Y[:, k], weights=w)
            ss_res = float(np.sum(w * (Y[:, k] - P[:, k]) ** 2))
            ss_tot = float(np.sum(w * (Y[:, k] - ybar) ** 2))
            if ss_tot == 0.0:
                scores.append(1.0 if ss_res == 0.0 else 0.0)
            else:
                scores.append(1.0 - ss_res / ss_tot)
        return float(np.mean(scores))


class ConvexReLUClassifier(_BaseConvexReLU):
    __doc__ = (
        r"""Two-layer ReLU network classifier trained by convex optimization.

    Labels of any two values are mapped to :math:`y_i \in \{-1, +1\}` (``classes_[1]``
    is +1). Losses: logistic :math:`L = \sum_i \log(1 + e^{-y_i f_i})` (default; the
    softmax cross-entropy for more classes), hinge :math:`L = \sum_i \max(0, 1 - y_i f_i)`,
    or squared :math:`L = \tfrac12 \sum_i (f_i - y_i)^2`; with ``sample_weight`` /
    ``class_weight``, :math:`L = \sum_i s_i\,\ell_i`. ``X`` may be a scipy.sparse matrix
    (densified, up to 2 GiB).

    Default route (``solver="auto"``, ``loss="logistic"``): the exact extreme-point solver
    for one-dimensional data (certified), the program over all activation patterns when the
    arrangement is small (certified), else -- images, text, any real data set -- the seeded
    weight-decay route (``solver="seeded"``, :mod:`fastconvexrelu.weight_decay_seeded`):
    mini-batch non-convex seeds in C++, the convex group lasso over their neurons, local
    descent; it reports ``restricted_gap_`` (a true bound over networks made of the final
    neurons) and ``duality_gap_ = inf``.
    """
        + _OBJECTIVE_DOC
        + r"""
    ``beta = 0``: hinge is the hard-margin problem (minimize
    :math:`\sum_j |w_j|\,\|u_j\|_2` s.t. :math:`y_i f_i \ge 1`), squared is minimum-norm
    interpolation of the :math:`\pm 1` labels, logistic is not allowed (no minimizer).
    ``predict`` returns ``classes_[1]`` where :math:`f(x) > 0`, else ``classes_[0]``.

    More than two classes (labels, or a one-hot 0/1 matrix whose every column has a sample):
    one output per class (supplementary A.7) with the softmax cross-entropy
    (``loss="logistic"``, ``predict_proba`` gives the softmax), squared loss on one-hot
    targets, or one-vs-rest hinge on :math:`\pm 1` columns; ``predict`` takes the arg-max.
    Needs ``beta > 0``. Penalty (``penalty="auto"``): weight decay
    :math:`\beta\sum_j\|u_j\|_2\|w_j\|_2` (A.7, Lemma 1; column generation of
    :mod:`fastconvexrelu.vector_outputs`; on high-dimensional inputs such as images, d > 50,
    its oracle is a batched gradient ascent and its master a first-order group lasso, so the
    fit scales to thousands of images, uncertified) for the logistic/softmax and squared
    losses, and the
    l1 penalty :math:`\beta\sum_j\|u_j\|_2\|w_j\|_1` (A.7.3, ``"arrangements"``) for the
    hinge loss, whose weight-decay version is not implemented (``penalty="weight_decay"``
    with the hinge loss and more than two classes raises ``ValueError``).

    Parameters
    ----------
    beta : float or "auto", default="auto"
        Regularization strength (>= 0; > 0 for the logistic loss). ``"auto"``:
        :math:`10^{-4} n` (the objective sums the losses, so a fixed value would mean less
        regularization per sample as :math:`n` grows); the value used is ``beta_``.
    loss : {"logistic", "hinge", "squared"}, default="logistic"
        For many classes on high-dimensional inputs (e.g. images) prefer ``"logistic"``:
        its weight-decay column generation fits thousands of images in minutes, while the
        hinge's first-order program makes slow progress at small ``beta`` there (it stops
        with a ConvergenceWarning when it stalls; see ``bench/RESULTS.md``).
    solver : {"auto", "seeded", "extreme_points", "arrangements", "cutting_plane"}, default="auto"
        ``"auto"``: see the default route above (with ``loss="hinge"`` or ``"squared"``: the
        extreme points when they apply, else ``"arrangements"``, and ``"cutting_plane"`` for
        ``beta = 0`` without bias). ``"seeded"``: the seeded weight-decay route
        (``loss="logistic"``). ``"extreme_points"`` (exact, certified) needs scalar outputs,
        d = 1 or samples on one line (through the origin when ``bias=False``).
        ``"arrangements"``: the convex program over activation patterns chosen by
        ``patterns``; all of them (exact, certified ``duality_gap_``) when enumerated, else
        ``duality_gap_ = inf`` and the program's own gap over its patterns in
        ``restricted_gap_``. ``"cutting_plane"``: Algorithm 1 (``bias=False``) / Algorithm 3
        (``bias=True``, squared, hinge and logistic losses); its ``duality_gap_`` is finite
        only when it can be proven (spike-free data, or an exact check over all activation
        patterns in small dimension), otherwise ``inf``, with the relaxation's gap in
        ``relaxation_gap_``.
    bias : bool, default=True
        Free hidden biases :math:`b_j` and intercept :math:`c`; ``False`` fixes both to 0.
    tol : float, default=1e-8
        Relative duality-gap tolerance of the solver (the seeded route, which is not
        certified anyway, solves its convex master over the final neurons to a relative
        restricted gap of ``max(tol, 1e-4)``).
    max_iter : int or None, default=None
        Maximum number of solver iterations; None: the solver's default. Extreme points:
        200 interior-point iterations for the squared and hinge losses, proximal-Newton steps
        (each an interior-point solve of a weighted squared-loss problem) for the logistic
        loss; cutting plane: 200 rounds; arrangements: 100000 first-order iterations.
    verbose : bool, default=False
        Print the solver, its gap history and a summary.
    n_patterns : int or None, default=None
        ``solver="arrangements"``: number of sampled activation patterns (None: all patterns
        when the arrangement is small, else 200 sampled).
    patterns : {"auto", "enumerate", "sample", "seeded"}, default="auto"
        Source of the activation patterns :math:`D_i = \mathrm{diag}(1[Xu_i + b_i > 0])` of
        ``solver="arrangements"`` (issue 3). ``"enumerate"``: all patterns of the hyperplane
        arrangement (exact: certified ``duality_gap_``; ``ValueError`` when it may exceed
        20000 cells). ``"sample"``: ``n_patterns`` random patterns. ``"seeded"`` (scalar
        outputs): the patterns of a few cheap non-convex fits of the weight-decay problem
        :math:`L + \tfrac\beta2(\|U\|_F^2 + \|w\|^2)` (4 fits of width 200, Adam then
        L-BFGS from random initializations in parallel C++ threads,
        :func:`fastconvexrelu.fit_nonconvex_seeds`), combined by the l1 problem
        :math:`\min_{t, c} L(\sum_j t_j (Xu_j + b_j)_+ + c) + \beta\|t\|_1` over all their
        unit neurons (a convex restriction of the pattern program, whose optimum is at most
        every fit's :math:`J`), then local descent from the combined network and again the
        l1 combination (2 rounds); no step increases :math:`J`. The convex program over the
        final patterns and rounds of pattern generation (supplementary A.3 dual constraint
        checked by the exact per-pattern oracle) are available through the route's
        ``program_iter`` / ``max_rounds`` options but off by default (measured gain
        :math:`\le 10^{-4}` relative for twice the time). Not a global certificate:
        ``duality_gap_ = inf`` and ``converged_ = False``. ``"auto"``: enumerate when the arrangement is small (at
        most ~1000 cells), else ``"sample"`` when ``n_patterns`` is given or for vector
        outputs, else ``"seeded"``.
    random_state : int, numpy Generator or None, default=None
        Seed of the pattern sampling and of the non-convex fits.
    penalty : {"auto", "weight_decay", "l1"}, default="auto"
        Penalty for more than two classes (see above); identical for two classes.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight`` of ``fit``:
        ``"balanced"`` gives class :math:`k` the weight :math:`n / (K n_k)` (as scikit-learn),
        a dict maps labels to weights (missing labels: 1). Supported by the seeded
        cross-entropy route, like ``sample_weight``.

"""
        + _MAX_TIME_DOC
        + r"""
    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The sorted class labels; ``classes_[1]`` is encoded as +1.
    hidden_weights_ : ndarray of shape (n_features, n_neurons)
    hidden_bias_ : ndarray of shape (n_neurons,)
    output_weights_ : ndarray of shape (n_neurons,)
    intercept_ : float
    objective_ : float
        :math:`J` of the fitted network.
    duality_gap_ : float
        Certified upper bound on ``objective_`` minus the global optimum (``inf`` when
        nothing can be certified).
    dual_coef_ : ndarray of shape (n_samples,)
    solver_ : str
    n_iter_ : int
    n_features_in_ : int
    converged_ : bool
    n_active_ : int
    penalty_ : str
        The penalty used (``"weight_decay"`` or ``"l1"``; identical for two classes).
    """
    )

    _valid_losses = ("hinge", "logistic", "squared")
    _estimator_type = "classifier"
    _auto_beta_rate = 1e-4

    def __init__(
        self,
        beta="auto",
        loss="logistic",
        solver="auto",
        bias=True,
        tol=1e-8,
        max_iter=None,
        verbose=False,
        n_patterns=None,
        random_state=None,
        patterns="auto",
        penalty="auto",
        class_weight=None,
        max_time=None,
    ):
        self.beta = beta
        self.loss = loss
        self.solver = solver
        self.bias = bias
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.n_patterns = n_patterns
        self.random_state = random_state
        self.patterns = patterns
        self.penalty = penalty
        self.class_weight = class_weight
        self.max_time = max_time

    @_restore_on_error
    def fit(self, X, y, sample_weight=None):
        r"""Train the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two or more distinct labels (numbers, strings, ...), or a one-hot 0/1 matrix.
        sample_weight : array-like of shape (n_samples,), optional
            Weights :math:`s_i \ge 0` of the samples: the loss becomes
            :math:`\sum_i s_i\,\ell(f(x_i), y_i)` (multiplied by ``class_weight``). Supported
            by the seeded cross-entropy route (``loss="logistic"``, ``solver="auto"`` or
            ``"seeded"``), which ``solver="auto"`` then takes on any data.

        Returns
        -------
        self
        """
        X = check_X(X)
        params = self._check_params(X.shape[0])
        classes, y_enc = check_labels(y, X.shape[0], multiclass=True)
        sample_weight = _class_sample_weight(self.class_weight, classes, y_enc, sample_weight,
                                             X.shape[0])
        if classes.shape[0] > 2:
            if params.beta == 0:
                raise ValueError("beta must be > 0 for more than two classes.")
            # one output per class (supplementary A.7): one-hot targets for the squared loss
            # and the softmax (multinomial logistic) loss; +-1 one-vs-rest columns for hinge.
            K = classes.shape[0]
            Y = np.zeros((X.shape[0], K))
            Y[np.arange(X.shape[0]), y_enc] = 1.0
            if params.loss == "hinge":
                Y = 2.0 * Y - 1.0
            self._fit_network(X, Y, params, sample_weight)
        else:
            self._fit_network(X, y_enc, params, sample_weight)
        self.classes_ = classes
        return self

    def decision_function(self, X):
        """Network output :math:`f(x)`: shape (n_samples,) for two classes (positive values
        predict ``classes_[1]``), (n_samples, n_classes) otherwise (the largest wins)."""
        return self._decision(X)

    def predict(self, X):
        """Predicted labels (``classes_[1]`` where :math:`f(x) > 0`; the arg-max output for
        more than two classes)."""
        check_is_fitted(self, _FITTED_ATTRS + ("classes_",))
        f = self.decision_function(X)
        if f.ndim == 2:
            return self.classes_[np.argmax(f, axis=1)]
        return self.classes_[(f > 0).astype(np.intp)]

    def predict_proba(self, X):
        r"""Class probabilities of the logistic model: :math:`\sigma(f)` for two classes,
        :math:`\mathrm{softmax}(f)` for more (shape (n_samples, n_classes)).

        Raises
        ------
        AttributeError
            Unless ``loss="logistic"`` (hinge and squared losses are not probabilistic).
        """
        if self.loss != "logistic":
            raise AttributeError(
                f"predict_proba is available only for loss='logistic', not {self.loss!r}."
            )
        check_is_fitted(self, _FITTED_ATTRS + ("classes_",))
        f = self.decision_function(X)
        if f.ndim == 1:
            p1 = 0.5 * (1.0 + np.tanh(0.5 * f))  # logistic sigmoid without overflow
            return np.column_stack([1.0 - p1, p1])
        z = f - f.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def score(self, X, y, sample_weight=None):
        """Accuracy; labels that are not in ``classes_`` count as errors."""
        pred = self.predict(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1 or y.shape[0] != pred.shape[0]:
            raise ValueError(
                f"y must have shape ({pred.shape[0]},) to match X, got {y.shape}."
            )
        correct = np.array(
            [bool(p == t) for p, t in zip(pred.astype(object), y.astype(object))], dtype=float
        )
        if sample_weight is None:
            return float(np.mean(correct))
        w = np.asarray(sample_weight, dtype=float).ravel()
        if w.shape != correct.shape:
            raise ValueError("sample_weight must have shape (n_samples,).")
        return float(np.sum(w * correct) / np.sum(w))
