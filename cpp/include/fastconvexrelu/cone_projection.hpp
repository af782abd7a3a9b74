// Euclidean projection onto a polyhedral cone and the spike-free oracle of the cutting-plane
// method (paper Section 3.5, eq. (14)-(15), Algorithm 1; supplementary A.3 and A.7 eq. (50)).
//
// Projection.  For A in R^{n x d} (rows a_i) let C = {u : A u >= 0}.  Its polar cone is
// C^o = {-A^T lambda : lambda >= 0}, and Moreau's decomposition g = P_C(g) + P_C^o(g) gives
//
//     P_C(g) = g + A^T lambda*,   lambda* in argmin_{lambda >= 0} 1/2 ||g + A^T lambda||^2,
//
// a non-negative least-squares (NNLS) problem with matrix A^T (d x n) and right-hand side -g.
// The NNLS gradient is A (g + A^T lambda) = A u, so the KKT conditions of the NNLS are exactly
// those of the projection:
//
//     u = g + A^T lambda  (stationarity),  A u >= 0  (primal feasibility),
//     lambda >= 0  (dual feasibility),     lambda_i (A u)_i = 0  (complementarity).
//
// u* is unique; lambda* is unique only when the active rows are linearly independent
// (duplicate / dependent rows of A make it non-unique; the solver returns one with linearly
// independent support).
//
// Algorithm: Lawson-Hanson active-set NNLS.  The passive set P (constraints with
// lambda_i > 0, "active" for the projection) is kept with a thin QR factorization
// A_P^T = Q R, Q (d x k) with orthonormal columns stored explicitly, R (k x k) upper
// triangular.  Adding the most violated constraint appends a column (classical Gram-Schmidt
// with re-orthogonalization, O(dk)); removing one deletes a column of R and restores the
// triangle with Givens rotations that are also applied to Q (O(dk + k^2)).  With c = Q^T g the
// least-squares solution on P is z = -R^{-1} c and u = g - Q c.  Numerically dependent
// candidate rows, and candidates whose least-squares multiplier is not positive, are skipped
// (Lawson & Hanson, 1974, Ch. 23), so the factorization stays well conditioned and k <=
// min(n, d).  After the last step the factorization is rebuilt from scratch and the
// optimality conditions are re-checked, so the returned u does not carry the rounding of the
// up/downdates.  Each outer iteration costs one product A u (O(nd)).
//
// Warm start: a passive set from a previous call (e.g. the previous cutting-plane iteration)
// is factorized, indices whose least-squares multiplier is <= 0 are dropped until the
// multipliers are positive, and the usual iteration continues from that feasible point.
//
// Spike-free oracle (15).  With C = {u : X u >= 0} and g = X^T v,
//
//     max_{u in C, ||u|| <= 1} v^T X u = ||P_C(g)||   attained at u1 = P_C(g) / ||P_C(g)||,
//     min_{u in C, ||u|| <= 1} v^T X u = -||P_C(-g)|| attained at u2 = P_C(-g) / ||P_C(-g)||,
//
// (for u in C: g^T u = P_C(g)^T u + P_C^o(g)^T u <= P_C(g)^T u <= ||P_C(g)|| ||u||), with
// u = 0 when the projection is 0.  For vector outputs (A.7) the per-column version of A.7.3 is
// the same computation for every column v_k of V; (50) itself is non-convex and not solved.
//
// Dependent rows.  A row skipped as numerically dependent (orthogonal part r_j with
// ||r_j|| <= dep_tol ||a_j||) can remain violated by a_j^T u = r_j^T u <= dep_tol ||a_j|| ||u||;
// this is accepted (and counted in the message) -- u is then the exact projection onto a cone
// whose rows are perturbed by that relative amount.
//
// Bias (A.3): with u, b and constraints X u + b 1 >= 0, ||u|| <= 1, every u is feasible
// (b = -min(X u)), so for 1^T v = 0 the relaxation reduces to max ||X^T v|| without any cone;
// that case needs no projection and is not handled here.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace fcr {

struct ConeProjectionOptions {
    // A constraint i counts as violated when (A u)_i < -tol * ||a_i|| * ||g||.
    double tol = 1e-12;
    // A candidate row is treated as linearly dependent on the passive rows when its component
    // orthogonal to them has norm <= dep_tol * ||a_i||.
    double dep_tol = 1e-10;
    // Cap on Lawson-Hanson steps (additions + removals + skipped candidates); <= 0 means
    // automatic: max(100, 3 (n + d)).
    int max_iter = 0;
};

struct ConeProjectionResult {
    Eigen::VectorXd u;                // P_C(g)
    Eigen::VectorXd lambda;           // multipliers (n), >= 0, zero off the active set
    std::vector<Eigen::Index> active; // passive set P (sorted): rows with lambda_i > 0
    double distance = 0.0;            // ||u - g||
    int n_iter = 0;                   // Lawson-Hanson steps taken
    bool converged = false;           // KKT conditions hold to tolerance
    std::string message;
    // KKT residuals (absolute; scale by ||g|| max_i ||a_i|| for relative values)
    double min_Au = 0.0;              // min_i (A u)_i        (primal feasibility: >= -tol)
    double complementarity = 0.0;     // max_i |lambda_i (A u)_i|
    double dual_infeasibility = 0.0;  // max(0, -min_i lambda_i)  (0 by construction)
    double stationarity = 0.0;        // ||u - g - A^T lambda||_inf
};

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Projection of g (length d) onto {u : A u >= 0} (A is n x d, row-major so that numpy arrays
// bind without a copy).  warm_start: passive set of a previous call (indices into the rows of
// A; may be empty).  Throws std::invalid_argument for mismatched sizes, non-finite values or
// out-of-range warm-start indices.
ConeProjectionResult cone_projection(const Eigen::Ref<const RowMatrixXd>& A,
                                     const Eigen::Ref<const Eigen::VectorXd>& g,
                                     const ConeProjectionOptions& opt = {},
                                     const std::vector<Eigen::Index>& warm_start = {});

// Batch version: the rows of G (m x d) are projected onto the same cone, in parallel over the
// rows with n_threads std::threads (row i always handled identically, so the result does not
// depend on n_threads; batches with m n d < 2^17 run on the calling thread).  warm_starts:
// empty, one passive set shared by all rows, or one per row.
std::vector<ConeProjectionResult> cone_projection_batch(
    const Eigen::Ref<const RowMatrixXd>& A, const Eigen::Ref<const RowMatrixXd>& G,
    const ConeProjectionOptions& opt = {},
    const std::vector<std::vector<Eigen::Index>>& warm_starts = {}, int n_threads = 2);

struct SpikeFreeOracleResult {
    // per column k of V (o columns; o = 1 for the scalar-output problem (15))
    RowMatrixXd u_max;                 // (o x d): argmax_{Xu>=0,||u||<=1} v_k^T X u
    RowMatrixXd u_min;                 // (o x d): argmin of the same problem
    Eigen::VectorXd value_max;         // (o): ||P_C(X^T v_k)|| >= 0
    Eigen::VectorXd value_min;         // (o): -||P_C(-X^T v_k)|| <= 0
    std::vector<ConeProjectionResult> plus;   // projections of  X^T v_k
    std::vector<ConeProjectionResult> minus;  // projections of -X^T v_k
    bool converged = false;            // all 2 o projections converged
};

// Spike-free relaxation (15) for every column v_k of V (n x o), solved through 2 o cone
// projections with the cone C = {u : X u >= 0} (X is n x d).  A projection of norm
// <= zero_tol * ||X^T v_k|| is treated as 0 (u = 0, value 0).  warm_plus / warm_minus: empty
// or one passive set per column (e.g. result.plus[k].active of the previous call).
SpikeFreeOracleResult spike_free_oracle(
    const Eigen::Ref<const RowMatrixXd>& X, const Eigen::Ref<const RowMatrixXd>& V,
    const ConeProjectionOptions& opt = {}, double zero_tol = 1e-12,
    const std::vector<std::vector<Eigen::Index>>& warm_plus = {},
    const std::vector<std::vector<Eigen::Index>>& warm_minus = {}, int n_threads = 2);

// ---------------------------------------------------------------------------------------
// Maximization over a polyhedral cone with one free (unnormed) coordinate (bias, A.3):
//
//     max  c^T u + c_b b   s.t.  A u + e b >= 0,  ||u||_2 <= 1,  b free.
//
// Conic dual (sup over b forces the equality, sup over the ball gives the norm):
//
//     min_{lambda >= 0, e^T lambda = -c_b}  ||c + A^T lambda||_2 ,
//
// solved exactly by a primal active-set method for this convex QP: the free set F keeps the
// columns [A_F^T; e_F^T] linearly independent (a dependent entering column has zero reduced
// cost, so it is never chosen except by rounding, and is then skipped); each step solves the
// equality-constrained least-squares problem on F by the null-space method (lambda_F =
// gamma e_F/||e_F||^2 + Z y, Z an orthonormal basis of e_F^perp, y by a column-pivoted QR),
// followed by a ratio test.  At the optimum, with r = c + A^T lambda and nu the equality
// multiplier (A_F r + nu e_F = 0), the maximizer is u = r/||r||, b = nu/||r|| (the primal slack
// A u + e b = mu/||r|| with mu = A r + nu e >= 0 the bound multipliers), value = ||r||.
// If the equality is infeasible (c_b != 0 and no e_i of the sign of -c_b) the maximum is +inf.
struct AffineConeMaxResult {
    Eigen::VectorXd u;
    double b = 0.0;
    double value = 0.0;            // ||r|| (dual value), +inf when unbounded
    double primal_value = 0.0;     // c^T u + c_b b
    Eigen::VectorXd lambda;        // (n) dual multipliers, >= 0
    bool unbounded = false;
    bool converged = false;
    int n_iter = 0;
    double primal_infeasibility = 0.0;  // max(0, -min_i (a_i^T u + e_i b)) / max(1, ||a_i||)
    double equality_residual = 0.0;     // |e^T lambda + c_b|
    std::string message;
};

AffineConeMaxResult affine_cone_max(const Eigen::Ref<const RowMatrixXd>& A,
                                    const Eigen::Ref<const Eigen::VectorXd>& e,
                                    const Eigen::Ref<const Eigen::VectorXd>& c, double c_b,
                                    const ConeProjectionOptions& opt = {});

}  // namespace fcr
