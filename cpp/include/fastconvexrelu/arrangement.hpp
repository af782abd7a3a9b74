// Hyperplane arrangements of the data and the exact per-pattern oracle (issue 3; paper
// Section 3.5 and supplementary A.3, the convex program over activation patterns).
//
// Activation patterns.  For data X (n x d) let a_i = [x_i, 1] (bias) or a_i = x_i (no bias),
// w = (u, b) in R^k (k = d + 1 or d).  The hyperplanes {w : a_i^T w = 0} form a central
// arrangement; every full-dimensional cell C carries the pattern D_i = 1[a_i^T w > 0] (w in C),
// and every pattern of a ReLU neuron 1[X u + b 1 > 0] with no ties is one of them.
//
// Enumeration (exact, also for degenerate data).  After projecting onto the row space of A
// (rank r; the lineality space does not change the signs) the arrangement is essential, so for
// r >= 2 every cell is a pointed cone and has an extreme ray rho: a line that is the
// intersection of r - 1 independent hyperplanes.  Near rho the cell coincides with a cell of the
// local arrangement of the hyperplanes Z(rho) = {i : a_i^T rho = 0}, projected onto rho^perp
// (dimension r - 1), so
//
//     cells(A) = { sign(A (s rho + eps W y)) : lines rho, s = +-1, y a cell of cells(A_Z W) },
//
// with W an orthonormal basis of rho^perp and eps small enough that the rows outside Z keep the
// sign of s a_i^T rho.  Lines are enumerated from the (r - 1)-subsets of the distinct
// hyperplanes and identified by Z(rho) (an exact combinatorial key); the recursion ends at
// r = 1 with the two half-lines.  When exactly r - 1 independent hyperplanes pass through rho
// (general position) the local cells are all 2^(r-1) sign vectors (closed form).  Decisions
// "a_i^T rho = 0" use the tolerance tol on unit-normalized rows, so exactly degenerate data
// (duplicate rows, collinear points, rank deficiency) is handled combinatorially; cells thinner
// than tol are not resolved.  Every pattern comes with an interior generator w with
// |a_i^T w| > 0 for all i (the smallest relative margin is reported).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastconvexrelu/cone_projection.hpp"

namespace fcr {

using PatternMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct ArrangementResult {
    PatternMatrix patterns;   // (n x P): column p is the pattern D = 1[X u_p + b_p > 0]
    RowMatrixXd generators;   // (P x k): row p = (u_p, b_p) (k = d + 1) or u_p (k = d)
    Eigen::Index count = 0;   // P (the all-zero pattern excluded)
    Eigen::Index rank = 0;    // rank of A = [X, 1] or X
    double min_margin = 0.0;  // min over p, i of |a_i^T w_p| / (||a_i|| ||w_p||) (nonzero rows)
};

// Thrown when more than max_patterns distinct patterns exist; found = patterns found so far.
class TooManyPatterns : public std::length_error {
  public:
    TooManyPatterns(const std::string& what, long long found)
        : std::length_error(what), found_(found) {}
    long long found() const { return found_; }

  private:
    long long found_;
};

// All distinct activation patterns of X (n x d), all-zero excluded (see above).  tol: relative
// tolerance for incidence / rank decisions (on unit rows).  Throws std::invalid_argument for
// bad input and TooManyPatterns when the count exceeds max_patterns.
ArrangementResult enumerate_patterns(const Eigen::Ref<const RowMatrixXd>& X, bool bias,
                                     long long max_patterns, double tol = 1e-9);

// ------------------------------------------------------------------------- pattern oracle
//
// For a pattern D (diagonal 0/1), sign s and dual vector v:
//
//     g(s) = max { s v^T D (X u + b 1) : (2D - I)(X u + b 1) >= 0, ||u||_2 <= 1, b free }
//
// (b = 0 without bias).  With sigma = 2 diag(D) - 1, rows a_i = sigma_i x_i, e = sigma,
// c_u = s X^T D v, c_b = s 1^T D v, this is affine_cone_max(A, e, c_u, c_b) (bias) or
// ||P_C(c_u)|| with C = {u : A u >= 0} (cone_projection, no bias).
struct PatternOracleResult {
    // (P x 2) arrays: column 0 is s = +1, column 1 is s = -1
    RowMatrixXd value;       // g(s) (+inf when unbounded)
    RowMatrixXd b;           // maximizing b (0 without bias or when unbounded)
    std::vector<RowMatrixXd> u;  // two (P x d) arrays: maximizing u
    Eigen::Matrix<int, Eigen::Dynamic, 2, Eigen::RowMajor> status;  // 0 ok, 1 unbounded, 2 fail, 3 skipped
    RowMatrixXd primal_infeasibility;  // max(0, -min_i sigma_i (x_i^T u + b)) (relative)
    RowMatrixXd gap;                   // |dual value - primal value| (relative)
    RowMatrixXd n_iter;
};

// signs: empty (both signs for every pattern) or one entry per pattern in {-1, 0, +1}
// (0: both; +1 / -1: only that sign, the other entry gets value NaN and status 3).
PatternOracleResult pattern_oracle(const Eigen::Ref<const RowMatrixXd>& X,
                                   const Eigen::Ref<const Eigen::VectorXd>& v,
                                   const Eigen::Ref<const PatternMatrix>& patterns, bool bias,
                                   const ConeProjectionOptions& opt = {}, int n_threads = 2,
                                   const std::vector<int>& signs = {});

}  // namespace fcr
