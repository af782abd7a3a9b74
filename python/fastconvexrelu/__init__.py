"""fastconvexrelu: train two-layer ReLU networks to global optimality by convex optimization."""

from ._select_core import select_core as _select_core

_select_core(__name__)  # _core or its AVX2 build, before any module imports it
from ._core import __version__  # noqa: E402
from ._estimators import ConvexReLUClassifier, ConvexReLURegressor
from ._objective import network_objective
from ._validation import ConvergenceWarning, NotFittedError
from .extreme_points import extreme_points_1d, extreme_points_rank_one, fit_line
from .hull_neurons import hull_neurons, interpolating_network
from .whitening import whiten
from .closed_form import ClosedFormNetwork, L0L1Equivalence, closed_form_network, l0_l1_equivalence
from .spike_free import SpikeFreeRatio, spike_free_ratio
from .extreme_point import ExtremePoint, extreme_point
from .ntk import NTKFit, ntk_1d, ntk_fit
from .gradient_descent import GDResult, train_gd
from .rectified_ellipsoid import RectifiedEllipsoid, rectified_ellipsoid
from .spike_free_oracle import cone_projection, spike_free_oracle
from .arrangement import enumerate_patterns, pattern_oracle, sample_patterns
from .arrangement_program import ArrangementProgramResult, solve_arrangement_program
from .path import RegularizationPath, regularization_path
from .convex_rf import ConvexRF, ConvexRFClassifier
from .nonconvex_seed import SeedFit, fit_nonconvex_seeds
from .vector_outputs import WeightDecayFit, fit_weight_decay, group_lasso_master
from .network_certificate import NetworkCertificate, certify_network, dual_norm, DualNormBound

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
    "hull_neurons",
    "interpolating_network",
    "whiten",
    "closed_form_network",
    "ClosedFormNetwork",
    "l0_l1_equivalence",
    "L0L1Equivalence",
    "spike_free_ratio",
    "SpikeFreeRatio",
    "extreme_point",
    "ExtremePoint",
    "ntk_1d",
    "ntk_fit",
    "NTKFit",
    "train_gd",
    "GDResult",
    "rectified_ellipsoid",
    "RectifiedEllipsoid",
    "cone_projection",
    "spike_free_oracle",
    "enumerate_patterns",
    "sample_patterns",
    "pattern_oracle",
    "solve_arrangement_program",
    "regularization_path",
    "RegularizationPath",
    "ArrangementProgramResult",
    "ConvexRF",
    "ConvexRFClassifier",
    "fit_nonconvex_seeds",
    "SeedFit",
    "fit_weight_decay",
    "group_lasso_master",
    "WeightDecayFit",
    "certify_network",
    "NetworkCertificate",
    "dual_norm",
    "DualNormBound",
]
