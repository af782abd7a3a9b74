// Binding of the exact, anytime dual oracle (dual_oracle.hpp): conversions, GIL release,
// progress callback (called with the GIL held).
#include "common.hpp"
#include "fastconvexrelu/dual_oracle.hpp"

#include <limits>
#include <string>

namespace py = pybind11;

void bind_dual_oracle(py::module_& m) {
    m.def(
        "dual_oracle",
        [](fcr_py::RowMatrixRef X, fcr_py::VectorRef v, fcr_py::RowMatrixRef cand_U, fcr_py::VectorRef cand_b,
           bool bias, double time_limit, long long node_limit, long long max_open, double rel_tol,
           double floor, double stop_above, int n_random, unsigned long long seed, int n_threads,
           double progress_interval, py::object progress) {
            fcr::DualOracleOptions opt;
            opt.bias = bias;
            opt.time_limit = time_limit;
            opt.node_limit = node_limit;
            opt.max_open = max_open;
            opt.rel_tol = rel_tol;
            opt.floor = floor;
            opt.stop_above = stop_above;
            opt.n_random = n_random;
            opt.seed = seed;
            opt.n_threads = n_threads;
            opt.progress_interval = progress.is_none() ? 0.0 : progress_interval;
            fcr::DualOracleCallback cb = nullptr;
            if (!progress.is_none()) {
                cb = [&progress](const fcr::DualOracleProgress& p) {
                    py::gil_scoped_acquire acquire;
                    progress(p.nodes, p.open, p.lower, p.upper, p.seconds);
                };
            }
            fcr::DualOracleResult r;
            {
                fcr_py::nogil release;
                r = fcr::dual_oracle(X, v, cand_U, cand_b, opt, cb);
            }
            py::dict d;
            d["upper"] = r.upper;
            d["lower"] = r.lower;
            d["u"] = py::array_t<double>(r.u.size(), r.u.data());
            d["b"] = r.b;
            d["sign"] = r.sign;
            d["nodes"] = r.nodes;
            d["open"] = r.open;
            d["seconds"] = r.seconds;
            d["converged"] = r.converged;
            d["status"] = r.status;
            return d;
        },
        py::arg("X"), py::arg("v"), py::arg("cand_U"), py::arg("cand_b"), py::arg("bias") = true,
        py::arg("time_limit") = std::numeric_limits<double>::infinity(),
        py::arg("node_limit") = 20000000LL, py::arg("max_open") = 4000000LL, py::arg("rel_tol") = 1e-6,
        py::arg("floor") = 0.0, py::arg("stop_above") = std::numeric_limits<double>::infinity(),
        py::arg("n_random") = 2000, py::arg("seed") = 0ULL, py::arg("n_threads") = 0,
        py::arg("progress_interval") = 0.0, py::arg("progress") = py::none(),
        R"doc(Branch and bound for sigma(v) = max_{||u|| <= 1, b} |v^T (X u + b 1)_+| (bias=True,
needs 1^T v = 0 exactly) or max_{||u|| <= 1} |v^T (X u)_+| (bias=False); see dual_oracle.hpp.

Returns a dict: upper (>= sigma(v), and >= floor), lower (the value at the returned neuron),
u (unit norm), b, sign (sign * v^T (X u + b)_+ = lower), nodes, open, seconds, converged,
status ("converged", "time_limit", "node_limit", "memory_limit", "violated").
progress(nodes, open, lower, upper, seconds) is called every progress_interval seconds.)doc");
}
