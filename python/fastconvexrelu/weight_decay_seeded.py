r"""The seeded weight-decay route for classification (the default of ``ConvexReLUClassifier``).

Network :math:`F = \sum_j (Xu_j + b_j\mathbf 1)_+ w_j^\top + \mathbf 1c^\top` and the
cross-entropy objective of supplementary A.7 (Lemma 1) with the weight-decay penalty

.. math::

    J = \sum_i \ell(F_i, y_i) + \beta\sum_j \|u_j\|_2\|w_j\|_2 ,

:math:`\ell` the softmax cross-entropy (one output per class) or, for two classes, the
logistic loss of one output. The same recipe as the seeded regression route
(:func:`fastconvexrelu._solver_arrangements.fit_seeded`), made for classification at scale:

1. **non-convex seeds**: ``n_seeds`` networks of width ``width`` trained by mini-batch Adam on
   the weight-decay problem :math:`\sum_i\ell + \tfrac\beta2(\|U\|^2 + \|W\|^2)` in float32,
   one per thread (:func:`fastconvexrelu.nonconvex_seed.fit_minibatch_seeds`);
2. **convex combination**: the group lasso (48) over the union of their unit neurons
   :math:`\Phi_j = (Xu_j + b_j)_+`, :math:`\min_{W, c} L(\Phi W + \mathbf 1c^\top) +
   \beta\sum_j\|w_j\|_2` (:func:`fastconvexrelu.vector_outputs.group_lasso_master`, FISTA),
   warm-started at the best seed, whose rebalanced network is a feasible point: the convex
   optimum over these neurons is :math:`\le` every seed's :math:`J`, and its duality gap
   (``restricted_gap``) is a true bound over networks made of these neurons;
3. **local descent**: a few more mini-batch epochs from the combined network at a small
   learning rate (moves the neurons and their activation patterns), then the convex
   combination over the old and the moved neurons again; a step is kept only if the exact
   :math:`J` (recomputed in float64 on all samples) goes down;
4. **final convex solve**: when the master has not reached ``tol``, the group lasso over the
   surviving neurons only, warm-started at the network, for up to ``final_master_iter``
   more iterations (cheap: a fraction of the columns).

Every returned network is scored by its exact :math:`J`; ``duality_gap = inf`` (no
certificate over all activation patterns at this scale) and ``restricted_gap`` is the
master's gap over the final neurons.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from ._deadline import expired
from .nonconvex_seed import fit_minibatch_seeds, fit_nonconvex_seeds, refine_network
from .vector_outputs import WeightDecayFit, group_lasso_master

__all__ = ["SEEDED_CLASSIFIER_DEFAULTS", "fit_weight_decay_seeded", "seeded_schedule"]

#: defaults of the route (see fit_weight_decay_seeded); epochs None: see seeded_schedule
SEEDED_CLASSIFIER_DEFAULTS = dict(n_seeds=2, width=256, epochs=None, batch_size=128, lr=2e-3,
                                  polish_rounds=1, polish_epochs=None, master_iter=300,
                                  final_master_iter=700)


#: full-batch seeds of the weighted regression route (those of the unweighted seeded route)
_REGRESSION_SEEDS = dict(n_seeds=4, max_iter=250, adam_iter=250, master_iter=1000)


class _Net(NamedTuple):
    U: np.ndarray   # (d, m) unit columns
    b: np.ndarray   # (m,)
    W: np.ndarray   # (m, o) output weights of the unit neurons
    c: np.ndarray   # (o,)
    J: float


def seeded_schedule(n, epochs=None, polish_epochs=None):
    """Epochs of the seeds and of the polish for ``n`` samples: about 6000 Adam steps of 128
    rows in all (at least 12 epochs, at most 300), the polish a fifth of that (>= 2)."""
    steps = max(1, math.ceil(n / 128))
    if epochs is None:
        epochs = int(min(300, max(12, math.ceil(6000 / steps))))
    if polish_epochs is None:
        polish_epochs = int(max(2, epochs // 5))
    return int(epochs), int(polish_epochs)


def _features(X, U, b, bias):
    Z = X @ U
    if bias:
        Z += b
    return np.asfortranarray(np.maximum(Z, 0.0, out=Z))


def _unit(U, b, W):
    """Unit-norm neurons and the output weights that keep the network (positive homogeneity)."""
    nu = np.linalg.norm(U, axis=0)
    nu = np.where(nu > 0, nu, 1.0)
    return U / nu, b / nu, W * nu[:, None]


def _combine(X, Y, nets, loss, beta, bias, tol, max_iter, warm, sample_weight=None,
             huber_delta=1.0):
    """Group lasso over the union of the networks' unit neurons, warm-started at ``warm`` (an
    index into ``nets``); returns the combined network (zero rows dropped) and the master."""
    Us, bs, Ws = zip(*[_unit(n.U, n.b, n.W) for n in nets])
    U, b = np.hstack(Us), np.concatenate(bs)
    W0 = np.vstack([Ws[k] if k == warm else np.zeros_like(Ws[k]) for k in range(len(nets))])
    ms = group_lasso_master(_features(X, U, b, bias), Y, loss=loss, beta=beta, intercept=bias,
                            huber_delta=huber_delta,
                            tol=tol, max_epochs=max_iter, W0=W0, c0=nets[warm].c, method="fista",
                            sample_weight=sample_weight)
    keep = np.any(ms.output_weights != 0, axis=1)
    return _Net(U[:, keep], b[keep], ms.output_weights[keep], np.asarray(ms.intercept, float),
                float(ms.objective)), ms


def _net_of_fit(f, o):
    W = np.asarray(f.output_weights, float).reshape(-1, o)
    c = np.atleast_1d(np.asarray(f.intercept, float))
    U, b, W = _unit(f.hidden_weights, f.hidden_bias, W)
    return _Net(U, b, W, c, float(f.objective))


def fit_weight_decay_seeded(X, Y, *, loss, beta, bias=True, tol=1e-6, random_state=None,
                            verbose=False, n_seeds=None, width=None, epochs=None,
                            batch_size=None, lr=None, polish_rounds=None, polish_epochs=None,
                            master_iter=None, sample_weight=None, huber_delta=1.0):
    r"""Seeds, convex combination and local descent (module docstring) for one-hot ``Y``
    (``loss="softmax"``) or one column of :math:`\pm1` labels (``loss="logistic"``).

    Also one column of real targets (``loss="squared"`` or ``"huber"``, the weighted
    regression route): the seeds and the local descent are then full-batch fits (Adam and
    L-BFGS, :func:`fastconvexrelu.nonconvex_seed.fit_nonconvex_seeds` and
    :func:`~fastconvexrelu.nonconvex_seed.refine_network`, ``n_seeds`` = 4 of the regression
    route's width), the mini-batch options do not apply.

    Parameters
    ----------
    X : ndarray (n, d), validated float64
    Y : ndarray (n, o), targets as the loss sees them
    loss : {"softmax", "logistic", "squared", "huber"}
    beta : float > 0
    bias : bool
    tol : float
        Relative duality-gap tolerance of the convex master (``restricted_gap`` is at most
        ``tol * max(1, J)`` when it converges within ``master_iter`` iterations).
    random_state : None, int or Generator
    n_seeds, width, epochs, batch_size, lr, polish_rounds, polish_epochs, master_iter
        See :data:`SEEDED_CLASSIFIER_DEFAULTS` and :func:`seeded_schedule`.
    sample_weight : ndarray (n,), optional
        Validated weights :math:`s_i \ge 0`: the loss is :math:`\sum_i s_i\ell(F_i, y_i)` in
        every step (seeds, master, the exact :math:`J`).

    Returns
    -------
    WeightDecayFit
        ``duality_gap = inf``, ``converged`` iff the last master reached ``tol``.
    """
    opts = dict(SEEDED_CLASSIFIER_DEFAULTS)
    for k, v in dict(n_seeds=n_seeds, width=width, epochs=epochs, batch_size=batch_size, lr=lr,
                     polish_rounds=polish_rounds, polish_epochs=polish_epochs,
                     master_iter=master_iter).items():
        if v is not None:
            opts[k] = v
    n, d = X.shape
    o = Y.shape[1]
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state)
    ep, pep = seeded_schedule(n, opts["epochs"], opts["polish_epochs"])
    t0 = time.perf_counter()
    master_tol = max(float(tol), 1e-10)

    def log(msg):
        if verbose:
            print(f"[weight_decay/seeded] {msg} ({time.perf_counter() - t0:.1f}s)", flush=True)

    regression = loss in ("squared", "huber")
    if regression and master_iter is None:  # (FISTA converges slower on these problems)
        opts["master_iter"] = _REGRESSION_SEEDS["master_iter"]
    if regression:
        fits = fit_nonconvex_seeds(X, Y[:, 0], beta=beta, loss=loss,
                                   n_seeds=int(n_seeds or _REGRESSION_SEEDS["n_seeds"]),
                                   width=width, max_iter=_REGRESSION_SEEDS["max_iter"],
                                   adam_iter=_REGRESSION_SEEDS["adam_iter"], bias=bias,
                                   random_state=rng, huber_delta=huber_delta,
                                   sample_weight=sample_weight)
        log(f"{len(fits)} full-batch seeds: J = " + ", ".join(f"{f.objective:.6g}" for f in fits))
    else:
        fits = fit_minibatch_seeds(X, Y, beta=beta, loss=loss, n_seeds=int(opts["n_seeds"]),
                                   width=int(opts["width"]), epochs=ep,
                                   batch_size=int(opts["batch_size"]), lr=float(opts["lr"]),
                                   bias=bias, random_state=rng, sample_weight=sample_weight)
        log(f"{len(fits)} seeds x {opts['width']} neurons, {ep} epochs: J = "
            + ", ".join(f"{f.objective:.6g}" for f in fits))
    nets = [_net_of_fit(f, o) for f in fits if f.hidden_weights.shape[1] > 0]
    if not nets:  # every seed died: the intercept-only start (no neurons)
        nets = [_Net(np.zeros((d, 0)), np.zeros(0), np.zeros((0, o)), np.atleast_1d(
            np.asarray(fits[0].intercept, float)), float(fits[0].objective))]
    best, ms = _combine(X, Y, nets, loss, beta, bias, master_tol, int(opts["master_iter"]), 0,
                        sample_weight, huber_delta)
    if best.J > nets[0].J:  # (cannot happen but by rounding: the master starts at nets[0])
        best = nets[0]
    log(f"convex combination of {sum(n.U.shape[1] for n in nets)} neurons: J = {best.J:.8g}, "
        f"{best.U.shape[1]} active, restricted gap {ms.gap:.2e}")
    n_steps = sum(f.n_iter for f in fits)
    for k in range(int(opts["polish_rounds"])):
        if best.U.shape[1] == 0 or expired():
            break
        if regression:
            pol = [refine_network(X, Y[:, 0], best.U, best.b, best.W[:, 0], float(best.c[0]),
                                  beta=beta, loss=loss, bias=bias, huber_delta=huber_delta,
                                  max_iter=_REGRESSION_SEEDS["max_iter"],
                                  sample_weight=sample_weight)]
            if pol[0].hidden_weights.shape[1] == 0:
                break
        else:
            pol = fit_minibatch_seeds(X, Y, beta=beta, loss=loss, epochs=pep,
                                      batch_size=int(opts["batch_size"]),
                                      lr=0.25 * float(opts["lr"]), bias=bias, random_state=rng,
                                      starts=[(best.U, best.b, best.W, best.c)],
                                      sample_weight=sample_weight)
        n_steps += pol[0].n_iter
        moved = _net_of_fit(pol[0], o)
        log(f"local descent {k + 1}: J = {moved.J:.8g}")
        cand, ms_c = _combine(X, Y, [moved, best], loss, beta, bias, master_tol,
                              int(opts["master_iter"]), 0 if moved.J <= best.J else 1,
                              sample_weight, huber_delta)
        log(f"convex combination {k + 1}: J = {cand.J:.8g}, {cand.U.shape[1]} active, "
            f"restricted gap {ms_c.gap:.2e}")
        if cand.J < best.J:
            best, ms = cand, ms_c
        else:
            break
    if ms.gap > master_tol * max(1.0, abs(best.J)) and best.U.shape[1] > 0 and not expired():
        # final solve over the surviving neurons only (fewer columns: cheaper iterations),
        # warm-started at the network, up to final_master_iter more iterations
        cand, ms_c = _combine(X, Y, [best], loss, beta, bias, master_tol,
                              int(opts["final_master_iter"]), 0, sample_weight, huber_delta)
        log(f"final convex solve over {best.U.shape[1]} neurons: J = {cand.J:.8g}, "
            f"restricted gap {ms_c.gap:.2e}")
        if cand.J <= best.J:
            best, ms = cand, ms_c
    J = float(best.J)
    converged = bool(ms.gap <= master_tol * max(1.0, abs(J)))
    W = best.W[:, 0] if o == 1 else best.W
    c = float(best.c[0]) if o == 1 else best.c
    return WeightDecayFit(
        hidden_weights=best.U, hidden_bias=best.b if bias else np.zeros(best.U.shape[1]),
        output_weights=W, intercept=c, objective=J, duality_gap=math.inf,
        relaxation_gap=math.inf, restricted_gap=float(ms.gap), dual_coef=ms.dual,
        n_iter=int(n_steps), converged=converged,
        message=("seeded weight decay: mini-batch seeds, convex combination and local descent; "
                 f"convex master over the final neurons {'converged' if converged else 'not converged'}"
                 f" (restricted gap {ms.gap:.3e}); no certificate over all activation patterns"),
        n_patterns=int(best.U.shape[1]), patterns_exact=False, history_gap=[],
    )
