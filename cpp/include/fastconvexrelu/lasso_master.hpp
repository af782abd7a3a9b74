// Master problem of the cutting-plane method (paper Section 3.5, Algorithm 1; Theorem 4.1,
// Theorem 6.1): for the current neurons U (d x m) and their activations Phi = (X U)_+ (n x m,
// dense, column-major), solve the l1-regularized problem over the output weights
//
//     minimize_w  P(w) = L(Phi w, y) + beta * ||w||_1 ,          beta > 0,
//
// with L(z, y) = 1/2 ||z - y||^2 ("squared") or sum_i log(1 + exp(-y_i z_i)) ("logistic",
// y_i in {-1, +1}).
//
// Duality (Fenchel; write z = Phi w and dualize z = Phi w with multiplier lambda):
//
//     D(lambda) = -L^*(lambda)   s.t.  ||Phi^T lambda||_inf <= beta ,
//     squared : -L^*(lambda) = -1/2 ||lambda||^2 - lambda^T y,
//     logistic: -L^*(lambda) = sum_i H(a_i),  a_i = -y_i lambda_i in [0, 1],
//               H(a) = -a log a - (1 - a) log(1 - a)   (binary entropy),
//
// and at the optimum lambda = grad L(Phi w): the residual Phi w - y (squared) or
// -y_i / (1 + exp(y_i z_i)) (logistic).  Every iterate gives the dual point s * lambda with
// s in [0, s_max], s_max = min(1, beta / ||Phi^T lambda||_inf), s chosen to maximize D on that
// segment, so gap = P(w) - D(s lambda) >= P(w) - P* >= 0 is an exact bound on the RESTRICTED
// problem.  It is evaluated without cancellation as
//
//     gap = [P(w) - D(lambda)] + [D(lambda) - D(s lambda)],
//     P(w) - D(lambda) = sum_j |w_j| (beta + sign(w_j) (Phi^T lambda)_j)      (each term >= -rounding
//                                                                             when s = 1)
//
// (the identity L(z) + L^*(lambda) = lambda^T z for lambda = grad L(z)).
//
// With an unpenalized intercept (opt.intercept; Algorithm 3, supplementary A.3), the problem is
//
//     minimize_{w, c}  L(Phi w + c 1, y) + beta * ||w||_1 ,
//
// and its dual gains the constraint 1^T lambda = 0 (stationarity in c).  The certificate then
// uses the zero-sum point lambda~ made from lambda = grad L(Phi w + c 1): squared, the centered
// lambda - mean(lambda); logistic, with a = -y o lambda in (0, 1), the larger of
// A+ = sum_{y_i = 1} a_i and A- = sum_{y_i = -1} a_i is scaled down to the smaller
// (1^T lambda~ = A- - A+ = 0 while a stays in [0, 1], the domain of L^*), followed by the same
// scaling s lambda~; gap = P(w, c) - D(s lambda~) with
// P - D(lambda) = sum_j |w_j| (beta + sign(w_j) (Phi^T lambda)_j) + c 1^T lambda.  The intercept
// is updated after every coordinate sweep (squared: exact; logistic: a safeguarded Newton step)
// and is an extra, sign-free coordinate of the support steps below.
//
// Algorithm: every sweep starts with a proximal Newton step (the l1 problem with the quadratic
// model of the loss -- exact for the squared loss -- solved by up to 200 coordinate-descent
// sweeps, then an Armijo line search on P); it is robust to dependent columns such as several
// all-active neurons, where the support steps below alone progress slowly (measured: a Boston
// logistic master with 57 columns 17.7 s -> 0.1 s; a synthetic squared master with 510
// columns 5.5 s -> 1.0 s).  Then cyclic coordinate descent (squared: exact coordinate minimization; logistic:
// proximal coordinate steps with the curvature bound ||phi_j||^2 / 4, monotone), and after
// every sweep steps on the support S (signs s) of the smooth function
// F(w_S) = L(Phi_S w_S) + beta s^T w_S, accepted only if P decreases: when the columns of
// Phi_S are dependent (neurons sharing an activation pattern) and grad F has a component in
// ker Phi_S, F decreases linearly along it at fixed Phi w, and the step goes exactly to the first
// sign change (the support shrinks to independent columns); otherwise a Newton step (for the
// squared loss it solves the KKT system on S exactly) truncated at the first sign change, with
// Armijo backtracking.  Stops when gap <= tol * P(w).  Warm start: w0 (e.g. the previous round's weights, padded with zeros for
// the new neurons).
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "fastconvexrelu/spline_1d.hpp"  // enum class Loss

namespace fcr {

struct LassoMasterOptions {
    Loss loss = Loss::Squared;  // Squared or Logistic (Hinge: std::invalid_argument)
    double beta = 1e-3;         // > 0
    double tol = 1e-10;         // stop when gap <= tol * P(w)
    int max_epochs = 20000;     // coordinate-descent sweeps
    bool intercept = false;     // unpenalized intercept c (see above)
};

struct LassoMasterResult {
    Eigen::VectorXd w;         // (m) output weights
    Eigen::VectorXd fitted;    // Phi w + c
    Eigen::VectorXd grad;      // lambda = grad L(Phi w + c) (squared: Phi w + c - y), unscaled
    Eigen::VectorXd dual;      // scale * grad (intercept: scale * lambda~, 1^T dual = 0):
                               // ||Phi^T dual||_inf <= beta (restricted-feasible)
    double intercept = 0.0;    // c (0 without opt.intercept)
    double scale = 1.0;        // s
    double primal = 0.0;       // P(w)
    double dual_value = 0.0;   // D(dual)
    double gap = 0.0;          // P(w) - D(dual) >= 0 (restricted problem)
    int n_epochs = 0;
    int n_newton = 0;          // accepted Newton steps
    bool converged = false;
    std::string message;
};

// Phi: n x m (column-major; m may be 0), y: n, w0: empty or m, c0: warm start of the intercept
// (ignored without opt.intercept).  Throws std::invalid_argument for mismatched sizes,
// non-finite values, beta <= 0, labels not in {-1, +1} (logistic), the hinge loss, or the
// logistic loss with an intercept and labels of one class only (no minimizer: c -> +-inf).
LassoMasterResult lasso_master(const Eigen::Ref<const Eigen::MatrixXd>& Phi,
                               const Eigen::Ref<const Eigen::VectorXd>& y,
                               const LassoMasterOptions& opt,
                               const Eigen::Ref<const Eigen::VectorXd>& w0, double c0 = 0.0);

// The dual point s * lambda and the gap of a given w (no optimization): used by the Python
// layer to evaluate the restricted certificate of any w.
LassoMasterResult lasso_certificate(const Eigen::Ref<const Eigen::MatrixXd>& Phi,
                                    const Eigen::Ref<const Eigen::VectorXd>& y,
                                    const LassoMasterOptions& opt,
                                    const Eigen::Ref<const Eigen::VectorXd>& w,
                                    double c = 0.0);

}  // namespace fcr
