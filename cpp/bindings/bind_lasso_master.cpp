// Binding of the master problem of the cutting-plane method (fcr::lasso_master).
#include "common.hpp"
#include "fastconvexrelu/lasso_master.hpp"

#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace {

using ColRef = Eigen::Ref<const Eigen::MatrixXd>;  // a Fortran-ordered float64 array binds without a copy

fcr::LassoMasterOptions make_options(const std::string& loss, double beta, double tol, int max_epochs,
                                     bool intercept) {
    fcr::LassoMasterOptions opt;
    opt.intercept = intercept;
    opt.loss = fcr::loss_from_string(loss);
    opt.beta = beta;
    opt.tol = tol;
    if (max_epochs < 1) throw std::invalid_argument("lasso_master: max_epochs must be >= 1");
    opt.max_epochs = max_epochs;
    return opt;
}

py::dict to_dict(const fcr::LassoMasterResult& r) {
    py::dict d;
    d["w"] = py::array_t<double>(r.w.size(), r.w.data());
    d["fitted"] = py::array_t<double>(r.fitted.size(), r.fitted.data());
    d["grad"] = py::array_t<double>(r.grad.size(), r.grad.data());
    d["dual"] = py::array_t<double>(r.dual.size(), r.dual.data());
    d["intercept"] = r.intercept;
    d["scale"] = r.scale;
    d["primal"] = r.primal;
    d["dual_value"] = r.dual_value;
    d["gap"] = r.gap;
    d["n_epochs"] = r.n_epochs;
    d["n_newton"] = r.n_newton;
    d["converged"] = r.converged;
    d["message"] = r.message;
    return d;
}

}  // namespace

void bind_lasso_master(py::module_& m) {
    m.def(
        "lasso_master",
        [](ColRef Phi, fcr_py::VectorRef y, const std::string& loss, double beta, double tol, int max_epochs,
           fcr_py::VectorRef w0, bool intercept, double c0) {
            const auto opt = make_options(loss, beta, tol, max_epochs, intercept);
            fcr::LassoMasterResult r;
            {
                fcr_py::nogil release;
                r = fcr::lasso_master(Phi, y, opt, w0, c0);
            }
            return to_dict(r);
        },
        py::arg("Phi"), py::arg("y"), py::arg("loss") = "squared", py::arg("beta") = 1e-3,
        py::arg("tol") = 1e-10, py::arg("max_epochs") = 20000, py::arg("w0") = Eigen::VectorXd(),
        py::arg("intercept") = false, py::arg("c0") = 0.0,
        R"doc(Master problem of the cutting-plane method: min_w L(Phi w, y) + beta ||w||_1
(intercept=True: min_{w, c} L(Phi w + c 1, y) + beta ||w||_1, c unpenalized).

Cyclic coordinate descent plus Newton steps on the support, stopped by the exact duality gap
of this (restricted) problem: dual point s * lambda with lambda = grad L(Phi w) (squared loss:
the residual Phi w - y) and s in [0, beta / ||Phi^T lambda||_inf] maximizing
D(v) = -1/2 ||v||^2 - v^T y (squared) or sum_i H(-y_i v_i) (logistic, binary entropy H).
With an intercept the dual also needs 1^T v = 0: lambda is first made zero-sum (squared:
centered; logistic: the larger of the two class sums of a = -y o lambda scaled to the smaller).

Parameters
----------
Phi : ndarray (n, m), float64 (Fortran order avoids a copy); m may be 0
y : ndarray (n,)  (logistic: labels -1/+1)
loss : {"squared", "logistic"}
beta : float > 0
tol : float, stop when gap <= tol * primal
max_epochs : int, coordinate-descent sweeps
w0 : ndarray (m,) or empty, warm start
intercept : bool, fit an unpenalized intercept c (logistic: labels of both classes needed)
c0 : float, warm start of c

Returns
-------
dict with w, intercept (c), fitted (Phi w + c), grad (lambda), dual (scale * lambda, or its
zero-sum version with an intercept; ||Phi^T dual||_inf <= beta), scale, primal, dual_value, gap (primal - dual_value >= 0), n_epochs, n_newton, converged, message.
)doc");

    m.def(
        "lasso_certificate",
        [](ColRef Phi, fcr_py::VectorRef y, const std::string& loss, double beta, fcr_py::VectorRef w,
           bool intercept, double c) {
            const auto opt = make_options(loss, beta, 0.0, 1, intercept);
            fcr::LassoMasterResult r;
            {
                fcr_py::nogil release;
                r = fcr::lasso_certificate(Phi, y, opt, w, c);
            }
            return to_dict(r);
        },
        py::arg("Phi"), py::arg("y"), py::arg("loss"), py::arg("beta"), py::arg("w"),
        py::arg("intercept") = false, py::arg("c") = 0.0,
        "Restricted duality gap of a given w (and intercept c when intercept=True) for "
        "min_w L(Phi w [+ c], y) + beta ||w||_1 (same dict as lasso_master, no optimization).");
}
