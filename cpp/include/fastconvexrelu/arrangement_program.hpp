// The convex program of two-layer ReLU training over fixed activation patterns ("hyperplane
// arrangements"; paper Section 2, eq. (7) and its bias variant, supplementary A.3; vector
// outputs with the l1 penalty of supplementary A.7.3; any convex loss, Theorem 6.1).
//
// Data X (n x d), targets Y (n x o), patterns D_i = diag(patterns[:, i]) (i = 1..P, 0/1),
// Xt = [X, 1] (bias = true, dp = d + 1) or Xt = X (bias = false, dp = d).  Variables
// v_ik, w_ik in R^dp (k = 1..o) and an unpenalized output intercept c in R^o:
//
//   minimize  L(F, Y) + beta * sum_{i,k} (||v_ik[:d]||_2 + ||w_ik[:d]||_2)
//   F[:, k] = sum_i D_i Xt (v_ik - w_ik) + c_k 1,
//   s.t.      G_i v_ik >= 0,  G_i w_ik >= 0,        G_i = (2 D_i - I) Xt.
//
// (the bias coordinate v[d] is not penalized).  Every (i, k, +-) block with v[:d] != 0 is the
// ReLU neuron u = v[:d]/||v[:d]||, b = v[d]/||v[:d]|| with output weight +-||v[:d]|| e_k; its
// activation pattern is D_i when the cone constraint holds.
//
// fit_intercept = false fixes c = 0 (the network without biases: bias = false, fit_intercept =
// false is the program of eq. (7) itself).  Then the dual has no centring constraint
// 1^T lam_k = 0, with one exception: with bias = true and the all-active pattern D_i = I among
// the patterns, the bias-only blocks v = (0, t), t >= 0, of that pattern are unpenalized
// constant neurons, i.e. a free intercept in disguise, and their dual constraints
// -+ t 1^T lam_k <= beta for all t >= 0 again force 1^T lam_k = 0.  In that case only, the
// solver works internally with the intercept variable c (same optimum) and at the end moves c_k
// into the bias coordinate of the all-active block (i, k, +) (c_k > 0) or (i, k, -) (c_k < 0),
// which stays cone-feasible and leaves F unchanged; the returned intercept is exactly 0.  (Such a
// block with v[:d] = 0 is the constant neuron u = 0, b = 1, output weight +-v[d].)
//
// Dual (Fenchel, lam = grad L(F) in dom L^*; the intercept gives 1^T lam_k = 0, absent when
// fit_intercept = false, see above):
//
//   maximize  -L^*(lam)   s.t.  1^T lam_k = 0,
//             max { -+ lam_k^T D_i Xt v : G_i v >= 0, ||v[:d]|| <= 1 } <= beta  for all i, k.
//
// For a block with q = -+ Xt^T D_i lam_k and any mu >= 0 with (q + G_i^T mu)[d] = 0 (bias),
// q^T v <= (q + G_i^T mu)^T v <= ||(q + G_i^T mu)[:d]|| ||v[:d]|| on the cone, so
// s_block = ||(q + G_i^T mu)[:d]|| bounds the left-hand side.  mu is found by the active-set
// NNLS of cone_projection.hpp (the projection of q onto {v : G_i v >= 0}; with a bias the bias
// coordinate is weighted by a large factor so that (q + G^T mu)[d] ~ 0, and the remainder is
// moved onto the single row that increases the norm least, which keeps the bound valid).  For
// bias = false s_block = ||P_{K_i}(q)|| is exact.  The dual point t * lam with
// t in [0, min(1, beta / max s)] maximizing -L^*(t lam) is feasible, so
// dual_objective <= optimum of the (restricted) program, and gap = primal - dual is a true
// bound (up to floating-point rounding) on the suboptimality of the convex variables.
//
// Algorithm: augmented Lagrangian on the cone constraints (multipliers mu_block in R^n,
// update mu <- max(0, mu - rho G v)), whose subproblem
//
//   minimize  L(F) + (1 / (2 rho)) sum_blocks ||max(0, mu - rho G v)||^2 + beta sum ||v[:d]||
//
// is solved by FISTA with gradient-based adaptive restart; the prox is the group shrinkage of
// v[:d] (bias free), the step 1 / Lip with Lip = Lip(grad L) ||A||^2 + rho ||Xt||^2 (||A|| by
// power iteration).  The hinge loss (not differentiable) is split exactly: F = z is a second
// augmented-Lagrangian constraint with multiplier Lam_h, and minimizing over z gives the
// Moreau envelope of the hinge at F + Lam_h / rho_h (smooth with Lipschitz gradient rho_h);
// the objective and the certificate always use the true hinge.
//
// Hinge dual candidates: the multiplier Lam_h (the envelope gradient) is 0 at every margin
// y_j F_j > 1 + |Lam_h,j| / rho_h, and on (nearly) separable data the optimal dual a* (lam =
// -y a, a in [0, 1]) is tiny (sum a* = optimum ~ beta * norm), so the multiplier alone collapsed
// to 0 as soon as the iterate's margins exceeded 1 (measured: MNIST 300 x 784, beta = 1e-3,
// dual 0 from outer iteration 3 on, gap = primal).  Every outer iteration therefore also
// certifies (a) a fitted to the stationarity of the support blocks, s_b Xt^T D_i lam + beta
// (u_b, 0) - Xt^T (S_i mu_b) = 0, by box-constrained least squares over the rows with margin
// <= 1 + tau (tau = 0.1 and 1), and (b) the subgradient at F; the best dual value of all
// candidates and all outer iterations is kept (each is a feasible dual point, so a lower bound
// on the program's optimum whatever the primal iterate).  For the hinge the scaling t of a
// candidate may exceed 1 (-L^*(t lam) = t sum a is linear): t <= min(beta / max s, 1 / max a).
// Stall stop (hinge): when the gap has decreased by less than 5% over the last 4000 FISTA
// iterations the solver stops, not converged ("stalled ..."): on such data with a small beta the
// first-order primal itself converges very slowly (the proximal step shrinks the blocks by
// beta / Lip per iteration), which no dual point can fix.
//
// Polish (smooth losses): once the first-order objective settles (relative change <= 1e-3,
// violation <= 1e-2 max(1, max|Y|)) and the support is small (support * dp <= 2500), the
// support blocks are projected onto their cones (cone_projection NNLS; its passive set gives
// the initial active rows) and a feasible active-set Newton method runs on the faces
// v_b = N_b xi_b, N_b = ker G_{b, A_b}: damped Newton on L + beta sum ||v[:d]|| with a ratio
// test that adds the first blocking row, and at face optimality the row with the most
// negative multiplier (least squares G_A^T mu = grad_b) is released.  Blocks whose dual
// constraint s_block > beta (from the certificate) then enter the support along the
// certificate's maximizing direction in K_b, and the polish repeats (up to 30 sweeps).  The
// polished point is kept only if it is cone-feasible and not worse than the first-order point.
// The certificate is computed after every polish (and every 5th outer iteration otherwise);
// the solver stops when gap <= tol * primal and the largest cone violation
// max(0, -G v) <= tol * max(1, max|Y|).  Products Xt * Theta and Xt^T * R run on n_threads
// threads (split over patterns).
//
// Limits: the Newton system is dense in support * dp unknowns; when the support stays large
// (e.g. n = 500, d = 20, P = 200, beta = 0.5: hundreds of active blocks) only the first-order
// method runs, which is slow to reach high accuracy.  The hinge loss has no polish.
#pragma once

#include <Eigen/Core>
#include <string>

#include "fastconvexrelu/losses.hpp"

namespace fcr {

struct ArrangementProgramOptions {
    double beta = 1.0;     // > 0
    bool bias = true;      // Xt = [X, 1]
    bool fit_intercept = true;  // false: c = 0 (no centring of the dual point; see the header)
    double tol = 1e-8;     // relative duality gap and violation tolerance
    int max_iter = 50000;  // total FISTA iterations (all outer iterations together)
    double rho = 0.0;      // initial cone penalty; <= 0: automatic
    int n_threads = 2;
    bool verbose = false;  // one line per outer iteration on stderr
};

// Warm start (every member optional: an empty matrix means "cold").  Column layout of theta and
// mu: block (i, k, s) (s = 0 for v, 1 for w) is column (2 k + s) P + i.
struct ArrangementProgramStart {
    Eigen::MatrixXd theta;             // dp x 2 P o
    Eigen::VectorXd intercept;         // o (ignored when the intercept is fixed at 0)
    Eigen::MatrixXd mu;                // n x 2 P o, >= 0
    Eigen::MatrixXd hinge_multiplier;  // n x o (hinge only)
    double rho = 0.0;                  // > 0: cone penalty to start from
    double rho_hinge = 0.0;
};

struct ArrangementProgramResult {
    Eigen::MatrixXd theta;       // dp x 2 P o (layout above)
    Eigen::VectorXd intercept;   // o (exactly 0 with fit_intercept = false)
    Eigen::MatrixXd fitted;      // F = sum_i D_i Xt (v - w) + 1 c^T  (n x o)
    Eigen::MatrixXd dual;        // feasible dual point t * lam (n x o) of the certificate
    double primal_objective = 0; // L(F) + beta sum ||v[:d]|| at theta (cone violations ignored)
    double dual_objective = 0;   // -L^*(dual) <= restricted optimum; -inf without a certificate
    double gap = 0;              // primal - dual (inf without a certificate)
    double max_violation = 0;    // max over blocks and rows of max(0, -(G_i v)_j)
    double dual_scale = 1;       // t
    double max_dual_constraint = 0;  // max s_block / beta of lam (centred if needed) before scaling
    Eigen::MatrixXd mu;          // cone multipliers (warm start)
    Eigen::MatrixXd hinge_multiplier;
    double rho = 0, rho_hinge = 0;
    int n_iter = 0;              // FISTA iterations
    int n_outer = 0;             // augmented-Lagrangian iterations
    bool converged = false;
    std::string message;
};

// Throws std::invalid_argument for inconsistent sizes, non-finite data, patterns not 0/1,
// beta <= 0, tol <= 0, max_iter < 1, targets unsuited to the loss, or a bad warm start.
ArrangementProgramResult solve_arrangement_program(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                                   const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                                   const Eigen::Ref<const Eigen::MatrixXd>& patterns,
                                                   const LossFunction& loss,
                                                   const ArrangementProgramOptions& opt = {},
                                                   const ArrangementProgramStart& start = {});

}  // namespace fcr
