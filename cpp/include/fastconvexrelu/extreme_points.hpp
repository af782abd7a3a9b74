// Extreme-point neurons of two-layer ReLU networks for 1-D and rank-one data.
//
// The dual of the regularized training problem (paper, Theorem 3.1 / Corollary 3.1) has a
// constraint for every unit-norm neuron (u, b); the optimal neurons are extreme points of
// Q_A = { (A u + b 1)_+ : ||u||_2 <= 1 }.  When these are finitely many, the training problem
// is a finite convex program over them:
//
//  * Lemma 2.6 / Corollary 3.2 (d = 1): u = +-1 and b = -sign(u) x_i, i.e. the 2n ramps
//    (x - x_i)_+ and (x_i - x)_+ with kinks exactly at the samples.
//  * Corollary 3.4 (rank-one data X = c a^T): u = s a / ||a||_2, b = -s c_i ||a||_2, s = +-1;
//    with a free offset (X = 1 x0^T + t a^T) the same neurons with the kink at sample i.
#pragma once

#include <Eigen/Core>

namespace fcr {

// A set of m hidden neurons x -> (u_j^T x + b_j)_+ ; U is d x m, b has m entries.
struct NeuronSet {
    Eigen::MatrixXd U;
    Eigen::VectorXd b;
};

// 1-D data x (n samples): all 2n extreme-point neurons (Lemma 2.6).  Columns 0..n-1 are
// u = +1, b = -x_i (ramps (x - x_i)_+), columns n..2n-1 are u = -1, b = +x_i (ramps
// (x_i - x)_+), both in input order.  U is 1 x 2n.
// Throws std::invalid_argument for empty or non-finite x.
NeuronSet extreme_points_1d(const Eigen::Ref<const Eigen::VectorXd>& x);

// Least-squares line through the rows of X (n x d):  X ~= 1 x0^T + t a^T.
//   bias = true : x0 is the mean row; bias = false : the line passes through the origin, x0 = 0.
//   a is the unit top eigenvector of the d x d scatter matrix (X - 1 x0^T)^T (X - 1 x0^T)
//   (computed from the n x n Gram matrix instead when n < d), its sign fixed so that its
//   largest-magnitude entry is positive; t = (X - 1 x0^T) a.
//   rel_residual = ||X - 1 x0^T - t a^T||_F / ||X - 1 x0^T||_F  (0 when the denominator is 0).
// Degenerate data (all rows equal to x0): a = e_1, t = 0, rel_residual = 0.
struct LineFit {
    Eigen::VectorXd x0, a, t;
    double rel_residual = 0.0;
};
LineFit fit_line(const Eigen::Ref<const Eigen::MatrixXd>& X, bool bias);

// Rank-one data (Corollary 3.4).  With a = the fitted unit direction:
//   bias = true : 2n neurons, u = +a with b = -x_i^T a (neuron i computes (t - t_i)_+ on the
//                 line), then u = -a with b = +x_i^T a ((t_i - t)_+), in input order.
//   bias = false: the 2 neurons u = +a and u = -a with b = 0 (the only extreme points when
//                 the network has no biases).
// Throws std::invalid_argument("X is not rank one ...") if rel_residual > rtol, and for
// empty or non-finite X or negative/NaN rtol.
NeuronSet extreme_points_rank_one(const Eigen::Ref<const Eigen::MatrixXd>& X, bool bias = true,
                                  double rtol = 1e-9);

}  // namespace fcr
