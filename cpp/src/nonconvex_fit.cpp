#include "fastconvexrelu/nonconvex_fit.hpp"

#include "fastconvexrelu/losses.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace fcr {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// out[i] = z[i] > 0 ? src[i] : 0 (i < n; src may be out), a select on the bits with an all-ones
// mask: branch-free, since the signs of the pre-activations are random and a branch mispredicts
// (measured 2x slower).
void select_positive(const double* z, const double* src, double* out, Index n) {
    for (Index i = 0; i < n; ++i) {
        const std::uint64_t mask = z[i] > 0.0 ? ~std::uint64_t{0} : std::uint64_t{0};
        std::uint64_t bits;
        std::memcpy(&bits, src + i, sizeof bits);
        bits &= mask;
        std::memcpy(out + i, &bits, sizeof bits);
    }
}

// The objective and its gradient in the packed variable
// theta = [vec(U) (d m), b (m), vec(W) (m o), c (o)]  (W: output weights, m x o, column-major).
// The neurons are split in column blocks (their number depends on the problem size only, so
// the rounding, hence the result, does not depend on the number of threads): block k forms its
// pre-activations and its share of F, then (after the loss) its part of the gradient, on
// thread k mod T of the team; the loss and the sum of the shares (in block order) are serial.
// Scalar outputs (o = 1) use fused loops; vector outputs products with the n x o loss gradient.
class Objective {
public:
    Objective(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const MatrixXd>& Y, Index m,
              const NonconvexFitOptions& opt, SpinTeam& team)
        : X_(X), Y_(Y), n_(X.rows()), d_(X.cols()), m_(m), o_(Y.cols()), loss_(loss_kind_from_string(opt.loss)),
          beta_(opt.beta), bias_(opt.bias), lf_(loss_, opt.huber_delta), team_(team), Z_(X.rows(), m),
          M_(X.rows(), m), F_(X.rows(), Y.cols()), G_(X.rows(), Y.cols()) {
        const Index B = n_blocks(X.rows(), m);
        for (Index k = 0; k <= B; ++k) bounds_.push_back(m * k / B);
        Fp_.assign(static_cast<std::size_t>(B), MatrixXd(n_, o_));
        if (opt.sample_weight.size()) lf_.set_sample_weight(opt.sample_weight);
    }

    // column blocks: 4 when a block still has >= ~10^4 activations, else 1
    static Index n_blocks(Index n, Index m) { return n * m >= 40000 ? std::min<Index>(4, m) : 1; }

    Index size() const { return d_ * m_ + m_ + m_ * o_ + o_; }

    // value at theta; grad (resized) = its gradient (a subgradient for the hinge)
    double operator()(const VectorXd& theta, VectorXd& grad) {
        theta_ = &theta;
        const Index B = static_cast<Index>(Fp_.size());
        team_.run([this, B](int t) {
            for (Index k = t; k < B; k += team_.size()) forward(k);
        });
        F_ = Fp_[0];
        for (Index k = 1; k < B; ++k) F_ += Fp_[static_cast<std::size_t>(k)];
        if (bias_) F_.rowwise() += theta.tail(o_).transpose();
        const Eigen::Map<const MatrixXd> U(theta.data(), d_, m_);
        const auto W = theta.segment(d_ * m_ + m_, m_ * o_);
        double val = loss_and_gradient();
        val += 0.5 * beta_ * (U.squaredNorm() + W.squaredNorm());
        grad.resize(size());
        grad_ = &grad;
        team_.run([this, B](int t) {
            for (Index k = t; k < B; k += team_.size()) backward(k);
        });
        if (bias_)
            grad.tail(o_) = G_.colwise().sum().transpose();
        else
            grad.tail(o_).setZero();
        return val;
    }

private:
    // block t: Z <- X U + 1 b^T (pre-activations) and Fp[t] = relu(Z) W
    void forward(Index t) {
        const Index j0 = bounds_[t], mc = bounds_[t + 1] - j0;
        const VectorXd& theta = *theta_;
        const Eigen::Map<const MatrixXd> U(theta.data(), d_, m_);
        const Eigen::Map<const MatrixXd> W(theta.data() + d_ * m_ + m_, m_, o_);
        MatrixXd& Fp = Fp_[static_cast<std::size_t>(t)];
        Z_.middleCols(j0, mc).noalias() = X_ * U.middleCols(j0, mc);
        if (o_ == 1) {  // fused: bias, ReLU and the output in one pass
            double* __restrict fp = Fp.data();
            std::fill(fp, fp + n_, 0.0);
            for (Index j = j0; j < j0 + mc; ++j) {
                const double bj = bias_ ? theta[d_ * m_ + j] : 0.0, wj = W(j, 0);
                double* __restrict z = Z_.col(j).data();
                for (Index i = 0; i < n_; ++i) {
                    const double v = z[i] + bj;
                    z[i] = v;
                    fp[i] += (v > 0.0 ? v : 0.0) * wj;
                }
            }
            return;
        }
        for (Index j = j0; j < j0 + mc; ++j) {  // Z += b_j, M <- relu(Z) (kept for dJ/dW)
            const double bj = bias_ ? theta[d_ * m_ + j] : 0.0;
            double* __restrict z = Z_.col(j).data();
            double* __restrict h = M_.col(j).data();
            for (Index i = 0; i < n_; ++i) {
                const double v = z[i] + bj;
                z[i] = v;
                h[i] = v > 0.0 ? v : 0.0;
            }
        }
        Fp.noalias() = M_.middleCols(j0, mc) * W.middleRows(j0, mc);
    }

    // block t of the gradient.  With Gl = dL/dF (n x o) and H = relu(Z):
    // dJ/dW = H^T Gl + beta W, M = 1[Z > 0] o (Gl W^T) = dJ/dZ, dJ/db = colsum(M),
    // dJ/dU = X^T M + beta U.  For o = 1, M = diag(g) 1[Z > 0] and dJ/dZ = M diag(w).
    void backward(Index t) {
        const Index j0 = bounds_[t], mc = bounds_[t + 1] - j0;
        const VectorXd& theta = *theta_;
        VectorXd& grad = *grad_;
        const Eigen::Map<const MatrixXd> U(theta.data(), d_, m_);
        const Eigen::Map<const MatrixXd> W(theta.data() + d_ * m_ + m_, m_, o_);
        Eigen::Map<MatrixXd> gW(grad.data() + d_ * m_ + m_, m_, o_);
        auto gb = grad.segment(d_ * m_ + j0, mc);
        Eigen::Map<MatrixXd> gU(grad.data() + d_ * j0, d_, mc);
        const auto Mb = M_.middleCols(j0, mc);
        if (o_ == 1) {
            for (Index j = j0; j < j0 + mc; ++j) select_positive(Z_.col(j).data(), G_.data(), M_.col(j).data(), n_);
            const auto w = W.col(0).segment(j0, mc);
            auto gw = gW.col(0).segment(j0, mc);
            gw.noalias() = Z_.middleCols(j0, mc).cwiseProduct(Mb).colwise().sum().transpose();
            gw += beta_ * w;
            if (bias_)
                gb.noalias() = Mb.colwise().sum().transpose().cwiseProduct(w);
            else
                gb.setZero();
            gU.noalias() = X_.transpose() * Mb;
            gU = gU * w.asDiagonal();
            gU += beta_ * U.middleCols(j0, mc);
            return;
        }
        auto gWb = gW.middleRows(j0, mc);
        gWb.noalias() = Mb.transpose() * G_;  // M holds relu(Z) here
        gWb += beta_ * W.middleRows(j0, mc);
        M_.middleCols(j0, mc).noalias() = G_ * W.middleRows(j0, mc).transpose();
        for (Index j = j0; j < j0 + mc; ++j) select_positive(Z_.col(j).data(), M_.col(j).data(), M_.col(j).data(), n_);
        if (bias_)
            gb.noalias() = Mb.colwise().sum().transpose();
        else
            gb.setZero();
        gU.noalias() = X_.transpose() * Mb;
        gU += beta_ * U.middleCols(j0, mc);
    }

    // loss value at F_, its (sub)gradient into G_: the library's losses (losses.hpp), and a
    // subgradient of the hinge (which LossFunction does not differentiate)
    double loss_and_gradient() {
        if (loss_ != LossKind::Hinge) return lf_.value_and_gradient(F_, Y_, G_);
        double s = 0.0;
        for (Index i = 0; i < n_; ++i) {
            const double z = Y_(i, 0) * F_(i, 0);
            s += z < 1.0 ? 1.0 - z : 0.0;
            G_(i, 0) = z < 1.0 ? -Y_(i, 0) : 0.0;
        }
        return s;
    }

    const Eigen::Ref<const MatrixXd>& X_;
    const Eigen::Ref<const MatrixXd>& Y_;
    Index n_, d_, m_, o_;
    LossKind loss_;
    double beta_;
    bool bias_;
    LossFunction lf_;
    SpinTeam& team_;
    std::vector<Index> bounds_;  // column block t is [bounds_[t], bounds_[t + 1])
    MatrixXd Z_, M_;             // pre-activations X U + 1 b^T; relu(Z), then dJ/dZ (o = 1: diag(g) 1[Z > 0])
    std::vector<MatrixXd> Fp_;   // each block's share of F (n x o)
    MatrixXd F_, G_;             // outputs F and dL/dF (n x o)
    const VectorXd* theta_ = nullptr;
    VectorXd* grad_ = nullptr;
};

// Full-batch Adam on scale * J (steps depend on the gradient's sign pattern, which moves
// between activation regions that L-BFGS alone does not leave); keeps the best iterate.
double adam(Objective& J, VectorXd& x, int iters, double lr, double scale, int& evals,
            const Deadline& deadline) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    VectorXd mom = VectorXd::Zero(x.size()), vel = VectorXd::Zero(x.size()), g, best = x;
    double best_f = std::numeric_limits<double>::infinity();
    double p1 = 1.0, p2 = 1.0;
    for (int t = 1; t <= iters; ++t) {
        check_interrupt();
        if (deadline.passed()) break;  // max_time: the best point so far
        const double f = J(x, g);
        ++evals;
        if (f < best_f) {
            best_f = f;
            best = x;
        }
        g *= scale;
        mom = b1 * mom + (1 - b1) * g;
        vel = b2 * vel + (1 - b2) * g.cwiseProduct(g);
        p1 *= b1;
        p2 *= b2;
        x.array() -= lr * (mom.array() / (1 - p1)) / ((vel.array() / (1 - p2)).sqrt() + eps);
    }
    const double f = J(x, g);
    ++evals;
    if (f < best_f) return f;
    x = best;
    return best_f;
}

// L-BFGS (two-loop recursion over a circular history, Armijo backtracking); returns the
// final value, iterations in nit.
double lbfgs(Objective& J, VectorXd& x, int max_iter, int history, double rtol, int& nit, int& evals,
             const Deadline& deadline) {
    const Index N = x.size(), H = history;
    MatrixXd S(N, H), Yh(N, H);  // pairs s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k
    VectorXd R(H), alpha(H), g, gn, xn, q, p;
    Index first = 0, count = 0;  // pair i (0 = oldest) is column (first + i) % H
    double f = J(x, g);
    ++evals;
    nit = 0;
    for (int it = 1; it <= max_iter; ++it) {
        check_interrupt();
        if (deadline.passed()) break;  // max_time: the current iterate
        nit = it;
        q = g;
        for (Index i = count - 1; i >= 0; --i) {
            const Index k = (first + i) % H;
            alpha[k] = R[k] * S.col(k).dot(q);
            q -= alpha[k] * Yh.col(k);
        }
        if (count > 0) {
            const Index k = (first + count - 1) % H;
            q *= S.col(k).dot(Yh.col(k)) / Yh.col(k).squaredNorm();
        } else {
            q /= std::max(1.0, g.norm());
        }
        for (Index i = 0; i < count; ++i) {
            const Index k = (first + i) % H;
            q += (alpha[k] - R[k] * Yh.col(k).dot(q)) * S.col(k);
        }
        p = -q;
        double slope = g.dot(p);
        if (!(slope < 0)) {  // not a descent direction: restart from the gradient
            count = 0;
            p = -g / std::max(1.0, g.norm());
            slope = g.dot(p);
        }
        double t = 1.0, fn = 0.0;
        for (;;) {
            xn = x + t * p;
            fn = J(xn, gn);
            ++evals;
            if (fn <= f + 1e-4 * t * slope || t < 1e-12) break;
            t *= 0.5;
        }
        if (t < 1e-12 && !(fn <= f)) break;
        q = xn - x;  // s
        p = gn - g;  // y
        const double sy = q.dot(p);
        if (sy > 1e-12 * q.norm() * p.norm()) {
            Index k;
            if (count < H) {
                k = (first + count) % H;
                ++count;
            } else {  // overwrite the oldest pair
                k = first;
                first = (first + 1) % H;
            }
            S.col(k) = q;
            Yh.col(k) = p;
            R[k] = 1.0 / sy;
        }
        const bool done = f - fn <= rtol * std::max(std::fabs(f), 1e-300);
        x.swap(xn);
        g.swap(gn);
        f = fn;
        if (done) break;
    }
    return f;
}

void check_options(const NonconvexFitOptions& opt) {
    loss_kind_from_string(opt.loss);
    if (!(std::isfinite(opt.beta) && opt.beta > 0)) throw std::invalid_argument("beta must be a finite number > 0");
    if (opt.loss == "huber" && !(std::isfinite(opt.huber_delta) && opt.huber_delta > 0))
        throw std::invalid_argument("huber_delta must be a finite number > 0");
    if (opt.adam_iter < 0 || opt.lbfgs_iter < 0) throw std::invalid_argument("iteration counts must be >= 0");
    if (!(std::isfinite(opt.adam_lr) && opt.adam_lr > 0)) throw std::invalid_argument("adam_lr must be > 0");
    if (opt.history < 1) throw std::invalid_argument("history must be >= 1");
    if (!(opt.rtol >= 0)) throw std::invalid_argument("rtol must be >= 0");
}

void check_data(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const MatrixXd>& Y,
                const NonconvexFitOptions& opt) {
    if (X.rows() < 1 || X.cols() < 1) throw std::invalid_argument("X must be a non-empty 2-D array");
    if (Y.rows() != X.rows() || Y.cols() < 1)
        throw std::invalid_argument("y must have X.shape[0] rows (shape (n,) or (n, o))");
    if (!X.allFinite() || !Y.allFinite()) throw std::invalid_argument("X and y must be finite");
    const LossKind l = loss_kind_from_string(opt.loss);
    if ((l == LossKind::Logistic || l == LossKind::Hinge) && Y.cols() != 1)
        throw std::invalid_argument("the logistic and hinge losses need scalar labels y in {-1, +1}");
    if (l == LossKind::Logistic || l == LossKind::Hinge)
        for (Index i = 0; i < Y.rows(); ++i)
            if (Y(i, 0) != 1.0 && Y(i, 0) != -1.0) throw std::invalid_argument("labels y must be in {-1, +1}");
    if (l == LossKind::Softmax) LossFunction(LossKind::Softmax).check_targets(Y);  // one-hot rows, o >= 2
    if (opt.sample_weight.size()) {
        if (opt.sample_weight.size() != X.rows())
            throw std::invalid_argument("sample_weight must be empty or have one entry per row of X");
        if (!opt.sample_weight.allFinite() || opt.sample_weight.minCoeff() < 0.0)
            throw std::invalid_argument("sample_weight must be finite and >= 0");
        if (l == LossKind::Hinge) throw std::invalid_argument("sample_weight is not supported with the hinge loss");
    }
}

void check_start(Index d, Index o, const Eigen::Ref<const MatrixXd>& U0, const Eigen::Ref<const VectorXd>& b0,
                 const Eigen::Ref<const MatrixXd>& W0, const Eigen::Ref<const VectorXd>& c0) {
    if (U0.rows() != d || U0.cols() < 1) throw std::invalid_argument("U0 must have shape (d, m) with m >= 1");
    if (b0.size() != U0.cols()) throw std::invalid_argument("b0 must have U0.shape[1] entries");
    if (W0.rows() != U0.cols() || W0.cols() != o)
        throw std::invalid_argument("w0 must have shape (m,) or (m, o) with m = U0.shape[1] and o outputs");
    if (c0.size() != o) throw std::invalid_argument("c0 must have one entry per output");
    if (!U0.allFinite() || !b0.allFinite() || !W0.allFinite() || !c0.allFinite())
        throw std::invalid_argument("the starting network must be finite");
}

NonconvexFitResult fit_checked(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const MatrixXd>& Y,
                               const Eigen::Ref<const MatrixXd>& U0, const Eigen::Ref<const VectorXd>& b0,
                               const Eigen::Ref<const MatrixXd>& W0, const Eigen::Ref<const VectorXd>& c0,
                               const NonconvexFitOptions& opt, int threads_per_fit,
                               const Deadline& deadline) {
    const Index d = X.cols(), m = U0.cols(), o = Y.cols();
    // threads inside one fit only when there are several column blocks (enough work per section)
    SpinTeam team(static_cast<int>(std::min<Index>(threads_per_fit, Objective::n_blocks(X.rows(), m))));
    Objective J(X, Y, m, opt, team);
    VectorXd x(J.size());
    Eigen::Map<MatrixXd>(x.data(), d, m) = U0;
    x.segment(d * m, m) = opt.bias ? VectorXd(b0) : VectorXd::Zero(m);
    Eigen::Map<MatrixXd>(x.data() + d * m + m, m, o) = W0;
    x.tail(o) = opt.bias ? VectorXd(c0) : VectorXd::Zero(o);
    NonconvexFitResult r;
    double f = 0.0;
    if (opt.adam_iter > 0)
        f = adam(J, x, opt.adam_iter, opt.adam_lr, 1.0 / static_cast<double>(X.rows()), r.n_evals, deadline);
    if (opt.lbfgs_iter > 0) {
        f = lbfgs(J, x, opt.lbfgs_iter, opt.history, opt.rtol, r.n_iter, r.n_evals, deadline);
    } else if (opt.adam_iter == 0) {
        VectorXd g;
        f = J(x, g);
        ++r.n_evals;
    }
    r.U = Eigen::Map<const MatrixXd>(x.data(), d, m);
    r.b = x.segment(d * m, m);
    r.W = Eigen::Map<const MatrixXd>(x.data() + d * m + m, m, o);
    r.c = x.tail(o);
    r.objective = f;
    return r;
}

}  // namespace

NonconvexFitResult nonconvex_fit(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const MatrixXd>& Y,
                                 const Eigen::Ref<const MatrixXd>& U0, const Eigen::Ref<const VectorXd>& b0,
                                 const Eigen::Ref<const MatrixXd>& W0, const Eigen::Ref<const VectorXd>& c0,
                                 const NonconvexFitOptions& opt) {
    check_options(opt);
    check_data(X, Y, opt);
    check_start(X.cols(), Y.cols(), U0, b0, W0, c0);
    return fit_checked(X, Y, U0, b0, W0, c0, opt, resolve_threads(opt.n_threads, 1 << 20),
                       thread_deadline());
}

std::vector<NonconvexFitResult> nonconvex_fit_batch(const Eigen::Ref<const MatrixXd>& X,
                                                    const Eigen::Ref<const MatrixXd>& Y,
                                                    const std::vector<MatrixXd>& U0, const std::vector<VectorXd>& b0,
                                                    const std::vector<MatrixXd>& W0, const std::vector<VectorXd>& c0,
                                                    const NonconvexFitOptions& opt) {
    check_options(opt);
    check_data(X, Y, opt);
    const std::size_t k = U0.size();
    if (b0.size() != k || W0.size() != k || c0.size() != k)
        throw std::invalid_argument("U0, b0, w0 and c0 must list the same number of starts");
    for (std::size_t i = 0; i < k; ++i) check_start(X.cols(), Y.cols(), U0[i], b0[i], W0[i], c0[i]);
    std::vector<NonconvexFitResult> out(k);
    const Index kk = static_cast<Index>(k);
    // starts in parallel; threads left over (fewer starts than threads) work inside each fit
    const int nt = resolve_threads(opt.n_threads, 1 << 20);
    const int outer = std::max(1, std::min(nt, static_cast<int>(kk)));
    const int inner = std::max(1, nt / outer);
    const Deadline deadline = thread_deadline();  // the caller's (read on this thread)
    parallel_for(kk, outer, [&](int, Index i) {
        const auto s = static_cast<std::size_t>(i);
        out[s] = fit_checked(X, Y, U0[s], b0[s], W0[s], c0[s], opt, inner, deadline);
    });
    return out;
}

}  // namespace fcr
