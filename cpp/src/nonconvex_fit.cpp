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

enum class Loss { Squared, Huber, Logistic, Hinge };

Loss parse_loss(const std::string& s) {
    if (s == "squared") return Loss::Squared;
    if (s == "huber") return Loss::Huber;
    if (s == "logistic") return Loss::Logistic;
    if (s == "hinge") return Loss::Hinge;
    throw std::invalid_argument("loss must be one of 'squared', 'huber', 'logistic', 'hinge', got '" + s + "'");
}

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;


// The objective and its gradient in the packed variable theta = [vec(U) (d m), b (m), w (m), c].
// The neurons are split in column blocks (their number depends on the problem size only, so
// the rounding, hence the result, does not depend on the number of threads): block k forms its
// pre-activations and its share of f, then (after the loss) its part of the gradient, on
// thread k mod T of the team; the loss and the sum of the shares (in block order) are serial.
class Objective {
public:
    Objective(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y, Index m, const NonconvexFitOptions& opt,
              SpinTeam& team)
        : X_(X), y_(y), n_(X.rows()), d_(X.cols()), m_(m), loss_(parse_loss(opt.loss)), beta_(opt.beta),
          bias_(opt.bias),
          lf_(loss_ == Loss::Huber ? LossKind::Huber : loss_ == Loss::Logistic ? LossKind::Logistic : LossKind::Squared,
              opt.huber_delta),
          team_(team), Z_(X.rows(), m), M_(X.rows(), m), Fp_(X.rows(), n_blocks(X.rows(), m)), f_(X.rows()),
          g_(X.rows()) {
        const Index B = Fp_.cols();
        for (Index k = 0; k <= B; ++k) bounds_.push_back(m * k / B);
    }

    // column blocks: 4 when a block still has >= ~10^4 activations, else 1
    static Index n_blocks(Index n, Index m) { return n * m >= 40000 ? std::min<Index>(4, m) : 1; }

    Index size() const { return d_ * m_ + 2 * m_ + 1; }

    // value at theta; grad (resized) = its gradient (a subgradient for the hinge)
    double operator()(const VectorXd& theta, VectorXd& grad) {
        theta_ = &theta;
        team_.run([this](int t) {
            for (Index k = t; k < Fp_.cols(); k += team_.size()) forward(k);
        });
        const double c = bias_ ? theta[size() - 1] : 0.0;
        f_ = Fp_.rowwise().sum();
        f_.array() += c;
        const Eigen::Map<const MatrixXd> U(theta.data(), d_, m_);
        const auto w = theta.segment(d_ * m_ + m_, m_);
        double val = loss_and_gradient();
        val += 0.5 * beta_ * (U.squaredNorm() + w.squaredNorm());
        grad.resize(size());
        grad_ = &grad;
        team_.run([this](int t) {
            for (Index k = t; k < Fp_.cols(); k += team_.size()) backward(k);
        });
        grad[size() - 1] = bias_ ? g_.sum() : 0.0;
        return val;
    }

private:
    // block t: Z <- X U + 1 b^T (pre-activations) and Fp[:, t] = relu(Z) w, in one pass
    void forward(Index t) {
        const Index j0 = bounds_[t], mc = bounds_[t + 1] - j0;
        const VectorXd& theta = *theta_;
        const Eigen::Map<const MatrixXd> U(theta.data(), d_, m_);
        Z_.middleCols(j0, mc).noalias() = X_ * U.middleCols(j0, mc);
        double* __restrict fp = Fp_.col(t).data();
        std::fill(fp, fp + n_, 0.0);
        for (Index j = j0; j < j0 + mc; ++j) {
            const double bj = bias_ ? theta[d_ * m_ + j] : 0.0, wj = theta[d_ * m_ + m_ + j];
            double* __restrict z = Z_.col(j).data();
            for (Index i = 0; i < n_; ++i) {
                const double v = z[i] + bj;
                z[i] = v;
                fp[i] += (v > 0.0 ? v : 0.0) * wj;
            }
        }
    }

    // block t of the gradient.  M = diag(g) 1[Z > 0] (a branch-free select: the signs are
    // random, a branch mispredicts); with G = M diag(w) = dJ/dZ:
    // dJ/dw = colsum(relu(Z) o M) + beta w, dJ/db = colsum(M) o w, dJ/dU = (X^T M) diag(w) + beta U
    void backward(Index t) {
        const Index j0 = bounds_[t], mc = bounds_[t + 1] - j0;
        const VectorXd& theta = *theta_;
        VectorXd& grad = *grad_;
        const Eigen::Map<const MatrixXd> U(theta.data(), d_, m_);
        const auto w = theta.segment(d_ * m_ + m_ + j0, mc);
        const double* __restrict gp = g_.data();
        for (Index j = j0; j < j0 + mc; ++j) {
            const double* __restrict z = Z_.col(j).data();
            double* __restrict mj = M_.col(j).data();
            for (Index i = 0; i < n_; ++i) {
                // the select on the bits: an all-ones mask where z > 0
                const std::uint64_t mask = z[i] > 0.0 ? ~std::uint64_t{0} : std::uint64_t{0};
                std::uint64_t bits;
                std::memcpy(&bits, gp + i, sizeof bits);
                bits &= mask;
                std::memcpy(mj + i, &bits, sizeof bits);
            }
        }
        const auto Zb = Z_.middleCols(j0, mc);
        const auto Mb = M_.middleCols(j0, mc);
        auto gw = grad.segment(d_ * m_ + m_ + j0, mc);
        gw.noalias() = Zb.cwiseProduct(Mb).colwise().sum().transpose();
        gw += beta_ * w;
        auto gb = grad.segment(d_ * m_ + j0, mc);
        if (bias_)
            gb.noalias() = Mb.colwise().sum().transpose().cwiseProduct(w);
        else
            gb.setZero();
        Eigen::Map<MatrixXd> gU(grad.data() + d_ * j0, d_, mc);
        gU.noalias() = X_.transpose() * Mb;
        gU = gU * w.asDiagonal();
        gU += beta_ * U.middleCols(j0, mc);
    }

    // loss value at f_, its (sub)gradient into g_: the library's losses (losses.hpp), and a
    // subgradient of the hinge (which LossFunction does not differentiate)
    double loss_and_gradient() {
        if (loss_ != Loss::Hinge) {
            const double v = lf_.value_and_gradient(f_, y_, G1_);
            g_ = G1_.col(0);
            return v;
        }
        double s = 0.0;
        for (Index i = 0; i < n_; ++i) {
            const double z = y_[i] * f_[i];
            s += z < 1.0 ? 1.0 - z : 0.0;
            g_[i] = z < 1.0 ? -y_[i] : 0.0;
        }
        return s;
    }

    const Eigen::Ref<const MatrixXd>& X_;
    const Eigen::Ref<const VectorXd>& y_;
    Index n_, d_, m_;
    Loss loss_;
    double beta_;
    bool bias_;
    LossFunction lf_;
    SpinTeam& team_;
    std::vector<Index> bounds_;  // column block t is [bounds_[t], bounds_[t + 1])
    MatrixXd Z_, M_;             // pre-activations X U + 1 b^T; diag(g) 1[Z > 0]
    MatrixXd Fp_;                // n x T: each block's share of f
    VectorXd f_, g_;
    const VectorXd* theta_ = nullptr;
    VectorXd* grad_ = nullptr;
    MatrixXd G1_;     // gradient from LossFunction (n x 1)
};

// Full-batch Adam on scale * J (steps depend on the gradient's sign pattern, which moves
// between activation regions that L-BFGS alone does not leave); keeps the best iterate.
double adam(Objective& J, VectorXd& x, int iters, double lr, double scale, int& evals) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    VectorXd mom = VectorXd::Zero(x.size()), vel = VectorXd::Zero(x.size()), g, best = x;
    double best_f = std::numeric_limits<double>::infinity();
    double p1 = 1.0, p2 = 1.0;
    for (int t = 1; t <= iters; ++t) {
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
double lbfgs(Objective& J, VectorXd& x, int max_iter, int history, double rtol, int& nit, int& evals) {
    const Index N = x.size(), H = history;
    MatrixXd S(N, H), Yh(N, H);  // pairs s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k
    VectorXd R(H), alpha(H), g, gn, xn, q, p;
    Index first = 0, count = 0;  // pair i (0 = oldest) is column (first + i) % H
    double f = J(x, g);
    ++evals;
    nit = 0;
    for (int it = 1; it <= max_iter; ++it) {
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
    parse_loss(opt.loss);
    if (!(std::isfinite(opt.beta) && opt.beta > 0)) throw std::invalid_argument("beta must be a finite number > 0");
    if (opt.loss == "huber" && !(std::isfinite(opt.huber_delta) && opt.huber_delta > 0))
        throw std::invalid_argument("huber_delta must be a finite number > 0");
    if (opt.adam_iter < 0 || opt.lbfgs_iter < 0) throw std::invalid_argument("iteration counts must be >= 0");
    if (!(std::isfinite(opt.adam_lr) && opt.adam_lr > 0)) throw std::invalid_argument("adam_lr must be > 0");
    if (opt.history < 1) throw std::invalid_argument("history must be >= 1");
    if (!(opt.rtol >= 0)) throw std::invalid_argument("rtol must be >= 0");
}

void check_data(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                const NonconvexFitOptions& opt) {
    if (X.rows() < 1 || X.cols() < 1) throw std::invalid_argument("X must be a non-empty 2-D array");
    if (y.size() != X.rows()) throw std::invalid_argument("y must have X.shape[0] entries");
    if (!X.allFinite() || !y.allFinite()) throw std::invalid_argument("X and y must be finite");
    if (opt.loss == "logistic" || opt.loss == "hinge")
        for (Index i = 0; i < y.size(); ++i)
            if (y[i] != 1.0 && y[i] != -1.0) throw std::invalid_argument("labels y must be in {-1, +1}");
}

void check_start(Index d, const Eigen::Ref<const MatrixXd>& U0, const Eigen::Ref<const VectorXd>& b0,
                 const Eigen::Ref<const VectorXd>& w0, double c0) {
    if (U0.rows() != d || U0.cols() < 1) throw std::invalid_argument("U0 must have shape (d, m) with m >= 1");
    if (b0.size() != U0.cols() || w0.size() != U0.cols())
        throw std::invalid_argument("b0 and w0 must have U0.shape[1] entries");
    if (!U0.allFinite() || !b0.allFinite() || !w0.allFinite() || !std::isfinite(c0))
        throw std::invalid_argument("the starting network must be finite");
}

NonconvexFitResult fit_checked(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                               const Eigen::Ref<const MatrixXd>& U0, const Eigen::Ref<const VectorXd>& b0,
                               const Eigen::Ref<const VectorXd>& w0, double c0, const NonconvexFitOptions& opt,
                               int threads_per_fit) {
    const Index d = X.cols(), m = U0.cols();
    // threads inside one fit only when there are several column blocks (enough work per section)
    SpinTeam team(static_cast<int>(std::min<Index>(threads_per_fit, Objective::n_blocks(X.rows(), m))));
    Objective J(X, y, m, opt, team);
    VectorXd x(J.size());
    Eigen::Map<MatrixXd>(x.data(), d, m) = U0;
    x.segment(d * m, m) = opt.bias ? VectorXd(b0) : VectorXd::Zero(m);
    x.segment(d * m + m, m) = w0;
    x[J.size() - 1] = opt.bias ? c0 : 0.0;
    NonconvexFitResult r;
    double f = 0.0;
    if (opt.adam_iter > 0)
        f = adam(J, x, opt.adam_iter, opt.adam_lr, 1.0 / static_cast<double>(X.rows()), r.n_evals);
    if (opt.lbfgs_iter > 0) {
        f = lbfgs(J, x, opt.lbfgs_iter, opt.history, opt.rtol, r.n_iter, r.n_evals);
    } else if (opt.adam_iter == 0) {
        VectorXd g;
        f = J(x, g);
        ++r.n_evals;
    }
    r.U = Eigen::Map<const MatrixXd>(x.data(), d, m);
    r.b = x.segment(d * m, m);
    r.w = x.segment(d * m + m, m);
    r.c = x[J.size() - 1];
    r.objective = f;
    return r;
}

}  // namespace

NonconvexFitResult nonconvex_fit(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                                 const Eigen::Ref<const MatrixXd>& U0, const Eigen::Ref<const VectorXd>& b0,
                                 const Eigen::Ref<const VectorXd>& w0, double c0, const NonconvexFitOptions& opt) {
    check_options(opt);
    check_data(X, y, opt);
    check_start(X.cols(), U0, b0, w0, c0);
    return fit_checked(X, y, U0, b0, w0, c0, opt, resolve_threads(opt.n_threads, 1 << 20));
}

std::vector<NonconvexFitResult> nonconvex_fit_batch(const Eigen::Ref<const MatrixXd>& X,
                                                    const Eigen::Ref<const VectorXd>& y,
                                                    const std::vector<MatrixXd>& U0, const std::vector<VectorXd>& b0,
                                                    const std::vector<VectorXd>& w0, const std::vector<double>& c0,
                                                    const NonconvexFitOptions& opt) {
    check_options(opt);
    check_data(X, y, opt);
    const std::size_t k = U0.size();
    if (b0.size() != k || w0.size() != k || c0.size() != k)
        throw std::invalid_argument("U0, b0, w0 and c0 must list the same number of starts");
    for (std::size_t i = 0; i < k; ++i) check_start(X.cols(), U0[i], b0[i], w0[i], c0[i]);
    std::vector<NonconvexFitResult> out(k);
    const Index kk = static_cast<Index>(k);
    // starts in parallel; threads left over (fewer starts than threads) work inside each fit
    const int nt = resolve_threads(opt.n_threads, 1 << 20);
    const int outer = std::max(1, std::min(nt, static_cast<int>(kk)));
    const int inner = std::max(1, nt / outer);
    parallel_for(kk, outer, [&](int, Index i) {
        const auto s = static_cast<std::size_t>(i);
        out[s] = fit_checked(X, y, U0[s], b0[s], w0[s], c0[s], opt, inner);
    });
    return out;
}

}  // namespace fcr
