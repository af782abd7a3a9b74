// Bindings of the Convex-RF feature extraction (fcr::patch_features) and of the Gram-matrix
// multi-output lasso used for its output layer (fcr::gram_lasso).
#include "common.hpp"
#include "fastconvexrelu/gram_lasso.hpp"
#include "fastconvexrelu/patch_features.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace {

using RowRefF = Eigen::Ref<const fcr::RowMatrixXf>;
using ColRef = Eigen::Ref<const Eigen::MatrixXd>;

}  // namespace

void bind_patch_features(py::module_& m) {
    m.def(
        "patch_features",
        [](RowRefF images, py::ssize_t height, py::ssize_t width, py::ssize_t channels, RowRefF filters,
           Eigen::Ref<const Eigen::VectorXf> bias, py::ssize_t patch_h, py::ssize_t patch_w, py::ssize_t stride,
           double epsilon, py::ssize_t pool_grid, const std::string& pool, int n_threads, int kernel,
           double threshold, bool both_signs) {
            fcr::PatchFeatureOptions o;
            o.height = height;
            o.width = width;
            o.channels = channels;
            o.patch_h = patch_h;
            o.patch_w = patch_w;
            o.stride = stride;
            o.epsilon = epsilon;
            o.pool_grid = pool_grid;
            if (pool == "sum")
                o.pool = fcr::PoolKind::Sum;
            else if (pool == "max")
                o.pool = fcr::PoolKind::Max;
            else
                throw std::invalid_argument("patch_features: pool must be 'sum' or 'max'");
            o.n_threads = n_threads;
            if (kernel != 0 && kernel != 1) throw std::invalid_argument("patch_features: kernel must be 0 or 1");
            o.kernel = kernel;
            if (!std::isfinite(threshold)) throw std::invalid_argument("patch_features: threshold must be finite");
            o.threshold = static_cast<float>(threshold);
            o.both_signs = both_signs;
            const auto R = pool_grid * pool_grid * (both_signs ? 2 : 1);
            if (pool_grid < 1 || filters.cols() < 1)
                throw std::invalid_argument("patch_features: pool_grid and the filter count must be >= 1");
            py::array_t<float> out({static_cast<py::ssize_t>(images.rows()),
                                    static_cast<py::ssize_t>(R * filters.cols())});
            Eigen::Map<fcr::RowMatrixXf> outm(out.mutable_data(), images.rows(), R * filters.cols());
            {
                fcr_py::nogil release;
                fcr::patch_features(images, filters, bias, o, outm);
            }
            return out;
        },
        py::arg("images"), py::arg("height"), py::arg("width"), py::arg("channels"), py::arg("filters"),
        py::arg("bias"), py::arg("patch_h"), py::arg("patch_w"), py::arg("stride") = 1,
        py::arg("epsilon") = 10.0, py::arg("pool_grid") = 2, py::arg("pool") = "sum", py::arg("n_threads") = 1,
        py::arg("kernel") = 0, py::arg("threshold") = 0.0, py::arg("both_signs") = false,
        R"doc(Convex-RF features (Algorithm 2, steps 12-13), fused im2col + GEMM + bias + ReLU + pooling.

Parameters
----------
images : float32 (n, H*W*C), C-contiguous (each row one image, HWC order)
height, width, channels : image shape
filters : float32 (K, P), K = patch_h * patch_w * channels, patch order (dy, dx, c)
bias : float32 (P,)
patch_h, patch_w, stride : patch grid
epsilon : patch normalization (p - mean) / sqrt(var + epsilon) (var with K - 1); < 0: none
pool_grid : g, g x g pooling regions; pool : "sum" or "max"
n_threads : threads over images (<= 0: all cores); kernel : 0 auto (AVX2), 1 generic Eigen
threshold : t, activation relu(s - t) of s = u_j^T p~ + b_j
both_signs : also relu(-s - t) (the mirrored neuron; Coates & Ng's polarity split)

Returns
-------
float32 (n, g*g*S*P), S = 2 if both_signs else 1: out[i, (r*S + k)*P + j] = pool over region r
of relu(+-(u_j^T p~ + b_j) - t) (k = 0: +, k = 1: -).
)doc");

    m.def("patch_features_has_avx2", &fcr::patch_features_has_avx2,
          "Whether patch_features(kernel=0) uses the AVX2/FMA micro-kernel on this CPU.");

    m.def(
        "gram_lasso",
        [](ColRef G, ColRef Cm, fcr_py::VectorRef yy, double beta, double tol, int max_epochs, int n_threads,
           ColRef W0, int max_newton, int direct_newton_max) {
            fcr::GramLassoOptions o;
            o.beta = beta;
            o.tol = tol;
            o.max_epochs = max_epochs;
            o.n_threads = n_threads;
            o.max_newton = max_newton;
            o.direct_newton_max = direct_newton_max;
            fcr::GramLassoResult r;
            {
                fcr_py::nogil release;
                r = fcr::gram_lasso(G, Cm, yy, o, W0);
            }
            py::dict d;
            d["W"] = py::cast(r.W);
            d["primal"] = py::cast(r.primal);
            d["gap"] = py::cast(r.gap);
            d["n_epochs"] = py::cast(r.n_epochs);
            d["converged"] = py::cast(r.converged);
            return d;
        },
        py::arg("G"), py::arg("Cm"), py::arg("yy"), py::arg("beta"), py::arg("tol") = 1e-6,
        py::arg("max_epochs") = 5000, py::arg("n_threads") = 1, py::arg("W0") = Eigen::MatrixXd(),
        py::arg("max_newton") = 8000, py::arg("direct_newton_max") = 3000,
        R"doc(Per column c: min_w 1/2 w^T G w - Cm[:, c]^T w + 1/2 yy[c] + beta ||w||_1
(= 1/2 ||X w - y_c||^2 + beta ||w||_1 for G = X^T X, Cm = X^T Y, yy = ||y_c||^2), by coordinate
descent with covariance updates plus Newton steps on supports of size <= max_newton (Cholesky up to
direct_newton_max, conjugate gradients above), stopped by the exact duality gap <= tol * primal.

Returns dict W (p, m), primal (m,), gap (m,), n_epochs (m,), converged (list of bool).
)doc");
}
