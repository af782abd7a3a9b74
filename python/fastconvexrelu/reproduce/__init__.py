"""Reproductions of the paper's figures and numerical claims.

Each reproduction is a module with ``run(quick=False, plot=None, random_state=0,
verbose=False) -> dict``: it prints its key numbers, returns them (all plain Python
numbers, lists and dicts; ``"lines"`` holds the printed text) and, with
``plot="out.png"``, writes a PNG (matplotlib is imported lazily with the Agg backend; an
``ImportError`` saying "install the plot extra" is raised when it is missing).  ``quick=True``
uses small sizes so that every reproduction runs in a few seconds; the default sizes follow
the paper.  Several reproductions need SciPy (linear programs).

========  ===============================================================================
name      what
========  ===============================================================================
fig1      Figure 1: GD deviation from the linear spline vs init scale; exact fit and its
          neurons; hinge-loss decision regions in 1-D
fig2_5    Figures 2-4: rectified ellipsoid, spike-free relaxation and dual set in 2-D
fig5      Figure 5 / 11b: rectified ellipsoid and its polar set in 3-D
fig6      Figure 6: primal vs dual value (duality gap) as the width grows (1-D, rank-one,
          whitened data; beta = 0 and 1e-3)
fig7      Figure 7: hinge loss in 1-D, certified optimum vs gradient descent
fig8      Figure 8: 1-D regression, ours vs NTK vs gradient descent
fig9      Figure 9: Gaussian-mixture classification, test accuracy vs training size
prop31    Proposition 3.1 (A.5): two different optimal networks of norm 8
thm34_36  Theorems 3.4 / 3.6: Gaussian data spike-free / all rows hull vertices vs d
========  ===============================================================================

Command line: ``fastconvexrelu reproduce NAME [--plot out.png] [--quick]``.
"""

from __future__ import annotations

import importlib

__all__ = ["NAMES", "DESCRIPTIONS", "get", "run"]

DESCRIPTIONS = {
    "fig1": "GD vs linear spline, exact fit and neurons, hinge decision regions (Figure 1)",
    "fig2_5": "rectified ellipsoid, spike-free relaxation and dual set in 2-D (Figures 2-4)",
    "fig5": "rectified ellipsoid and its polar set in 3-D (Figure 5, supplementary 11b)",
    "fig6": "primal vs dual value as the width grows (Figure 6)",
    "fig7": "hinge loss: certified optimum vs gradient descent (Figure 7)",
    "fig8": "1-D regression: ours vs NTK vs gradient descent (Figure 8)",
    "fig9": "Gaussian-mixture classification accuracy vs training size (Figure 9)",
    "prop31": "two different optimal networks of norm 8 (Proposition 3.1, A.5)",
    "thm34_36": "Gaussian data: spike-free / all rows hull vertices vs d (Theorems 3.4, 3.6)",
}

#: valid reproduction names
NAMES = tuple(DESCRIPTIONS)


def get(name):
    """The module of reproduction ``name`` (``ValueError`` listing the valid names)."""
    if name not in DESCRIPTIONS:
        raise ValueError(f"unknown reproduction {name!r}; valid names: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def run(name, quick=False, plot=None, random_state=0, verbose=False):
    """Run reproduction ``name`` (see the module docstring); returns its result dict."""
    return get(name).run(quick=quick, plot=plot, random_state=random_state, verbose=verbose)
