// Mini-batch (stochastic) local training of a two-layer ReLU classifier with weight decay,
// the non-convex problem that the paper convexifies (eq. (2) with biases; A.7 for vector
// outputs), with the cross-entropy loss:
//
//     minimize_{U, b, W, c}  sum_i s_i l((X U + 1 b^T)_+ W + 1 c^T)_i + beta/2 (||U||^2 + ||W||^2)
//
// l the softmax cross-entropy of the row against its label (K >= 2 outputs) or the logistic
// loss log(1 + exp(-y f)) of one output (y = +-1); s_i >= 0 sample weights; hidden biases b
// and intercepts c unpenalized (bias = false fixes b = 0, c = 0).  By AM-GM the penalty is
// >= beta sum_j ||u_j|| ||w_j|| with equality after rebalancing, so a trained network is a
// feasible point of the convex weight-decay (group-lasso) program over its own neurons.
//
// Algorithm: Adam on the objective / n with mini-batch gradients (batches of `batch_size`
// rows of a fresh random permutation each epoch), learning rate decayed from `lr` to
// `lr * lr_final` by a cosine schedule over all steps.  Arithmetic in float32 (the products
// X_B U and X_B^T G dominate), X read in row-major order so that a batch is a row gather.
// Fits from several starts run in parallel threads, one fit per thread; each result depends
// only on its start and its seed.  A cheap source of neurons, not a global method.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace fcr {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct MinibatchFitOptions {
    std::string loss = "softmax";  // softmax (labels 0..K-1, K >= 2 outputs) | logistic (1 output, labels 0/1)
    double beta = 1e-3;            // > 0
    bool bias = true;
    int epochs = 10;               // >= 1
    int batch_size = 128;          // >= 1
    double lr = 1e-3;              // > 0
    double lr_final = 0.01;        // final learning rate / lr, in [0, 1]
    int n_threads = 1;             // fits run in parallel (<= 0: all cores)
};

struct MinibatchFitResult {
    Eigen::MatrixXf U;  // d x m
    Eigen::VectorXf b;  // m
    Eigen::MatrixXf W;  // m x o
    Eigen::VectorXf c;  // o
    long long n_steps = 0;
};

// Fits from the starts (U0[k], b0[k], W0[k], c0[k]) with shuffling seeds seeds[k].  labels in
// [0, o) for softmax (o = W0 columns >= 2), in {0, 1} for logistic (o = 1); sample_weight of
// size n (or empty: all ones).  Throws std::invalid_argument on bad shapes, non-finite values,
// labels out of range, negative weights, bad options.
std::vector<MinibatchFitResult> minibatch_fit_batch(const Eigen::Ref<const RowMatrixXf>& X,
                                                    const Eigen::Ref<const Eigen::VectorXi>& labels,
                                                    const Eigen::Ref<const Eigen::VectorXf>& sample_weight,
                                                    const std::vector<Eigen::MatrixXf>& U0,
                                                    const std::vector<Eigen::VectorXf>& b0,
                                                    const std::vector<Eigen::MatrixXf>& W0,
                                                    const std::vector<Eigen::VectorXf>& c0,
                                                    const std::vector<std::uint64_t>& seeds,
                                                    const MinibatchFitOptions& opt);

}  // namespace fcr
