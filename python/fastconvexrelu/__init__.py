"""fastconvexrelu: train two-layer ReLU networks to global optimality by convex optimization."""

from ._core import __version__
from .extreme_points import extreme_points_1d, extreme_points_rank_one, fit_line

__all__ = [
    "__version__",
    "extreme_points_1d",
    "extreme_points_rank_one",
    "fit_line",
]
from ._estimators import ConvexReLURegressor, ConvexReLUClassifier
from ._objective import network_objective
