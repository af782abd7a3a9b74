// Python bindings of fcr::min_norm_points and fcr::hull_neurons (Lemma 2.7, eq. (10)).
#include "common.hpp"

#include <cstdint>
#include <vector>

#include "fastconvexrelu/hull_neurons.hpp"

namespace {

namespace py = pybind11;
using fcr_py::RowMatrixRef;
using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

std::vector<std::int64_t> to_vector(const py::object& obj) {
    if (obj.is_none()) return {};
    Int64Array a = obj.cast<Int64Array>();
    if (a.ndim() != 1) throw py::value_error("index arrays must be one-dimensional");
    return std::vector<std::int64_t>(a.data(), a.data() + a.size());
}

template <class T>
py::array_t<T> vec_to_numpy(const std::vector<T>& v) {
    py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

fcr::MinNormOptions make_options(double tol, double zero_tol, int max_iter, int n_threads, int gram,
                                 std::int64_t gram_max_points, int working_set) {
    fcr::MinNormOptions o;
    o.tol = tol;
    o.zero_tol = zero_tol;
    o.max_iter = max_iter;
    o.n_threads = n_threads;
    o.gram = gram;
    o.gram_max_points = static_cast<Eigen::Index>(gram_max_points);
    o.working_set = working_set;
    return o;
}

constexpr const char* kMinNormDoc = R"doc(Batched minimum-norm points of convex hulls (Wolfe's algorithm).

For every target ``t_i`` (row ``i`` of ``T``) and its candidate set ``C_i`` of rows of ``P``
solves the simplex-constrained QP (paper, eq. (28))

    min_lambda || t_i - sum_{j in C_i} lambda_j p_j ||_2  s.t.  lambda >= 0, 1^T lambda = 1

exactly by Wolfe's active-set minimum-norm-point algorithm, in parallel over the targets
(``n_threads``; results do not depend on it), with the GIL released.  Low-level: prefer
``fastconvexrelu.hull_neurons.min_norm_points``, which validates its input.

Parameters
----------
P : (m, d) float64 array -- points.  T : (k, d) float64 array -- targets.
exclude : (k,) int64 array or None -- target i skips point exclude[i] (-1: none).
indptr, indices : int64 arrays or None -- CSR candidate lists (sorted, non-empty).
tol, zero_tol, max_iter, n_threads, gram, gram_max_points, working_set -- see MinNormOptions.

Returns
-------
dict with ``indptr``, ``indices``, ``weights`` (CSR k x m optimal lambda), ``residuals``
(k, d) ``t_i - sum_j lambda_ij p_j``, ``distances`` (k,), ``lower_bounds`` (k,),
``biases`` (k,) ``min_{j in C_i} -p_j^T u_i`` (NaN when the distance is 0), ``n_iter``,
``status`` (0 converged, 1 zero distance, 2 rounding limit, 3 max_iter), ``used_gram``.
)doc";

constexpr const char* kHullDoc = R"doc(Hull neurons of every sample (Lemma 2.7, eq. (10)).

For each row ``a_i`` of ``X`` (n >= 2) the nearest point of conv{a_j : j != i} gives
``u_i = (a_i - sum_j lambda_j a_j) / d_i`` and ``b_i = min_{j != i} (-a_j^T u_i)`` with the
distance ``d_i``.  Low-level: prefer ``fastconvexrelu.hull_neurons``.

Returns
-------
(U (d, n), b (n,), distances (n,), lower_bounds (n,), status (n,)); column i of U and b_i
are NaN when d_i = 0.
)doc";

}  // namespace

void bind_hull_neurons(py::module_& m) {
    m.def(
        "min_norm_points",
        [](RowMatrixRef P, RowMatrixRef T, const py::object& exclude, const py::object& indptr,
           const py::object& indices, double tol, double zero_tol, int max_iter, int n_threads, int gram,
           std::int64_t gram_max_points, int working_set) {
            fcr::CandidateSets cs;
            cs.exclude = to_vector(exclude);
            cs.indptr = to_vector(indptr);
            cs.indices = to_vector(indices);
            const fcr::MinNormOptions o = make_options(tol, zero_tol, max_iter, n_threads, gram, gram_max_points, working_set);
            fcr::MinNormResult r;
            {
                fcr_py::nogil release;
                r = fcr::min_norm_points(P, T, cs, o);
            }
            py::dict out;
            out["indptr"] = vec_to_numpy(r.indptr);
            out["indices"] = vec_to_numpy(r.indices);
            out["weights"] = vec_to_numpy(r.weights);
            out["residuals"] = py::cast(std::move(r.residuals));
            out["distances"] = py::cast(std::move(r.distances));
            out["lower_bounds"] = py::cast(std::move(r.lower_bounds));
            out["biases"] = py::cast(std::move(r.biases));
            out["n_iter"] = py::cast(std::move(r.n_iter));
            out["status"] = py::cast(std::move(r.status));
            out["used_gram"] = r.used_gram;
            return out;
        },
        py::arg("P"), py::arg("T"), py::arg("exclude") = py::none(), py::arg("indptr") = py::none(),
        py::arg("indices") = py::none(), py::arg("tol") = 1e-12, py::arg("zero_tol") = 1e-10,
        py::arg("max_iter") = 0, py::arg("n_threads") = 0, py::arg("gram") = -1,
        py::arg("gram_max_points") = 8000, py::arg("working_set") = 64, kMinNormDoc);

    m.def(
        "hull_neurons",
        [](RowMatrixRef X, double tol, double zero_tol, int max_iter, int n_threads, int gram,
           std::int64_t gram_max_points, int working_set) {
            const fcr::MinNormOptions o = make_options(tol, zero_tol, max_iter, n_threads, gram, gram_max_points, working_set);
            fcr::HullNeurons h;
            {
                fcr_py::nogil release;
                h = fcr::hull_neurons(X, o);
            }
            return py::make_tuple(py::cast(std::move(h.U)), py::cast(std::move(h.b)),
                                  py::cast(std::move(h.distances)), py::cast(std::move(h.lower_bounds)),
                                  py::cast(std::move(h.status)));
        },
        py::arg("X"), py::arg("tol") = 1e-12, py::arg("zero_tol") = 1e-10, py::arg("max_iter") = 0,
        py::arg("n_threads") = 0, py::arg("gram") = -1, py::arg("gram_max_points") = 8000, py::arg("working_set") = 64, kHullDoc);
}
