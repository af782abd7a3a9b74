// Exact training of a bias-free two-layer ReLU network on rank-one data through the origin.
//
// With bias = False and samples on one line through the origin (X = t a^T, ||a||_2 = 1; the
// 1-D case is a = [1]), Corollary 3.4 with b = 0 leaves only two extreme-point neurons,
// u = +a and u = -a, so the network is
//
//     f_i = w_pos * p_i + w_neg * q_i,     p = (t)_+,  q = (-t)_+,
//
// and the training problem is the two-variable convex program
//
//     J(w) = L(f, y) + beta * (|w_pos| + |w_neg|)
//
// with L = 1/2 sum (f_i - y_i)^2 (squared), sum max(0, 1 - y_i f_i) (hinge) or
// sum log(1 + exp(-y_i f_i)) (logistic).  p and q have disjoint supports, so the problem
// splits into two independent scalar problems that are solved exactly (closed form / exact
// breakpoint scan / safeguarded Newton to machine precision).
//
// beta = 0 means: squared -> minimum-norm interpolation  min |w_pos| + |w_neg| s.t. f = y;
// hinge -> hard margin  min |w_pos| + |w_neg| s.t. y_i f_i >= 1; logistic -> rejected.
//
// Certificate.  For beta > 0 the dual is
//     max_v  -sum_i l_i^*(v_i)   s.t.  |p^T v| <= beta,  |q^T v| <= beta
// and `dual` holds such a v (v_i = l_i'(f_i) at the optimum: squared v = f - y, hinge
// v_i = -y_i alpha_i with alpha_i in [0,1], logistic v_i = -y_i sigma(-y_i f_i)).
// For beta = 0 the dual is  max_v y^T v  s.t. |p^T v| <= 1, |q^T v| <= 1  (interpolation),
// resp.  max_alpha sum alpha_i  s.t. alpha >= 0, |p^T (y.alpha)| <= 1, |q^T (y.alpha)| <= 1
// (hard margin), and `dual` holds v = y.alpha.  Feasibility of v is enforced numerically,
// D(v) is evaluated exactly, and gap = max(0, J - D) plus a tiny floating-point allowance
// (a few ulps of the magnitudes summed), so gap is an honest bound on J(w) - J*.
#pragma once

#include <Eigen/Core>
#include <string>

namespace fcr {

struct RayFitResult {
    double w_pos = 0.0;       // output weight of the neuron (t)_+
    double w_neg = 0.0;       // output weight of the neuron (-t)_+
    Eigen::VectorXd fitted;   // f_i = w_pos (t_i)_+ + w_neg (-t_i)_+
    Eigen::VectorXd dual;     // dual-feasible v per sample (see above for the convention)
    double primal = 0.0;      // J(w) (beta = 0: |w_pos| + |w_neg|)
    double dual_value = 0.0;  // D(v) <= optimum
    double gap = 0.0;         // certified upper bound on J(w) - optimum (>= 0)
    bool converged = false;   // gap <= 1e-10 * max(1, |primal|)
    std::string message;
};

// t, y: n samples (coordinates along the line, targets/labels).  loss: "squared" | "hinge" |
// "logistic"; for hinge/logistic y must be +-1.  beta >= 0 (beta > 0 for logistic).
// Throws std::invalid_argument for invalid input or infeasible interpolation / hard margin.
RayFitResult fit_ray_pair(const Eigen::Ref<const Eigen::VectorXd>& t,
                          const Eigen::Ref<const Eigen::VectorXd>& y,
                          const std::string& loss, double beta);

}  // namespace fcr
