// Exact, anytime dual oracle: branch and bound for the constraint function of the dual of the
// convex training problem (paper Section 3, Theorem 3.1 / Theorem 6.1; Algorithm 1's oracle),
//
//     sigma(v) = max_{||u||_2 <= 1, b} |v^T (X u + b 1)_+|      (bias = true, 1^T v = 0)
//     sigma(v) = max_{||u||_2 <= 1}    |v^T (X u)_+|            (bias = false).
//
// Writing z = (u, b) and a_i = (x_i, 1) (a_i = x_i, z = u without bias), sigma(v) is the
// larger of the maxima of g_s(z) = sum_i s v_i (a_i^T z)_+ for s = +1 and s = -1.
//
// Domain of the search.  For 1^T v = 0 and a unit u, g_s(u, b) = 0 for b <= -max_i x_i^T u
// (all samples off) and g_s = s v^T X u for b >= -min_i x_i^T u (all on), so b is restricted
// to [-R, R], R = max_i ||x_i||, without loss.  The root domains are the box [-1, 1]^d x
// [-R, R] intersected with the ball ||u|| <= 1, once for each sign s.  (The exactness of
// 1^T v = 0 is the caller's business: with 1^T v != 0 the true supremum over b is infinite.)
//
// Domain bound (a relaxation that is provably >= the maximum over the domain).  On a box
// lo <= z <= hi the pre-activation p_i = a_i^T z lies in [L_i, U_i] (centre +- the radius
// sum_j |a_ij| (hi_j - lo_j)/2, intersected with |x_i^T u| <= ||x_i||).  Per sample, with
// w_i = s v_i:
//   * stably on  (L_i >= 0): w_i (p_i)_+ = w_i p_i (exact, linear);
//   * stably off (U_i <= 0): 0 (exact);
//   * unstable, w_i > 0: the triangle relaxation (p)_+ <= U_i (p - L_i) / (U_i - L_i) on
//     [L_i, U_i] (the chord of the convex function lies above it);
//   * unstable, w_i < 0: w_i (p)_+ = -|w_i| (p)_+ is concave, and every line through the
//     origin with slope -|w_i| lambda, lambda in [0, 1], lies above it ((p)_+ >= lambda p for
//     all p); lambda = U_i / (U_i - L_i) (the same slope as the chord: the minimax choice).
// So g_s(z) <= c^T z + k on the domain, and the domain bound is the maximum of this linear
// function over {lo <= z <= hi, ||u|| <= 1}: separable in b, and for u the maximum of a
// linear function over box-and-ball, bounded by the Lagrangian dual value
//     q(mu) = max_{lo <= u <= hi} c^T u - mu/2 (||u||^2 - 1),  u(mu) = clip(c / mu, lo, hi),
// which is an upper bound for EVERY mu >= 0 (weak duality), minimized over mu by bisection.
// A child's bound is also capped by its parent's (both are valid for the child's domain), so
// the bounds decrease along the tree. All bounds are inflated by a rounding margin.
//
// Branching: best first (largest bound); the box is split at the midpoint of the coordinate
// with the largest score h_j sum_{unstable i} |w_i| |a_ij| (its contribution to the
// relaxation error). A box whose closest point to the origin has ||u|| > 1 is empty.
//
// Lower bound: the exact value of g at every domain's relaxation maximizer (scaled to a unit
// u; g is positively homogeneous), the best b for that u found exactly by one sort (the
// maximum over b sits at a breakpoint b = -x_i^T u), random directions and caller-supplied
// candidate neurons. The best (u, b, s) is the most violated neuron.
//
// Anytime: upper = max(best value, bounds of the open domains) >= sigma at every moment, so a
// time or node limit gives a larger, never a smaller, upper bound.  With `floor` > 0 domains
// whose bound is <= floor are discarded (the result then bounds max(sigma, floor): enough to
// prove sigma <= beta when floor = beta).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace fcr {

struct DualOracleOptions {
    bool bias = true;
    double time_limit = std::numeric_limits<double>::infinity();  // seconds
    std::int64_t node_limit = 20000000;      // domains evaluated
    std::int64_t max_open = 4000000;         // open domains kept (memory)
    double rel_tol = 1e-6;                   // stop when upper <= (1 + rel_tol) max(lower, floor)
    double floor = 0.0;                      // see above
    double stop_above = std::numeric_limits<double>::infinity();  // stop once lower > this
    int n_random = 2000;                     // random unit directions for the first lower bound
    std::uint64_t seed = 0;
    int n_threads = 0;                       // <= 0: hardware concurrency
    double progress_interval = 0.0;          // seconds between progress callbacks (0: none)
};

struct DualOracleProgress {
    std::int64_t nodes = 0;
    std::int64_t open = 0;
    double lower = 0.0;
    double upper = 0.0;
    double seconds = 0.0;
};

struct DualOracleResult {
    double upper = 0.0;       // >= sigma(v) (>= max(sigma, floor) when floor > 0)
    double lower = 0.0;       // |v^T (X u + b 1)_+| at the returned (u, b): <= sigma(v)
    Eigen::VectorXd u;        // unit-norm maximizer found (the most violated neuron)
    double b = 0.0;
    int sign = 1;             // s: s v^T (X u + b)_+ = lower
    std::int64_t nodes = 0;   // domains evaluated
    std::int64_t open = 0;    // open domains left
    double seconds = 0.0;
    bool converged = false;   // upper <= (1 + rel_tol) max(lower, floor)
    std::string status;       // "converged", "time_limit", "node_limit", "memory_limit", "violated"
};

using DualOracleCallback = std::function<void(const DualOracleProgress&)>;

// X: (n, d) row-major data; v: (n,) dual point; cand_U: (k, d) candidate neurons (rows, any
// norm), cand_b: (k,) their biases (ignored without bias). Throws std::invalid_argument.
DualOracleResult dual_oracle(const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>& X,
                             const Eigen::Ref<const Eigen::VectorXd>& v,
                             const Eigen::Ref<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>& cand_U,
                             const Eigen::Ref<const Eigen::VectorXd>& cand_b,
                             const DualOracleOptions& opt,
                             const DualOracleCallback& progress = nullptr);

// max_b sum_i w_i (t_i + b)_+ over the breakpoints b = -t_i (exact when 1^T w = 0), and its b.
double best_bias_value(const Eigen::Ref<const Eigen::VectorXd>& t, const Eigen::Ref<const Eigen::VectorXd>& w,
                       double* b_out);

}  // namespace fcr
