"""Command line interface: ``fastconvexrelu demo [--plot out.png] [--beta B]`` and
``fastconvexrelu reproduce NAME [--plot out.png] [--quick]``."""

from __future__ import annotations

import argparse
import sys

import numpy as np

__all__ = ["main"]


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="fastconvexrelu",
        description="Train two-layer ReLU networks to global optimality by convex optimization.",
    )
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo",
        help="fit the exact 1-D network on a built-in data set and print its certificate",
        description="Fit ConvexReLURegressor(solver='extreme_points') on a built-in 1-D "
        "regression set; print the objective, the certified duality gap, the active "
        "neurons and their knots.",
    )
    demo.add_argument("--plot", metavar="OUT.png", default=None,
                      help="save a plot of the data, the fit and each neuron's contribution")
    demo.add_argument("--beta", type=float, default=1e-2, help="regularization (default 1e-2)")
    demo.add_argument("--loss", choices=["squared"], default="squared",
                      help="loss function (default squared)")
    from .reproduce import DESCRIPTIONS

    repro = sub.add_parser(
        "reproduce",
        help="reproduce a figure or claim of the paper (print the numbers, optionally plot)",
        description="Reproduce a figure or numerical claim of the paper. NAME is one of: "
        + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items()) + ".",
    )
    repro.add_argument("name", metavar="NAME", help="one of: " + ", ".join(DESCRIPTIONS))
    repro.add_argument("--plot", metavar="OUT.png", default=None, help="write a PNG figure")
    repro.add_argument("--quick", action="store_true",
                       help="small sizes (a few seconds) instead of the paper's")
    repro.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    repro.add_argument("--verbose", action="store_true", help="print more detail")
    return parser


def _demo(args):
    from ._demo_data import demo_regression_1d
    from ._estimators import ConvexReLURegressor

    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("error: --plot needs matplotlib; install the plot extra: "
                  "pip install fastconvexrelu[plot]", file=sys.stderr)
            return 2

    X, y = demo_regression_1d()
    est = ConvexReLURegressor(beta=args.beta, loss=args.loss, solver="extreme_points")
    try:
        est.fit(X, y)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    u = est.hidden_weights_[0]
    knots = np.sort(-est.hidden_bias_ / u)
    print(f"data: {X.shape[0]} samples of a 1-D curve with noise; loss={args.loss}, "
          f"beta={args.beta:g}")
    print(f"solver: {est.solver_} ({est.n_iter_} iterations, converged={est.converged_})")
    print(f"objective: {est.objective_:.10g}")
    print(f"certified duality gap: {est.duality_gap_:.3e}")
    print(f"active neurons: {est.n_active_}")
    print("knots (-b_j/u_j): " + (", ".join(f"{k:.4f}" for k in knots) if knots.size else "none"))
    if args.plot is not None:
        from ._plotting import plot_1d_network

        plot_1d_network(est, X, y, args.plot)
        print(f"plot written to {args.plot}")
    return 0


def _reproduce(args):
    from .reproduce import NAMES, get

    if args.name not in NAMES:
        print(f"error: unknown reproduction {args.name!r}; valid names: {', '.join(NAMES)}",
              file=sys.stderr)
        return 2
    try:
        get(args.name).run(quick=args.quick, plot=args.plot, random_state=args.seed,
                           verbose=args.verbose)
    except ImportError as exc:  # matplotlib (plot extra) or scipy missing
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    """Entry point of the ``fastconvexrelu`` console script; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    if args.command == "demo":
        return _demo(args)
    if args.command == "reproduce":
        return _reproduce(args)
    parser.print_help()
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
