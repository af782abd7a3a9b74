"""Vector outputs with the weight-decay penalty (supplementary A.7): time and objective.

    PYTHONPATH=python python bench/bench_weight_decay.py

1. Exact (small arrangement, certified): n = 12, d = 2, o = 3, squared loss: wall time of
   ``fit_weight_decay`` and its certified duality gap.
2. Sampled patterns (no certificate): n = 500, d = 10, o = 3, squared loss, beta = 1, for a
   few round budgets: wall time, J (weight-decay objective), relaxation gap (against the best
   neuron the heuristic oracle found), active neurons. Reference: the l1 fit of A.7.3
   (``penalty="l1"``, sampled arrangement program) evaluated in the weight-decay objective --
   a feasible network, so its J is an upper bound on the weight-decay optimum.
3. ``--seeded``: the same sampled problem with the opt-in seeded start
   (``fit_weight_decay(..., n_seeds=4)``): J and time of the start alone (``max_iter=1``: the
   polished best non-convex fit, then one master over its neurons).
4. ``--images N,BETA,ROUNDS [...] [--data-dir DIR]``: ``ConvexReLUClassifier(loss="logistic")``
   (softmax, weight decay; on d = 784 the column generation takes the batched ascent oracle
   and the FISTA master) on the first N MNIST training images (pixels / 255), scored on the
   10 000 test images: wall time, rounds, active neurons, J, relaxation gap, test accuracy.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from _machine import machine_info
from fastconvexrelu import ConvergenceWarning, ConvexReLURegressor, network_objective
from fastconvexrelu.vector_outputs import fit_weight_decay


def exact_case():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((12, 2))
    Y = np.eye(3)[np.argmax(X @ rng.standard_normal((2, 3)) + 0.3 * rng.standard_normal((12, 3)), axis=1)]
    t = time.perf_counter()
    res = fit_weight_decay(X, Y, loss="squared", beta=0.1, tol=1e-8)
    return dict(case="exact n=12 d=2 o=3", time_s=round(time.perf_counter() - t, 2),
                J=res.objective, duality_gap=res.duality_gap, rounds=res.n_iter,
                neurons=int(res.output_weights.shape[0]), converged=res.converged)


def sampled_case(budgets=(20, 50, 100)):
    rng = np.random.default_rng(0)
    n, d, o = 500, 10, 3
    X = rng.standard_normal((n, d))
    Y = np.maximum(X @ rng.standard_normal((d, 5)), 0) @ rng.standard_normal((5, o))
    Y += 0.1 * rng.standard_normal((n, o))
    beta = 1.0
    rows = []
    for it in budgets:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = ConvexReLURegressor(beta=beta, random_state=0, max_iter=it).fit(X, Y)
        rows.append(dict(case=f"weight decay, {it} rounds", time_s=round(time.perf_counter() - t, 2),
                         J=est.objective_, relaxation_gap=est.relaxation_gap_,
                         neurons=est.n_active_, converged=est.converged_))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        l1 = ConvexReLURegressor(beta=beta, random_state=0, penalty="l1").fit(X, Y)
    J_wd = network_objective(X, Y, l1.hidden_weights_, l1.hidden_bias_, l1.output_weights_,
                             l1.intercept_, beta, "squared", penalty="l2")
    rows.append(dict(case="l1 fit (A.7.3), J in the weight-decay objective",
                     time_s=round(time.perf_counter() - t, 2), J=J_wd, neurons=l1.n_active_))
    return rows


def seeded_case():
    rng = np.random.default_rng(0)  # the problem of sampled_case
    n, d, o = 500, 10, 3
    X = rng.standard_normal((n, d))
    Y = np.maximum(X @ rng.standard_normal((d, 5)), 0) @ rng.standard_normal((5, o))
    Y += 0.1 * rng.standard_normal((n, o))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_weight_decay(X, Y, beta=1.0, random_state=0, max_iter=1, n_seeds=4, verbose=True)
    return dict(case="seeded start (n_seeds=4) + 1 round", time_s=round(time.perf_counter() - t, 2),
                J=res.objective, relaxation_gap=res.relaxation_gap,
                neurons=int(res.output_weights.shape[0]))


def images_case(n, beta, rounds, data_dir):
    from fastconvexrelu import ConvexReLUClassifier

    d = np.load(Path(data_dir) / "mnist.npz")
    X = d["X_train"][:n].reshape(n, -1) / 255.0
    Xt = d["X_test"].reshape(len(d["X_test"]), -1) / 255.0
    t = time.perf_counter()
    est = ConvexReLUClassifier(loss="logistic", beta=beta, max_iter=rounds, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, d["y_train"][:n])
    wall = time.perf_counter() - t
    return dict(case=f"MNIST n={n} d=784 o=10 softmax", beta=beta, max_rounds=rounds,
                time_s=round(wall, 1), rounds=est.n_iter_, neurons=int(est.n_active_),
                J=est.objective_, relaxation_gap=est.relaxation_gap_,
                duality_gap=est.duality_gap_, converged=est.converged_,
                test_acc=float(est.score(Xt, d["y_test"])))


if __name__ == "__main__":
    import sys

    print(json.dumps(machine_info(), indent=1))
    if "--images" in sys.argv[1:]:
        argv = sys.argv[1:]
        data_dir = (argv[argv.index("--data-dir") + 1] if "--data-dir" in argv
                    else str(Path(__file__).resolve().parents[2] / "shared" / "data"))
        for spec in argv[argv.index("--images") + 1:]:
            if spec.startswith("--"):
                break
            n, beta, rounds = spec.split(",")
            print(json.dumps(images_case(int(n), float(beta), int(rounds), data_dir)), flush=True)
        raise SystemExit(0)
    if "--seeded" in sys.argv[1:]:
        print(json.dumps(seeded_case()))
        raise SystemExit(0)
    print(json.dumps(exact_case()))
    for row in sampled_case():
        print(json.dumps(row))
