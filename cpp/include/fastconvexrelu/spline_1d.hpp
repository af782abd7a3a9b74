// Exact training of a two-layer ReLU network with free biases on one-dimensional data.
//
// By Lemma 2.6 / Corollary 3.2 the optimal neurons are the 2n "ramps" (x - a_k)_+ and
// (a_k - x)_+ with kinks at the data points, so the non-convex training problem equals the
// convex problem (Corollary 4.1, Theorem 5.2, Theorem 6.1)
//
//     minimize_{c, w}  L(c 1 + K w, y) + beta * ||w||_1,      K = [(a_i - a_k)_+, (a_k - a_i)_+]
//
// which is solved here without ever forming K: the dual variable v (1^T v = 0) is
// parametrized by z = K_right^T v (a double prefix sum of v), in which the dual constraints
// ||K^T v||_inf <= beta become |z_k| <= beta and |z_k - z_0| <= beta, and v = A z with A
// tridiagonal.  A primal-dual interior-point method on z then costs O(n) per iteration
// (pentadiagonal-plus-arrow Newton systems) and its iteration count barely grows with n.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace fcr {

enum class Loss { Squared, Hinge, Logistic };

Loss loss_from_string(const std::string& name);  // "squared" | "hinge" | "logistic"

struct Spline1DOptions {
    double beta = 1e-3;      // beta == 0: minimum-norm interpolation (squared) / hard margin (hinge)
    Loss loss = Loss::Squared;
    double tol = 1e-8;       // stop when (primal - dual) <= tol * max(1, |primal|)
    int max_iter = 200;      // interior-point iterations (logistic loss: proximal-Newton steps)
};

struct Spline1DResult {
    // The network, in canonical minimum-cost form: f(x) = intercept
    //   + sum_j w_right[j] * (x - knots_right[j])_+ + sum_j w_left[j] * (knots_left[j] - x)_+ .
    std::vector<double> knots_right, w_right, knots_left, w_left;
    double intercept = 0.0;
    Eigen::VectorXd fitted;   // f at every input sample (input order)
    Eigen::VectorXd dual;     // dual-feasible v per input sample (input order)
    Eigen::VectorXd knot_dual;  // the same dual vector summed over the samples at each distinct x
    double primal = 0.0;      // J = L + beta * ||w||_1 of the returned network (exactly evaluated)
    double dual_value = 0.0;  // D(v) <= optimum
    double gap = 0.0;         // primal - dual_value (a certified bound on suboptimality)
    int n_iter = 0;           // interior-point iterations (logistic loss: proximal-Newton steps)
    bool converged = false;
    std::string message;
    std::vector<double> history_gap;  // certified gap after each checked iteration
};

// x, y: n samples (any order, duplicates in x allowed).  For hinge/logistic, y must be +-1.
// Throws std::invalid_argument for invalid input or infeasible interpolation.
Spline1DResult fit_spline_1d(const Eigen::Ref<const Eigen::VectorXd>& x,
                             const Eigen::Ref<const Eigen::VectorXd>& y,
                             const Spline1DOptions& opt);

}  // namespace fcr
