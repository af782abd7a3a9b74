"""fastconvexrelu: train two-layer ReLU networks to global optimality by convex optimization."""

from ._core import __version__
from ._estimators import ConvexReLUClassifier, ConvexReLURegressor
from ._objective import network_objective
from ._validation import ConvergenceWarning, NotFittedError
from .extreme_points import extreme_points_1d, extreme_points_rank_one, fit_line

__all__ = [
    "__version__",
    "ConvexReLURegressor",
    "ConvexReLUClassifier",
    "ConvergenceWarning",
    "NotFittedError",
    "network_objective",
    "extreme_points_1d",
    "extreme_points_rank_one",
    "fit_line",
]
