// Master problem of the weight-decay vector-output model (supplementary A.7, Lemma 1, (48)):
// for fixed neurons with activations Phi = (X U + 1 b^T)_+ (n x m, ||u_j|| = 1), solve the group
// lasso over the output weights W (m x o) and an unpenalized intercept c (o),
//
//     minimize_{W, c}  P(W, c) = L(Phi W + 1 c^T, Y) + beta * sum_j ||w_j||_2 ,     beta > 0,
//
// (rows w_j of W; c fixed to 0 without an intercept) for the smooth losses of losses.hpp
// (squared, huber, softmax; logistic for o = 1).
//
// Optimality (KKT): with G = grad L(Phi W + 1 c^T),
//     phi_j^T G + beta w_j / ||w_j|| = 0   (w_j != 0),     ||phi_j^T G||_2 <= beta   (w_j = 0),
//     1^T G = 0  (intercept).
//
// Algorithm: block coordinate descent over the rows w_j.  The block step is the group-soft-
// thresholded gradient step with the block Lipschitz constant Lip * ||phi_j||^2,
//     w_j <- (1 - beta / (L_j ||z||))_+ z,   z = w_j - phi_j^T G / L_j,
// which for the squared loss is the exact block minimizer and for huber / softmax a monotone
// majorize-minimize step.  The intercept gets the analogous exact (squared) / majorized step
// with L_c = Lip * n.  Full sweeps alternate with sweeps over the active blocks only; the run
// stops when the relative KKT residual
//     max_j r_j / beta,  r_j = ||phi_j^T G + beta w_j/||w_j|| || (w_j != 0), (||phi_j^T G|| - beta)_+ (else),
// together with ||1^T G|| / beta, is at most tol after a full sweep.  The exact duality gap of
// this restricted problem is computed by the Python layer (fastconvexrelu.vector_outputs).
#pragma once

#include <Eigen/Core>
#include <string>

#include "fastconvexrelu/losses.hpp"

namespace fcr {

struct GroupLassoOptions {
    double beta = 1e-3;     // > 0
    double tol = 1e-9;      // relative KKT residual
    int max_epochs = 10000; // full + active sweeps
    bool intercept = true;  // free intercept c
};

struct GroupLassoResult {
    Eigen::MatrixXd W;      // (m, o)
    Eigen::VectorXd c;      // (o), zero without intercept
    Eigen::MatrixXd F;      // Phi W + 1 c^T
    Eigen::MatrixXd grad;   // grad L(F)
    double primal = 0.0;    // P(W, c)
    double kkt = 0.0;       // relative KKT residual at the end
    int n_epochs = 0;
    bool converged = false;
    std::string message;
};

// Phi: n x m (m may be 0), Y: n x o, W0: empty or m x o, c0: empty or o.  Throws
// std::invalid_argument for mismatched sizes, non-finite values, beta <= 0, targets that do not
// suit the loss, or the hinge loss.
GroupLassoResult group_lasso(const Eigen::Ref<const Eigen::MatrixXd>& Phi,
                             const Eigen::Ref<const Eigen::MatrixXd>& Y, const LossFunction& loss,
                             const GroupLassoOptions& opt,
                             const Eigen::Ref<const Eigen::MatrixXd>& W0,
                             const Eigen::Ref<const Eigen::VectorXd>& c0);

}  // namespace fcr

namespace fcr {

// The same problem by accelerated proximal gradient (FISTA; Beck & Teboulle), which scales to
// many neurons and samples where the Newton steps of group_lasso do not: a gradient step on L,
// group soft-thresholding w_j <- (1 - (beta/Lc) / ||z_j||)_+ z_j (the prox of (beta/Lc) sum_j
// ||w_j||), the intercept unpenalized; Lc by backtracking on the quadratic upper bound (and
// shrunk by 10% per accepted step); momentum restarted whenever the objective goes up.  The
// outputs of the extrapolated point are extrapolated too, so an iteration costs one product
// with Phi and one with Phi^T (row blocks in parallel threads).  `n_iter` iterations from the
// state (W, c, Zw, Zc, t, Lc), which is updated in place, so that the caller can check the
// duality gap between calls; returns the objective P(W, c).
struct GroupLassoFistaState {
    Eigen::MatrixXd W, Zw;  // iterate and extrapolated point (m, o)
    Eigen::VectorXd c, Zc;  // (o)
    Eigen::MatrixXd F, FZ;  // Phi W + 1 c^T and Phi Zw + 1 Zc^T (n, o), kept up to date
    double t = 1.0;         // momentum
    double Lc = 0.0;        // step 1 / Lc (<= 0: estimate it)
    double objective = 0.0; // P(W, c)
    int n_iter = 0;         // total iterations so far
};

void group_lasso_fista(const Eigen::Ref<const Eigen::MatrixXd>& Phi,
                       const Eigen::Ref<const Eigen::MatrixXd>& Y, const LossFunction& loss,
                       double beta, bool intercept, int n_iter, int n_threads,
                       GroupLassoFistaState& state);
// The same iterations with float features (the products in float, everything else in double:
// about 2x faster on large Phi; the objective carries the products' rounding, ~1e-7 relative).
void group_lasso_fista(const Eigen::Ref<const Eigen::MatrixXf>& Phi,
                       const Eigen::Ref<const Eigen::MatrixXd>& Y, const LossFunction& loss,
                       double beta, bool intercept, int n_iter, int n_threads,
                       GroupLassoFistaState& state);

}  // namespace fcr
