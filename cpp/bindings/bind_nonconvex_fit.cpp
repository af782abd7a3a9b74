// Binding of the local weight-decay fits (fcr::nonconvex_fit_batch).
#include "common.hpp"
#include "fastconvexrelu/nonconvex_fit.hpp"

#include <string>
#include <vector>

namespace py = pybind11;

void bind_nonconvex_fit(py::module_& m) {
    m.def(
        "nonconvex_fit",
        [](Eigen::Ref<const Eigen::MatrixXd> X, Eigen::Ref<const Eigen::MatrixXd> y,
           const std::vector<Eigen::MatrixXd>& U0, const std::vector<Eigen::VectorXd>& b0,
           const std::vector<Eigen::MatrixXd>& w0, const std::vector<Eigen::VectorXd>& c0, const std::string& loss, double beta, bool bias, double huber_delta,
           int adam_iter, double adam_lr, int lbfgs_iter, int history, double rtol, int n_threads,
           const Eigen::VectorXd& sample_weight) {
            fcr::NonconvexFitOptions opt;
            opt.sample_weight = sample_weight;
            opt.loss = loss;
            opt.beta = beta;
            opt.bias = bias;
            opt.huber_delta = huber_delta;
            opt.adam_iter = adam_iter;
            opt.adam_lr = adam_lr;
            opt.lbfgs_iter = lbfgs_iter;
            opt.history = history;
            opt.rtol = rtol;
            opt.n_threads = n_threads;
            std::vector<fcr::NonconvexFitResult> res;
            {
                fcr_py::nogil release;
                res = fcr::nonconvex_fit_batch(X, y, U0, b0, w0, c0, opt);
            }
            py::list out;
            for (const auto& r : res) {
                py::dict d;
                d["U"] = r.U;
                d["b"] = r.b;
                d["w"] = r.W;
                d["c"] = r.c;
                d["objective"] = r.objective;
                d["n_iter"] = r.n_iter;
                d["n_evals"] = r.n_evals;
                out.append(d);
            }
            return out;
        },
        py::arg("X"), py::arg("y"), py::arg("U0"), py::arg("b0"), py::arg("w0"), py::arg("c0"),
        py::arg("loss") = "squared", py::arg("beta") = 1e-3, py::arg("bias") = true, py::arg("huber_delta") = 1.0,
        py::arg("adam_iter") = 0, py::arg("adam_lr") = 1e-2, py::arg("lbfgs_iter") = 1000, py::arg("history") = 10,
        py::arg("rtol") = 1e-12, py::arg("n_threads") = 1, py::arg("sample_weight") = Eigen::VectorXd(),
        R"doc(Local fits of the weight-decay problem (paper eq. (2) with biases; A.7 for vectors):
min_{U, b, W, c} L((X U + 1 b^T)_+ W + 1 c^T, Y) + beta/2 (||U||_F^2 + ||W||_F^2), b and c
free (bias=False: b = 0, c = 0), from each start (U0[k], b0[k], w0[k], c0[k]).

adam_iter full-batch Adam steps on the objective / n (best iterate kept), then L-BFGS
(two-loop recursion, Armijo backtracking) until a step decreases the objective by at most
rtol times its value or lbfgs_iter iterations.  The starts run in parallel threads
(n_threads <= 0: all cores); each result depends only on its start.  Not a global method.

Parameters
----------
X : ndarray (n, d) float64 (Fortran order avoids a copy); y : ndarray (n, o) (or (n,))
U0 : list of (d, m_k) arrays; b0 : list of (m_k,) arrays; w0 : list of (m_k, o) arrays
(or (m_k,) when o = 1); c0 : list of (o,) arrays
loss : {"squared", "huber", "softmax", "logistic", "hinge"} (softmax: one-hot rows, o >= 2;
logistic, hinge: o = 1, labels in {-1, +1}; the hinge uses a subgradient)
sample_weight : (n,) weights s_i >= 0 of the loss sum_i s_i l_i (empty: none; not for the hinge)

Returns
-------
list of dicts with U (d, m), b (m,), w (m, o), c (o,), objective
(L + beta/2 (||U||^2 + ||W||^2)), n_iter (L-BFGS iterations), n_evals (gradient evaluations).
)doc");
}
