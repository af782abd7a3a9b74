// Binding of the weight-decay vector-output master (fcr::group_lasso).
#include "common.hpp"
#include "fastconvexrelu/group_lasso.hpp"

#include <stdexcept>
#include <string>

namespace py = pybind11;

// n_iter FISTA iterations from / into the Python state dict (Phi float64 or float32).
template <class S>
py::dict group_lasso_fista_py(Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> Phi,
                              Eigen::Ref<const Eigen::MatrixXd> Y, const std::string& loss, double beta,
                              bool intercept, int n_iter, double huber_delta, int n_threads, py::dict state,
                              const Eigen::VectorXd& sample_weight) {
    fcr::LossFunction lf(fcr::loss_kind_from_string(loss), huber_delta);
    if (sample_weight.size() != 0) {
        if (sample_weight.size() != Phi.rows())
            throw std::invalid_argument("group_lasso_fista: sample_weight must be empty or have one entry per row of Phi");
        lf.set_sample_weight(sample_weight);
    }
    fcr::GroupLassoFistaState st;
    auto get_m = [&](const char* k) {
        return state.contains(k) ? state[k].cast<Eigen::MatrixXd>() : Eigen::MatrixXd();
    };
    auto get_v = [&](const char* k) {
        return state.contains(k) ? state[k].cast<Eigen::VectorXd>() : Eigen::VectorXd();
    };
    st.W = get_m("W");
    st.Zw = get_m("Zw");
    st.F = get_m("F");
    st.FZ = get_m("FZ");
    st.c = get_v("c");
    st.Zc = get_v("Zc");
    if (state.contains("t")) st.t = state["t"].cast<double>();
    if (state.contains("Lc")) st.Lc = state["Lc"].cast<double>();
    if (state.contains("objective")) st.objective = state["objective"].cast<double>();
    if (state.contains("n_iter")) st.n_iter = state["n_iter"].cast<int>();
    {
        fcr_py::nogil release;
        fcr::group_lasso_fista(Phi, Y, lf, beta, intercept, n_iter, n_threads, st);
}
    py::dict d;
    d["W"] = st.W;
    d["Zw"] = st.Zw;
    d["c"] = st.c;
    d["Zc"] = st.Zc;
    d["F"] = st.F;
    d["FZ"] = st.FZ;
    d["t"] = st.t;
    d["Lc"] = st.Lc;
    d["objective"] = st.objective;
    d["n_iter"] = st.n_iter;
    return d;
}

void bind_group_lasso(py::module_& m) {
    m.def(
        "group_lasso",
        [](Eigen::Ref<const Eigen::MatrixXd> Phi, Eigen::Ref<const Eigen::MatrixXd> Y, const std::string& loss,
           double beta, bool intercept, double tol, int max_epochs, double huber_delta,
           Eigen::Ref<const Eigen::MatrixXd> W0, fcr_py::VectorRef c0) {
            const fcr::LossFunction lf(fcr::loss_kind_from_string(loss), huber_delta);
            fcr::GroupLassoOptions opt;
            opt.beta = beta;
            opt.tol = tol;
            opt.max_epochs = max_epochs;
            opt.intercept = intercept;
            fcr::GroupLassoResult r;
            {
                fcr_py::nogil release;
                r = fcr::group_lasso(Phi, Y, lf, opt, W0, c0);
            }
            py::dict d;
            d["W"] = r.W;
            d["c"] = r.c;
            d["F"] = r.F;
            d["grad"] = r.grad;
            d["primal"] = r.primal;
            d["kkt"] = r.kkt;
            d["n_epochs"] = r.n_epochs;
            d["converged"] = r.converged;
            d["message"] = r.message;
            return d;
        },
        py::arg("Phi"), py::arg("Y"), py::arg("loss") = "squared", py::arg("beta") = 1e-3,
        py::arg("intercept") = true, py::arg("tol") = 1e-9, py::arg("max_epochs") = 10000,
        py::arg("huber_delta") = 1.0, py::arg("W0") = Eigen::MatrixXd(), py::arg("c0") = Eigen::VectorXd(),
        R"doc(Group lasso over fixed neurons (supplementary A.7, (48)):
min_{W, c} L(Phi W + 1 c^T, Y) + beta sum_j ||w_j||_2 (rows w_j), c free (intercept=True) or 0.

Block coordinate descent (group-soft-thresholded block gradient steps, exact for the squared
loss) with active-set sweeps; stops when the relative KKT residual is <= tol.

Parameters
----------
Phi : ndarray (n, m), float64 (Fortran order avoids a copy); m may be 0
Y : ndarray (n, o)
loss : {"squared", "huber", "softmax", "logistic"}
beta : float > 0
intercept : bool
tol : float, relative KKT residual
max_epochs : int, sweeps
huber_delta : float > 0
W0 : ndarray (m, o) or empty; c0 : ndarray (o,) or empty -- warm start

Returns
-------
dict with W (m, o), c (o,), F (Phi W + 1 c^T), grad (grad L(F)), primal, kkt, n_epochs,
converged, message.
)doc");

    // a Fortran-ordered float32 Phi (noconvert: nothing else) takes the float kernel, any other
    // array the float64 one
    m.def("group_lasso_fista", &group_lasso_fista_py<float>, py::arg("Phi").noconvert(), py::arg("Y"), py::arg("loss"), py::arg("beta"), py::arg("intercept"),
        py::arg("n_iter"), py::arg("huber_delta") = 1.0, py::arg("n_threads") = 1, py::arg("state") = py::dict(),
        py::arg("sample_weight") = Eigen::VectorXd(),
        "The same on float32 features (the products in float32).");
    m.def(
        "group_lasso_fista", &group_lasso_fista_py<double>,
        py::arg("Phi"), py::arg("Y"), py::arg("loss"), py::arg("beta"), py::arg("intercept"),
        py::arg("n_iter"), py::arg("huber_delta") = 1.0, py::arg("n_threads") = 1, py::arg("state") = py::dict(),
        py::arg("sample_weight") = Eigen::VectorXd(),
        R"doc(n_iter FISTA iterations on the group lasso over fixed neurons (A.7, (48)),
min_{W, c} L(Phi W + 1 c^T, Y) + beta sum_j ||w_j||_2, from and returning the state dict
(W, c: iterate; Zw, Zc, FZ: extrapolated point and its outputs; F = Phi W + 1 c^T; t: momentum;
Lc: inverse step; objective; n_iter).  An empty state starts at W = 0 (or state W, c only).
Backtracking on the quadratic upper bound, momentum restarts when the objective goes up; the
row blocks of the products with Phi run in n_threads threads (results do not depend on it).
sample_weight (n,), empty for none: the loss is sum_i s_i l(F_i, Y_i) (s_i >= 0).
The duality gap is left to the caller (fastconvexrelu.vector_outputs).
)doc");
}
