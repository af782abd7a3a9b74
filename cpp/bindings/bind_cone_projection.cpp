// Bindings of the cone projection (Lawson-Hanson NNLS) and the spike-free oracle (15).
#include "common.hpp"
#include "fastconvexrelu/cone_projection.hpp"

#include <string>
#include <vector>

namespace py = pybind11;

namespace {

using Index = Eigen::Index;
using WarmList = std::vector<std::vector<Index>>;

fcr::ConeProjectionOptions make_options(double tol, double dep_tol, int max_iter) {
    fcr::ConeProjectionOptions opt;
    opt.tol = tol;
    opt.dep_tol = dep_tol;
    opt.max_iter = max_iter;
    return opt;
}

py::array_t<Index> index_array(const std::vector<Index>& v) {
    py::array_t<Index> out(static_cast<py::ssize_t>(v.size()));
    Index* p = out.mutable_data();
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i];
    return out;
}

py::dict single_dict(const fcr::ConeProjectionResult& r) {
    py::dict d;
    d["u"] = py::array_t<double>(r.u.size(), r.u.data());
    d["lam"] = py::array_t<double>(r.lambda.size(), r.lambda.data());
    d["active"] = index_array(r.active);
    d["distance"] = r.distance;
    d["n_iter"] = r.n_iter;
    d["converged"] = r.converged;
    d["message"] = r.message;
    d["min_Au"] = r.min_Au;
    d["complementarity"] = r.complementarity;
    d["dual_infeasibility"] = r.dual_infeasibility;
    d["stationarity"] = r.stationarity;
    return d;
}

// Stack a batch: U (m, d), lam (m, n), per-row scalars as arrays, active as a list of arrays.
py::dict batch_dict(const std::vector<fcr::ConeProjectionResult>& res, Index d, Index n) {
    const auto m = static_cast<py::ssize_t>(res.size());
    py::array_t<double> U({m, static_cast<py::ssize_t>(d)});
    py::array_t<double> L({m, static_cast<py::ssize_t>(n)});
    py::array_t<double> dist(m), min_Au(m), compl_(m), dinf(m), stat(m);
    py::array_t<int> n_iter(m);
    py::array_t<bool> conv(m);
    py::list active, message;
    auto u = U.mutable_unchecked<2>();
    auto l = L.mutable_unchecked<2>();
    for (py::ssize_t i = 0; i < m; ++i) {
        const auto& r = res[static_cast<std::size_t>(i)];
        for (Index j = 0; j < d; ++j) u(i, j) = r.u[j];
        for (Index j = 0; j < n; ++j) l(i, j) = r.lambda[j];
        dist.mutable_at(i) = r.distance;
        min_Au.mutable_at(i) = r.min_Au;
        compl_.mutable_at(i) = r.complementarity;
        dinf.mutable_at(i) = r.dual_infeasibility;
        stat.mutable_at(i) = r.stationarity;
        n_iter.mutable_at(i) = r.n_iter;
        conv.mutable_at(i) = r.converged;
        active.append(index_array(r.active));
        message.append(r.message);
    }
    py::dict out;
    out["u"] = U;
    out["lam"] = L;
    out["active"] = active;
    out["distance"] = dist;
    out["n_iter"] = n_iter;
    out["converged"] = conv;
    out["message"] = message;
    out["min_Au"] = min_Au;
    out["complementarity"] = compl_;
    out["dual_infeasibility"] = dinf;
    out["stationarity"] = stat;
    return out;
}

constexpr const char* kResultDoc = R"doc(
Result keys: u (the projection P_C(g)), lam (the multipliers lambda >= 0, one per row of A,
zero off the active set), active (sorted int64 indices of the rows with lambda_i > 0: the
Lawson-Hanson passive set, pass it as warm start to the next call), distance (||u - g||),
n_iter (Lawson-Hanson steps), converged, message, and the KKT residuals min_Au
(min_i (A u)_i, primal feasibility), complementarity (max_i |lambda_i (A u)_i|),
dual_infeasibility (max(0, -min lambda)), stationarity (||u - g - A^T lambda||_inf).
)doc";

}  // namespace

void bind_cone_projection(py::module_& m) {
    m.def(
        "cone_projection",
        [](fcr_py::RowMatrixRef A, fcr_py::VectorRef g, double tol, double dep_tol, int max_iter,
           const std::vector<Index>& warm_start) {
            const auto opt = make_options(tol, dep_tol, max_iter);
            fcr::ConeProjectionResult r;
            {
                fcr_py::nogil release;
                r = fcr::cone_projection(A, g, opt, warm_start);
            }
            return single_dict(r);
        },
        py::arg("A"), py::arg("g"), py::arg("tol") = 1e-12, py::arg("dep_tol") = 1e-10,
        py::arg("max_iter") = 0, py::arg("warm_start") = std::vector<Index>{},
        (std::string(R"doc(Euclidean projection of g onto the polyhedral cone C = {u : A u >= 0}.

By Moreau's decomposition (the polar cone is {-A^T lambda : lambda >= 0}),

    P_C(g) = g + A^T lambda*,   lambda* in argmin_{lambda >= 0} 1/2 ||g + A^T lambda||^2,

a non-negative least-squares problem solved exactly by the Lawson-Hanson active-set method
with an up/down-dated thin QR factorization of the active rows of A.  This is the inner step of
the spike-free oracle (15) of the cutting-plane method (Section 3.5, Algorithm 1).

Parameters
----------
A : ndarray of shape (n, d), float64
g : ndarray of shape (d,), float64
tol : float, row i counts as violated when (A u)_i < -tol ||a_i|| ||g||
dep_tol : float in (0, 1), relative threshold for a row to count as linearly dependent
max_iter : int, cap on Lawson-Hanson steps (<= 0: max(100, 3 (n + d)))
warm_start : sequence of int, passive set (active rows) of a previous call

Returns
-------
dict
)doc") + kResultDoc)
            .c_str());

    m.def(
        "cone_projection_batch",
        [](fcr_py::RowMatrixRef A, fcr_py::RowMatrixRef G, double tol, double dep_tol,
           int max_iter, const WarmList& warm_starts, int n_threads) {
            const auto opt = make_options(tol, dep_tol, max_iter);
            std::vector<fcr::ConeProjectionResult> res;
            {
                fcr_py::nogil release;
                res = fcr::cone_projection_batch(A, G, opt, warm_starts, n_threads);
            }
            return batch_dict(res, A.cols(), A.rows());
        },
        py::arg("A"), py::arg("G"), py::arg("tol") = 1e-12, py::arg("dep_tol") = 1e-10,
        py::arg("max_iter") = 0, py::arg("warm_starts") = WarmList{}, py::arg("n_threads") = 2,
        (std::string(R"doc(Projections of every row of G (m, d) onto C = {u : A u >= 0}.

Same method as cone_projection; the rows are distributed over n_threads std::threads (the
result does not depend on n_threads).  warm_starts: empty, one passive set for all rows, or one
per row.  Result arrays are stacked over the rows (u: (m, d), lam: (m, n), scalars: (m,),
active and message: lists).
)doc") + kResultDoc)
            .c_str());

    m.def(
        "spike_free_oracle",
        [](fcr_py::RowMatrixRef X, fcr_py::RowMatrixRef V, double tol, double dep_tol,
           int max_iter, double zero_tol, const WarmList& warm_plus, const WarmList& warm_minus,
           int n_threads) {
            const auto opt = make_options(tol, dep_tol, max_iter);
            fcr::SpikeFreeOracleResult r;
            {
                fcr_py::nogil release;
                r = fcr::spike_free_oracle(X, V, opt, zero_tol, warm_plus, warm_minus, n_threads);
            }
            py::dict d;
            d["u_max"] = py::array_t<double>({r.u_max.rows(), r.u_max.cols()}, r.u_max.data());
            d["u_min"] = py::array_t<double>({r.u_min.rows(), r.u_min.cols()}, r.u_min.data());
            d["value_max"] = py::array_t<double>(r.value_max.size(), r.value_max.data());
            d["value_min"] = py::array_t<double>(r.value_min.size(), r.value_min.data());
            d["plus"] = batch_dict(r.plus, X.cols(), X.rows());
            d["minus"] = batch_dict(r.minus, X.cols(), X.rows());
            d["converged"] = r.converged;
            return d;
        },
        py::arg("X"), py::arg("V"), py::arg("tol") = 1e-12, py::arg("dep_tol") = 1e-10,
        py::arg("max_iter") = 0, py::arg("zero_tol") = 1e-12, py::arg("warm_plus") = WarmList{},
        py::arg("warm_minus") = WarmList{}, py::arg("n_threads") = 2,
        R"doc(Spike-free relaxation (15) for every column v_k of V (n, o).

With C = {u : X u >= 0} and g_k = X^T v_k (Moreau: g^T u <= P_C(g)^T u for u in C),

    max_{X u >= 0, ||u|| <= 1} v_k^T X u =  ||P_C(g_k)||,   u = P_C(g_k) / ||P_C(g_k)||,
    min_{X u >= 0, ||u|| <= 1} v_k^T X u = -||P_C(-g_k)||,  u = P_C(-g_k) / ||P_C(-g_k)||,

with u = 0 (value 0) when the projection has norm <= zero_tol ||g_k||.  The 2 o projections
run in parallel (n_threads).  o = 1 is the oracle of Algorithm 1; o > 1 the per-column
relaxation of A.7.3.

Returns
-------
dict with u_max, u_min (o, d), value_max, value_min (o,), plus / minus (batch results of the
projections of g_k / -g_k, see cone_projection_batch; their 'active' lists are the warm starts
warm_plus / warm_minus of the next call) and converged (all 2 o projections converged).
)doc");
}
