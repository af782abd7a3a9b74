// Bindings of the arrangement enumeration and the exact pattern oracle (arrangement.hpp).
#include "common.hpp"
#include "fastconvexrelu/arrangement.hpp"

#include <string>

namespace py = pybind11;

namespace {

using Index = Eigen::Index;
using PatternRef = Eigen::Ref<const fcr::PatternMatrix>;

py::array_t<double> mat(const fcr::RowMatrixXd& M) {
    return py::array_t<double>({M.rows(), M.cols()}, M.data());
}

}  // namespace

void bind_arrangement(py::module_& m) {
    m.def(
        "enumerate_patterns",
        [](fcr_py::RowMatrixRef X, bool bias, long long max_patterns, double tol) {
            fcr::ArrangementResult r;
            {
                fcr_py::nogil release;
                try {
                    r = fcr::enumerate_patterns(X, bias, max_patterns, tol);
                } catch (const fcr::TooManyPatterns& ex) {
                    py::gil_scoped_acquire acquire;
                    throw py::value_error(std::string(ex.what()));
                }
            }
            py::dict d;
            d["patterns"] = py::array_t<std::uint8_t>({r.patterns.rows(), r.patterns.cols()},
                                                      r.patterns.data());
            d["generators"] = mat(r.generators);
            d["count"] = r.count;
            d["rank"] = r.rank;
            d["min_margin"] = r.min_margin;
            return d;
        },
        py::arg("X"), py::arg("bias") = true, py::arg("max_patterns") = 100000,
        py::arg("tol") = 1e-9,
        R"doc(All activation patterns D = 1[X u + b 1 > 0] of full-dimensional cells of the
arrangement {(u, b) : x_i^T u + b = 0} (bias) or {u : x_i^T u = 0}, all-zero excluded.

Exact recursion over the extreme rays of the cells (see arrangement.hpp).  Returns a dict with
patterns (n, P) uint8, generators (P, d + 1) or (P, d) unit vectors (u, b) realizing each
pattern strictly, count P, rank of [X, 1] (or X) and min_margin (smallest
|a_i^T w| / (||a_i|| ||w||)).  Raises ValueError when more than max_patterns patterns exist.
)doc");

    m.def(
        "pattern_oracle",
        [](fcr_py::RowMatrixRef X, fcr_py::VectorRef v, PatternRef patterns, bool bias,
           double tol, double dep_tol, int max_iter, int n_threads,
           const std::vector<int>& signs) {
            fcr::ConeProjectionOptions opt;
            opt.tol = tol;
            opt.dep_tol = dep_tol;
            opt.max_iter = max_iter;
            fcr::PatternOracleResult r;
            {
                fcr_py::nogil release;
                r = fcr::pattern_oracle(X, v, patterns, bias, opt, n_threads, signs);
            }
            const Index P = r.value.rows(), d = X.cols();
            py::array_t<double> U({static_cast<py::ssize_t>(P), py::ssize_t(2),
                                   static_cast<py::ssize_t>(d)});
            auto u = U.mutable_unchecked<3>();
            for (Index p = 0; p < P; ++p)
                for (int c = 0; c < 2; ++c)
                    for (Index j = 0; j < d; ++j) u(p, c, j) = r.u[c](p, j);
            py::array_t<int> status({static_cast<py::ssize_t>(P), py::ssize_t(2)});
            auto st = status.mutable_unchecked<2>();
            for (Index p = 0; p < P; ++p)
                for (int c = 0; c < 2; ++c) st(p, c) = r.status(p, c);
            py::dict out;
            out["value"] = mat(r.value);
            out["u"] = U;
            out["b"] = mat(r.b);
            out["status"] = status;
            out["primal_infeasibility"] = mat(r.primal_infeasibility);
            out["gap"] = mat(r.gap);
            out["n_iter"] = mat(r.n_iter);
            return out;
        },
        py::arg("X"), py::arg("v"), py::arg("patterns"), py::arg("bias") = true,
        py::arg("tol") = 1e-12, py::arg("dep_tol") = 1e-10, py::arg("max_iter") = 0,
        py::arg("n_threads") = 2, py::arg("signs") = std::vector<int>{},
        R"doc(Exact per-pattern oracle, for every column D of patterns (n, P) and s = +1, -1:

    g(s) = max { s v^T D (X u + b 1) : (2D - I)(X u + b 1) >= 0, ||u|| <= 1, b free }

(b = 0 when bias is False), by an active-set method on the conic dual
min_{lambda >= 0, e^T lambda = -c_b} ||c_u + A^T lambda|| (bias) or the Lawson-Hanson cone
projection (no bias).  Returns value (P, 2) (inf when unbounded), u (P, 2, d), b (P, 2),
status (P, 2: 0 converged, 1 unbounded, 2 not converged, 3 skipped), primal_infeasibility,
gap, n_iter.  signs: empty, or one of -1, 0 (both), +1 per pattern (only that sign is
solved; the other entry is NaN with status 3).
)doc");
}
