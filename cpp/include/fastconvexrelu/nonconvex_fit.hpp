// Local (non-convex) training of a two-layer ReLU network with weight decay, the problem the
// paper convexifies (eq. (2) with biases, supplementary A.3):
//
//     minimize_{U, b, W, c}  L((X U + 1 b^T)_+ W + 1 c^T, Y) + beta/2 (||U||_F^2 + ||W||_F^2)
//
// (outputs Y of shape n x o, W of shape m x o; hidden biases b and intercept c unpenalized;
// bias = false fixes b = 0, c = 0).  By AM-GM the penalty is >= beta sum_j ||w_j|| ||u_j||
// (rows w_j of W: the weight-decay penalty of supplementary A.7, Lemma 1) with equality after
// rebalancing, so a local minimum is a network whose objective J (Lemma 2.1 / eq. (3)) is a
// stationary value.
// Used as a cheap source of activation patterns for the exact convex program over patterns
// and to polish networks between convex steps (issue 3, "seeded" patterns); not optimal.
//
// Algorithm: adam_iter full-batch Adam steps on the objective / n (best iterate kept), then
// plain L-BFGS (two-loop recursion, `history` pairs, Armijo backtracking) until the relative
// decrease of one step is <= rtol or lbfgs_iter iterations.  One gradient evaluation costs two
// n x d x m products (X U and X^T G; plus two n x m x o products for vector outputs); for
// scalar outputs the ReLU, the loss and the reductions are fused in one pass over the n x m
// activations.  Losses: squared, huber, softmax (one-hot rows, o >= 2), logistic and the hinge
// (o = 1, y in {-1, +1}; the hinge by a subgradient: L-BFGS then only finds an approximate
// point).  The neurons are split in column blocks run by a thread team when there are threads
// to spare; the blocks depend on the problem size only, so the result does not depend on the
// number of threads.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace fcr {

struct NonconvexFitOptions {
    std::string loss = "squared";  // squared | huber | softmax | logistic | hinge
    double beta = 1e-3;            // > 0
    bool bias = true;
    double huber_delta = 1.0;
    int adam_iter = 0;             // >= 0
    double adam_lr = 1e-2;         // > 0
    int lbfgs_iter = 1000;         // >= 0
    int history = 10;              // >= 1
    double rtol = 1e-12;           // stop L-BFGS when f_k - f_{k+1} <= rtol |f_k|
    int n_threads = 1;             // fits of a batch run in parallel (<= 0: all cores)
    Eigen::VectorXd sample_weight; // (n,) weights s_i >= 0 of the loss sum_i s_i l_i; empty: none (not for the hinge)
};

struct NonconvexFitResult {
    Eigen::MatrixXd U;    // d x m
    Eigen::VectorXd b;    // m (zeros without bias)
    Eigen::MatrixXd W;    // m x o output weights
    Eigen::VectorXd c;    // o intercepts (0 without bias)
    double objective = 0; // L + beta/2 (||U||^2 + ||W||^2) at the returned point
    int n_iter = 0;       // L-BFGS iterations
    int n_evals = 0;      // gradient evaluations (Adam + L-BFGS)
};

// One fit from (U0, b0, W0, c0), Y of shape n x o (o = 1: scalar outputs).  Throws
// std::invalid_argument on shape mismatches, non-finite input, an unknown loss, targets that
// do not suit the loss (labels in {-1, +1} and o = 1 for logistic/hinge, one-hot rows for
// softmax), beta <= 0, negative iteration counts.
NonconvexFitResult nonconvex_fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                 const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                 const Eigen::Ref<const Eigen::MatrixXd>& U0,
                                 const Eigen::Ref<const Eigen::VectorXd>& b0,
                                 const Eigen::Ref<const Eigen::MatrixXd>& W0,
                                 const Eigen::Ref<const Eigen::VectorXd>& c0,
                                 const NonconvexFitOptions& opt);

// Independent fits from several starts, run in parallel threads (opt.n_threads); each result
// depends only on its own start.
std::vector<NonconvexFitResult> nonconvex_fit_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                                    const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                                    const std::vector<Eigen::MatrixXd>& U0,
                                                    const std::vector<Eigen::VectorXd>& b0,
                                                    const std::vector<Eigen::MatrixXd>& W0,
                                                    const std::vector<Eigen::VectorXd>& c0,
                                                    const NonconvexFitOptions& opt);

}  // namespace fcr
