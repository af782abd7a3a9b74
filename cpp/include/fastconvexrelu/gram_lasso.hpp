// Multi-output lasso on a Gram matrix: the output layer of Convex-RF (paper Algorithm 2,
// step 14), one l1-regularized least-squares problem per output column c,
//
//     minimize_w  F_c(w) = 1/2 ||X w - y_c||^2 + beta ||w||_1 ,
//
// given only G = X^T X (p x p), Cm = X^T Y (p x m, column c = X^T y_c) and yy_c = ||y_c||^2
// (scale all three by 1/n for the mean-squared form).  With the gradient g = G w - X^T y_c
// (= -X^T r, r = y_c - X w) every quantity of the primal and of the dual
//
//     D(theta) = 1/2 ||y||^2 - 1/2 ||y - theta||^2   s.t.  ||X^T theta||_inf <= beta
//
// is available from G: ||r||^2 = yy - 2 c^T w + w^T G w, y^T r = yy - c^T w, X^T r = -g.
// The dual point is theta = s r with s = clip(y^T r / ||r||^2, 0, beta / ||g||_inf), so
// gap = F(w) - D(theta) >= F(w) - F* >= 0 (exact up to the rounding of these sums).
//
// Algorithm: cyclic coordinate descent with exact coordinate minimization
// w_j <- S(G_jj w_j - g_j, beta) / G_jj (soft threshold S), g updated by a column of G
// (O(p) per changed coordinate, "covariance updates"), alternating one sweep over all
// coordinates with up to 10 sweeps over the current support, then a Newton step on the
// support (signs fixed; Cholesky of G_SS + tiny ridge when |S| <= direct_newton_max, else
// Jacobi-preconditioned conjugate gradients; skipped when it fails or
// |S| > max_newton; trial points w + t d, t = 1, 1/2, ..., with entries that change sign set
// to 0, accepted at the first t where the objective decreases exactly); stops when
// gap <= tol * F(w).  Columns c run in parallel threads.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace fcr {

struct GramLassoOptions {
    double beta = 1e-3;     // > 0
    double tol = 1e-6;      // relative duality gap
    int max_epochs = 5000;  // full sweeps
    int n_threads = 1;      // over columns (<= 0: all cores)
    int max_newton = 8000;  // Newton steps on the support only when |S| <= max_newton (0: never)
    int direct_newton_max = 3000;  // |S| <= this: Cholesky; larger: conjugate gradients
    int newton_cg_iter = 50;       // CG iterations per Newton direction
};

struct GramLassoResult {
    Eigen::MatrixXd W;             // p x m
    Eigen::VectorXd primal;        // F_c(w_c)
    Eigen::VectorXd gap;           // F_c(w_c) - D_c(theta_c) >= 0
    Eigen::VectorXi n_epochs;      // full sweeps per column
    std::vector<bool> converged;   // gap <= tol * primal
};

// Throws std::invalid_argument for mismatched shapes, non-finite input, beta <= 0, a negative
// diagonal of G or max_epochs < 1.  W0: empty (0 x 0) or p x m warm start.
GramLassoResult gram_lasso(const Eigen::Ref<const Eigen::MatrixXd>& G,
                           const Eigen::Ref<const Eigen::MatrixXd>& Cm,
                           const Eigen::Ref<const Eigen::VectorXd>& yy,
                           const GramLassoOptions& options,
                           const Eigen::Ref<const Eigen::MatrixXd>& W0);

}  // namespace fcr
