// Hull neurons (paper, Lemma 2.7 / eq. (10), Theorem 3.5) and the batched minimum-norm-point
// kernel behind them.
//
// For a target t and a finite point set {p_j : j in C}, the minimum-norm-point problem is the
// simplex-constrained QP (paper, eq. (28) with t = a_i, C = [n] \ {i})
//
//     minimize_lambda || t - sum_{j in C} lambda_j p_j ||_2   s.t.  lambda >= 0, 1^T lambda = 1,
//
// i.e. the distance from t to conv{p_j : j in C} and the nearest point of that hull.  With the
// residual r = t - sum_j lambda_j p_j and distance dist = ||r||_2 > 0, Lemma 2.7 gives the hull
// neuron u = r / dist and b = min_{j in C} (-p_j^T u): the hyperplane u^T x + b = 0 supports the
// hull of the points, and u^T t + b = dist.
//
// The QPs are solved exactly (finite active-set method) by Wolfe's minimum-norm-point algorithm
// (P. Wolfe, "Finding the nearest point in a polytope", Math. Programming 11, 1976): a "corral"
// S of affinely independent points is maintained together with a QR factorization
// [c 1^T; Q_S] = V R  (Q_S = [p_j - t]_{j in S}, V with orthonormal columns), updated by
// re-orthogonalized Gram-Schmidt when a point enters and by Givens rotations when one leaves;
// the affine minimizer of the corral is read off V (accurate even when its weights are not).  The entering point is
// argmin_j x^T (p_j - t) for the current nearest point x.  A full scan of all candidates uses
// a precomputed Gram matrix of the points (O(m |S|)) or one product P x (O(m d)); between full
// scans only a small working set (the best candidates of the last full scan) is searched, and
// optimality is declared only after a full scan.
// All problems of a batch are independent and are spread over std::threads; each problem is
// solved by the same sequential code, so the results do not depend on the thread count.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace fcr {

using MnpRowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct MinNormOptions {
    // Stop when x^T x - min_j x^T q_j <= tol * x^T x (+ a rounding floor): the returned distance
    // is then within a relative tol of the optimum (Wolfe's optimality test).
    double tol = 1e-12;
    // Distances <= zero_tol * max_j ||p_j - t|| are reported as exactly 0 (t in the hull).
    double zero_tol = 1e-10;
    // Major (point-entering) iterations per problem; <= 0: automatic, 1000 + 50 (d + 1).
    int max_iter = 0;
    // Worker threads; <= 0: std::thread::hardware_concurrency().
    int n_threads = 0;
    // Entering-point scan: -1 automatic (Gram matrix iff m <= gram_max_points, d > 32 and
    // there are at least m / 32 targets), 0 on the fly (P x), 1 Gram matrix (m x m doubles).
    int gram = -1;
    Eigen::Index gram_max_points = 8000;
    // Working set: between two full scans of all candidates the entering point is searched
    // among the `working_set` candidates that scored best at the last full scan (and the
    // corral); optimality is only declared after a full scan.  0: always scan everything.
    // Only used when a target has more than 2 * working_set candidates.
    int working_set = 64;
};

// Which points each target may use.  Exactly one of the modes:
//  * exclude empty and indptr empty: every target uses all m points;
//  * exclude of size k: target i uses all points except exclude[i] (-1: none excluded);
//  * CSR lists: target i uses points indices[indptr[i] .. indptr[i+1]), indptr of size k + 1,
//    each list non-empty, sorted and without repeats (not checked for sortedness).
struct CandidateSets {
    std::vector<std::int64_t> exclude;
    std::vector<std::int64_t> indptr;
    std::vector<std::int64_t> indices;
};

enum MinNormStatus : int {
    kConverged = 0,     // optimality test passed
    kZeroDistance = 1,  // target in the hull (distance <= zero_tol * scale), reported as 0
    kStalled = 2,       // rounding limit reached (degenerate entering point / no decrease)
    kMaxIter = 3,       // iteration limit reached
};

struct MinNormResult {
    // Optimal weights as a k x m CSR matrix: target i has weights[indptr[i]..indptr[i+1]) on the
    // points indices[...], sorted by point index; every weight > 0 and they sum to 1.
    std::vector<std::int64_t> indptr, indices;
    std::vector<double> weights;
    MnpRowMatrix residuals;          // k x d: r_i = t_i - sum_j lambda_ij p_j (from V, see above)
    Eigen::VectorXd distances;      // k: ||r_i||, exactly 0 for status kZeroDistance
    Eigen::VectorXd lower_bounds;   // k: max(0, min_j x^T (p_j - t)) / ||x||, certified bound
    Eigen::VectorXd biases;         // k: min_{j in C_i} (-p_j^T u_i), u_i = r_i / ||r_i||; NaN if 0
    Eigen::VectorXi n_iter;         // k: major iterations
    Eigen::VectorXi status;         // k: MinNormStatus
    bool used_gram = false;
};

// Batched minimum-norm points: P (m x d) points, T (k x d) targets (T may be the same matrix
// as P, which saves work when exclude[i] == i).  Throws std::invalid_argument on empty or
// non-finite input, mismatched d, bad candidate sets or bad options.
MinNormResult min_norm_points(const Eigen::Ref<const MnpRowMatrix>& P,
                              const Eigen::Ref<const MnpRowMatrix>& T,
                              const CandidateSets& candidates, const MinNormOptions& options = {});

// Lemma 2.7 for every sample of X (n x d, n >= 2): target a_i, candidates all other samples.
// U is d x n with columns u_i = r_i / d_i, b_i = min_{j != i} (-a_j^T u_i), distances d_i.
// When d_i = 0 (a_i is in the hull of the others, e.g. a duplicate) column i of U and b_i are
// NaN.
struct HullNeurons {
    Eigen::MatrixXd U;
    Eigen::VectorXd b;
    Eigen::VectorXd distances;
    Eigen::VectorXd lower_bounds;
    Eigen::VectorXi status;
};
HullNeurons hull_neurons(const Eigen::Ref<const MnpRowMatrix>& X, const MinNormOptions& options = {});

}  // namespace fcr
