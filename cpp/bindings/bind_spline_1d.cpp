// Binding of the exact 1-D solver (fcr::fit_spline_1d).
#include "common.hpp"
#include "fastconvexrelu/ramp_network.hpp"
#include "fastconvexrelu/spline_1d.hpp"

namespace py = pybind11;

void bind_spline_1d(py::module_& m) {
    m.def(
        "fit_spline_1d",
        [](fcr_py::VectorRef x, fcr_py::VectorRef y, const std::string& loss, double beta, double tol,
           int max_iter) {
            fcr::Spline1DOptions opt;
            opt.loss = fcr::loss_from_string(loss);
            opt.beta = beta;
            opt.tol = tol;
            opt.max_iter = max_iter;
            fcr::Spline1DResult r;
            {
                fcr_py::nogil release;
                r = fcr::fit_spline_1d(x, y, opt);
            }
            py::dict d;
            d["knots_right"] = fcr_py::to_numpy(r.knots_right);
            d["w_right"] = fcr_py::to_numpy(r.w_right);
            d["knots_left"] = fcr_py::to_numpy(r.knots_left);
            d["w_left"] = fcr_py::to_numpy(r.w_left);
            d["intercept"] = r.intercept;
            d["fitted"] = py::array_t<double>(r.fitted.size(), r.fitted.data());
            d["dual"] = py::array_t<double>(r.dual.size(), r.dual.data());
            d["primal"] = r.primal;
            d["dual_value"] = r.dual_value;
            d["gap"] = r.gap;
            d["n_iter"] = r.n_iter;
            d["converged"] = r.converged;
            d["message"] = r.message;
            d["history_gap"] = fcr_py::to_numpy(r.history_gap);
            return d;
        },
        py::arg("x"), py::arg("y"), py::arg("loss") = "squared", py::arg("beta") = 1e-3, py::arg("tol") = 1e-8,
        py::arg("max_iter") = 200,
        R"doc(Exact two-layer ReLU network (free biases) on one-dimensional data.

Solves, to a certified duality gap,

    minimize_{c, w}  L(c 1 + K w, y) + beta * ||w||_1

over the 2n extreme-point neurons of Lemma 2.6 (ramps (x - a_k)_+ and (a_k - x)_+ with kinks at
the samples), which is the global optimum over networks of any width (Corollaries 3.2-3.3, 4.1,
Theorem 5.2, Theorem 6.1).  L is 1/2 ||f - y||^2 ("squared"), sum max(0, 1 - y f) ("hinge") or
sum log(1 + exp(-y f)) ("logistic"); beta = 0 means minimum-norm interpolation (squared) or the
hard-margin problem (hinge).  A primal-dual interior-point method on the double-prefix-sum
parametrization of the dual costs O(n) per iteration; K is never formed.

Parameters
----------
x, y : ndarray of shape (n,), float64
loss : {"squared", "hinge", "logistic"}
beta : float >= 0
tol : float, relative certified duality gap at which to stop
max_iter : int, interior-point iterations

Returns
-------
dict with keys knots_right, w_right, knots_left, w_left, intercept (the network
f(x) = intercept + sum w_right (x - knots_right)_+ + sum w_left (knots_left - x)_+), fitted, dual
(a dual-feasible vector, per sample), primal, dual_value, gap (primal - dual_value, a true bound
on suboptimality), n_iter, converged, message, history_gap.
)doc");

    m.def(
        "ramp_network_1d",
        [](fcr_py::VectorRef t, fcr_py::VectorRef s, fcr_py::VectorRef b, fcr_py::VectorRef w, double c) {
            Eigen::VectorXd f;
            {
                fcr_py::nogil release;
                f = fcr::ramp_network_1d(t, s, b, w, c);
            }
            return f;
        },
        py::arg("t"), py::arg("s"), py::arg("b"), py::arg("w"), py::arg("c") = 0.0,
        R"doc(Evaluate f_i = c + sum_j w_j (s_j t_i + b_j)_+ in O((n + m) log m).

The output of a network whose hidden neurons are all parallel, u_j = s_j a with ||a|| = 1
(1-D and rank-one data, Lemma 2.6 / Corollary 3.4), at the projections t_i = a^T x_i; the
kinks -b_j/s_j are sorted once and the ramps summed with prefix sums.
)doc");
}

