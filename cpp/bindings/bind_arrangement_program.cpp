// Binding of the convex program over fixed activation patterns (fcr::solve_arrangement_program)
// and of the loss interface (fcr::LossFunction), used by python/fastconvexrelu/arrangement_program.py.
#include "common.hpp"
#include "fastconvexrelu/arrangement_program.hpp"
#include "fastconvexrelu/losses.hpp"

#include <optional>
#include <string>

namespace py = pybind11;

namespace {

using ColRef = Eigen::Ref<const Eigen::MatrixXd>;  // Fortran-ordered float64 binds without a copy
using OptMat = std::optional<Eigen::MatrixXd>;
using OptVec = std::optional<Eigen::VectorXd>;

py::array_t<double> to_array(const Eigen::MatrixXd& M) {
    // column-major Eigen -> C-ordered numpy array of the same shape
    py::array_t<double> out({static_cast<py::ssize_t>(M.rows()), static_cast<py::ssize_t>(M.cols())});
    auto a = out.mutable_unchecked<2>();
    for (Eigen::Index i = 0; i < M.rows(); ++i)
        for (Eigen::Index j = 0; j < M.cols(); ++j) a(i, j) = M(i, j);
    return out;
}

}  // namespace

void bind_arrangement_program(py::module_& m) {
    m.def(
        "arrangement_program",
        [](ColRef X, ColRef Y, ColRef patterns, const std::string& loss, double beta, bool bias, double huber_delta,
           double tol, int max_iter, double rho, int n_threads, bool verbose, OptMat theta, OptVec intercept,
           OptMat mu, OptMat hinge_multiplier, double warm_rho, double warm_rho_hinge, bool fit_intercept) {
            const fcr::LossFunction lf(fcr::loss_kind_from_string(loss), huber_delta);
            fcr::ArrangementProgramOptions opt;
            opt.beta = beta;
            opt.bias = bias;
            opt.fit_intercept = fit_intercept;
            opt.tol = tol;
            opt.max_iter = max_iter;
            opt.rho = rho;
            opt.n_threads = n_threads;
            opt.verbose = verbose;
            fcr::ArrangementProgramStart st;
            if (theta) st.theta = *theta;
            if (intercept) st.intercept = *intercept;
            if (mu) st.mu = *mu;
            if (hinge_multiplier) st.hinge_multiplier = *hinge_multiplier;
            st.rho = warm_rho;
            st.rho_hinge = warm_rho_hinge;
            fcr::ArrangementProgramResult r;
            {
                fcr_py::nogil release;
                r = fcr::solve_arrangement_program(X, Y, patterns, lf, opt, st);
            }
            py::dict d;
            d["theta"] = to_array(r.theta);
            d["intercept"] = py::array_t<double>(r.intercept.size(), r.intercept.data());
            d["fitted"] = to_array(r.fitted);
            d["dual"] = to_array(r.dual);
            d["primal_objective"] = r.primal_objective;
            d["dual_objective"] = r.dual_objective;
            d["gap"] = r.gap;
            d["max_violation"] = r.max_violation;
            d["dual_scale"] = r.dual_scale;
            d["max_dual_constraint"] = r.max_dual_constraint;
            d["mu"] = to_array(r.mu);
            d["hinge_multiplier"] = to_array(r.hinge_multiplier);
            d["rho"] = r.rho;
            d["rho_hinge"] = r.rho_hinge;
            d["n_iter"] = r.n_iter;
            d["n_outer"] = r.n_outer;
            d["converged"] = r.converged;
            d["message"] = r.message;
            return d;
        },
        py::arg("X"), py::arg("Y"), py::arg("patterns"), py::arg("loss"), py::arg("beta"), py::arg("bias"),
        py::arg("huber_delta") = 1.0, py::arg("tol") = 1e-8, py::arg("max_iter") = 50000, py::arg("rho") = 0.0,
        py::arg("n_threads") = 2, py::arg("verbose") = false, py::arg("theta") = py::none(),
        py::arg("intercept") = py::none(), py::arg("mu") = py::none(), py::arg("hinge_multiplier") = py::none(),
        py::arg("warm_rho") = 0.0, py::arg("warm_rho_hinge") = 0.0, py::arg("fit_intercept") = true,
        R"doc(Convex program over fixed activation patterns (augmented Lagrangian + FISTA).

minimize L(F, Y) + beta sum_{i,k} ||v_ik[:d]|| + ||w_ik[:d]||,
F[:, k] = sum_i D_i Xt (v_ik - w_ik) + c_k,  (2 D_i - I) Xt v_ik >= 0, (2 D_i - I) Xt w_ik >= 0.

fit_intercept=False fixes c = 0 and the dual point is then not centred (1^T lam_k = 0 is not a
dual constraint), except with bias=True and the all-active pattern among the patterns: its
unpenalized bias-only blocks are a free constant, returned in the bias coordinate of that
pattern's block (intercept exactly 0).

X (n, d), Y (n, o), patterns (n, P) of 0/1.  Returns a dict: theta (dp, 2 P o) with block
(i, k, s) (s = 0: v, 1: w) in column (2 k + s) P + i, intercept (o,), fitted (n, o), dual
(n, o) (a feasible dual point, lam = grad L scaled), primal_objective, dual_objective (a lower
bound on the program's optimum, -inf if none), gap, max_violation, mu, hinge_multiplier, rho,
rho_hinge (for warm starts; a warm-start intercept is ignored when c = 0 is fixed), n_iter, n_outer, converged, message.  The GIL is released.)doc");

    m.def(
        "loss_eval",
        [](const std::string& loss, ColRef F, ColRef Y, double huber_delta, const Eigen::VectorXd& sample_weight) {
            fcr::LossFunction lf(fcr::loss_kind_from_string(loss), huber_delta);
            if (sample_weight.size()) lf.set_sample_weight(sample_weight);
            lf.check_targets(Y);
            if (!F.allFinite()) throw std::invalid_argument("loss_eval: F must be finite");
            py::dict d;
            d["value"] = lf.value(F, Y);
            d["lipschitz"] = lf.gradient_lipschitz();
            if (lf.smooth()) {
                Eigen::MatrixXd G;
                lf.value_and_gradient(F, Y, G);
                d["gradient"] = to_array(G);
            }
            return d;
        },
        py::arg("loss"), py::arg("F"), py::arg("Y"), py::arg("huber_delta") = 1.0,
        py::arg("sample_weight") = Eigen::VectorXd(),
        "Loss value, gradient (smooth losses) and gradient Lipschitz constant (fcr::LossFunction;\n"
        "sample_weight (n,), empty for none, weights the rows).");
    m.def(
        "loss_conjugate",
        [](const std::string& loss, ColRef Lam, ColRef Y, double huber_delta, const Eigen::VectorXd& sample_weight) {
            fcr::LossFunction lf(fcr::loss_kind_from_string(loss), huber_delta);
            if (sample_weight.size()) lf.set_sample_weight(sample_weight);
            if (!Lam.allFinite()) throw std::invalid_argument("loss_conjugate: Lam must be finite");
            return lf.conjugate(Lam, Y);
        },
        py::arg("loss"), py::arg("Lam"), py::arg("Y"), py::arg("huber_delta") = 1.0,
        py::arg("sample_weight") = Eigen::VectorXd(),
        "Fenchel conjugate L^*(Lam) of the loss (+inf outside its domain; with sample_weight s:\n"
        "sum_j s_j l^*(Lam_j / s_j), rows with s_j = 0 must be zero).");
    m.def(
        "loss_prox",
        [](const std::string& loss, ColRef Z, ColRef Y, double t, double huber_delta) {
            const fcr::LossFunction lf(fcr::loss_kind_from_string(loss), huber_delta);
            if (!Z.allFinite()) throw std::invalid_argument("loss_prox: Z must be finite");
            Eigen::MatrixXd out;
            lf.prox(Z, Y, t, out);
            return to_array(out);
        },
        py::arg("loss"), py::arg("Z"), py::arg("Y"), py::arg("t"), py::arg("huber_delta") = 1.0,
        "prox_{tL}(Z) for the squared, huber and hinge losses.");
}
