// Python binding of fcr::fit_ray_pair (bias-free two-neuron network on rank-one data).
#include "common.hpp"

#include <string>

#include "fastconvexrelu/ray_fit.hpp"

namespace {

namespace py = pybind11;

constexpr const char* kDoc = R"doc(
Exact bias-free two-layer ReLU network on data lying on one line through the origin.

For samples ``X = t a^T`` (unit ``a``; 1-D data is ``a = [1]``) and ``bias=False``, the
only extreme-point neurons (Corollary 3.4 with ``b = 0``) are ``u = +a`` and ``u = -a``,
so the network is

.. math::

    f_i = w_{+} (t_i)_+ + w_{-} (-t_i)_+

and the training problem is

.. math::

    \min_{w_+, w_-} \; J(w) = L(f, y) + \beta \, (|w_+| + |w_-|)

with :math:`L = \tfrac12 \sum_i (f_i - y_i)^2` (``"squared"``),
:math:`L = \sum_i \max(0, 1 - y_i f_i)` (``"hinge"``) or
:math:`L = \sum_i \log(1 + e^{-y_i f_i})` (``"logistic"``).  The two neurons have disjoint
supports, so the problem splits into two scalar convex problems, each solved exactly
(soft threshold / exact breakpoint scan / safeguarded Newton to machine precision).

``beta = 0`` means minimum-norm interpolation :math:`\min \|w\|_1` s.t. :math:`f = y`
(squared; ``ValueError`` if infeasible, checked with relative tolerance 1e-9 of
``max|y|``) or hard margin :math:`\min \|w\|_1` s.t. :math:`y_i f_i \ge 1` (hinge;
``ValueError`` if a side carries both labels or a sample has ``t = 0``).  The logistic
loss requires ``beta > 0``.

Parameters
----------
t : (n,) array_like of float
    Coordinate of each sample along the line (``X = t a^T``).
y : (n,) array_like of float
    Targets (squared) or labels in {-1, +1} (hinge, logistic).
loss : {"squared", "hinge", "logistic"}, default "squared"
beta : float, default 1e-3
    Weight-decay (l1 on the output weights) strength, ``>= 0``.

Returns
-------
dict
    ``w_pos``, ``w_neg`` : float -- output weights of ``(t)_+`` and ``(-t)_+``.
    ``fitted`` : (n,) ndarray -- network output ``f``.
    ``dual`` : (n,) ndarray -- dual-feasible ``v``.  For ``beta > 0``, the dual is
    :math:`\max_v -\sum_i \ell_i^*(v_i)` s.t. :math:`|p^T v| \le \beta, |q^T v| \le \beta`
    (``p = (t)_+``, ``q = (-t)_+``; ``v = dL/df`` at the optimum).  For ``beta = 0`` it is
    :math:`\max_v y^T v` s.t. :math:`|p^T v| \le 1, |q^T v| \le 1` (hard margin:
    ``v = y * alpha``, ``alpha >= 0``).
    ``primal`` : float -- :math:`J(w)` (``beta = 0``: :math:`|w_+| + |w_-|`).
    ``dual_value`` : float -- dual objective at ``v``, a lower bound on the optimum.
    ``gap`` : float -- certified bound on ``primal - optimum`` (includes a floating-point
    allowance of a few ulps; never negative).
    ``converged`` : bool -- ``gap <= 1e-10 * max(1, |primal|)``.
    ``message`` : str.

Raises
------
ValueError
    Invalid input (length mismatch, empty, NaN/inf, ``beta < 0``, labels not +-1 for
    hinge/logistic, unknown loss, logistic with ``beta = 0``) or an infeasible
    interpolation / hard-margin problem.
)doc";

}  // namespace

void bind_ray_fit(pybind11::module_& m) {
    m.def(
        "fit_ray_pair",
        [](fcr_py::VectorRef t, fcr_py::VectorRef y, const std::string& loss, double beta) {
            fcr::RayFitResult r;
            {
                fcr_py::nogil release;
                r = fcr::fit_ray_pair(t, y, loss, beta);
            }
            py::dict out;
            out["w_pos"] = r.w_pos;
            out["w_neg"] = r.w_neg;
            out["fitted"] = py::array_t<double>(r.fitted.size(), r.fitted.data());
            out["dual"] = py::array_t<double>(r.dual.size(), r.dual.data());
            out["primal"] = r.primal;
            out["dual_value"] = r.dual_value;
            out["gap"] = r.gap;
            out["converged"] = r.converged;
            out["message"] = r.message;
            return out;
        },
        py::arg("t"), py::arg("y"), py::arg("loss") = "squared", py::arg("beta") = 1e-3, kDoc);
}
