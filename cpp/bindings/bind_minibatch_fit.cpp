// Binding of the mini-batch weight-decay cross-entropy fits (fcr::minibatch_fit_batch).
#include "common.hpp"
#include "fastconvexrelu/minibatch_fit.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace py = pybind11;

void bind_minibatch_fit(py::module_& m) {
    m.def(
        "minibatch_fit",
        [](Eigen::Ref<const fcr::RowMatrixXf> X, Eigen::Ref<const Eigen::VectorXi> labels,
           Eigen::Ref<const Eigen::VectorXf> sample_weight, const std::vector<Eigen::MatrixXf>& U0,
           const std::vector<Eigen::VectorXf>& b0, const std::vector<Eigen::MatrixXf>& W0,
           const std::vector<Eigen::VectorXf>& c0, const std::vector<std::uint64_t>& seeds,
           const std::string& loss, double beta, bool bias, int epochs, int batch_size, double lr,
           double lr_final, int n_threads) {
            fcr::MinibatchFitOptions opt;
            opt.loss = loss;
            opt.beta = beta;
            opt.bias = bias;
            opt.epochs = epochs;
            opt.batch_size = batch_size;
            opt.lr = lr;
            opt.lr_final = lr_final;
            opt.n_threads = n_threads;
            std::vector<fcr::MinibatchFitResult> res;
            {
                fcr_py::nogil release;
                res = fcr::minibatch_fit_batch(X, labels, sample_weight, U0, b0, W0, c0, seeds, opt);
            }
            py::list out;
            for (const auto& r : res) {
                py::dict dct;
                dct["U"] = r.U;
                dct["b"] = r.b;
                dct["w"] = r.W;
                dct["c"] = r.c;
                dct["n_steps"] = r.n_steps;
                out.append(dct);
            }
            return out;
        },
        py::arg("X"), py::arg("labels"), py::arg("sample_weight"), py::arg("U0"), py::arg("b0"),
        py::arg("w0"), py::arg("c0"), py::arg("seeds"), py::arg("loss") = "softmax",
        py::arg("beta") = 1e-3, py::arg("bias") = true, py::arg("epochs") = 10,
        py::arg("batch_size") = 128, py::arg("lr") = 1e-3, py::arg("lr_final") = 0.01,
        py::arg("n_threads") = 1,
        R"doc(Mini-batch Adam fits of the weight-decay cross-entropy problem
min_{U, b, W, c} sum_i s_i l((X U + 1 b^T)_+ W + 1 c^T)_i + beta/2 (||U||_F^2 + ||W||_F^2)
(l: softmax cross-entropy against labels 0..o-1, or the logistic loss of one output with
labels 0/1 for y = -1/+1; b and c free, bias=False: b = 0, c = 0), float32, from each start.

Adam on the objective / n, batches of batch_size rows of a fresh permutation per epoch,
learning rate lr decayed to lr * lr_final by a cosine schedule.  One fit per thread
(n_threads <= 0: all cores); each result depends only on its start and its seed.

Parameters
----------
X : ndarray (n, d) float32, C order (no copy); labels : int32 (n,);
sample_weight : float32 (n,) or (0,) for all ones; U0, b0, w0, c0 : lists of float32 arrays
(d, m), (m,), (m, o), (o,); seeds : list of int (shuffling).

Returns
-------
list of dicts with U, b, w, c (float32) and n_steps.
)doc");
}
