// FISTA on the group-lasso master (48) of the weight-decay model; see group_lasso.hpp.
#include "fastconvexrelu/group_lasso.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace fcr {

namespace {

// Row blocks of Phi for the parallel products (fixed by the size only: results do not depend
// on the number of threads).
struct RowBlocks {
    Eigen::Index n, size, count;
    explicit RowBlocks(Eigen::Index rows) : n(rows), size(std::max<Eigen::Index>(1024, (rows + 15) / 16)) {
        count = (n + size - 1) / size;
    }
    Eigen::Index start(Eigen::Index i) const { return i * size; }
    Eigen::Index len(Eigen::Index i) const { return std::min(size, n - i * size); }
};

// Phi is double or float (float: half the memory traffic of these memory-bound products;
// W and G are rounded to float for the product, the sums come back as double).
template <class S>
using MatS = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

// out = Phi W + 1 c^T
template <class S>
void outputs(const Eigen::Ref<const MatS<S>>& Phi, const Eigen::MatrixXd& W, const Eigen::VectorXd& c,
             bool intercept, const RowBlocks& rb, int nt, Eigen::MatrixXd& out) {
    out.resize(Phi.rows(), W.cols());
    const MatS<S> Ws = W.template cast<S>();
    parallel_for(rb.count, nt, [&](int, Eigen::Index i) {
        auto blk = out.middleRows(rb.start(i), rb.len(i));
        blk.noalias() = (Phi.middleRows(rb.start(i), rb.len(i)) * Ws).template cast<double>();
        if (intercept) blk.rowwise() += c.transpose();
    });
}

// out = Phi^T G, summed over row blocks in block order
template <class S>
void correlations(const Eigen::Ref<const MatS<S>>& Phi, const Eigen::MatrixXd& G, const RowBlocks& rb,
                  int nt, std::vector<Eigen::MatrixXd>& parts, Eigen::MatrixXd& out) {
    parts.resize(static_cast<std::size_t>(rb.count));
    const MatS<S> Gs = G.template cast<S>();
    parallel_for(rb.count, nt, [&](int, Eigen::Index i) {
        auto& p = parts[static_cast<std::size_t>(i)];
        p.noalias() = (Phi.middleRows(rb.start(i), rb.len(i)).transpose() * Gs.middleRows(rb.start(i), rb.len(i)))
                          .template cast<double>();
    });
    out = parts[0];
    for (std::size_t i = 1; i < parts.size(); ++i) out += parts[i];
}

double penalty(const Eigen::MatrixXd& W, double beta) { return beta * W.rowwise().norm().sum(); }

}  // namespace

template <class S>
void fista_impl(const Eigen::Ref<const MatS<S>>& Phi, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                const LossFunction& loss, double beta, bool intercept, int n_iter, int n_threads,
                GroupLassoFistaState& st) {
    const Eigen::Index n = Phi.rows(), m = Phi.cols(), o = Y.cols();
    if (Y.rows() != n) throw std::invalid_argument("group_lasso_fista: Phi and Y must have the same number of rows");
    if (!(beta > 0.0) || !std::isfinite(beta)) throw std::invalid_argument("group_lasso_fista: beta must be finite and > 0");
    if (!loss.smooth()) throw std::invalid_argument("group_lasso_fista: the loss must be smooth (not the hinge)");
    if (n_iter < 0) throw std::invalid_argument("group_lasso_fista: n_iter must be >= 0");
    if (!Phi.allFinite()) throw std::invalid_argument("group_lasso_fista: Phi must be finite");
    if (st.W.rows() != m || st.W.cols() != o) {
        if (st.W.size() != 0) throw std::invalid_argument("group_lasso_fista: W must be empty or (m, o)");
        st.W = Eigen::MatrixXd::Zero(m, o);
    }
    if (st.c.size() != o) {
        if (st.c.size() != 0) throw std::invalid_argument("group_lasso_fista: c must be empty or (o,)");
        st.c = Eigen::VectorXd::Zero(o);
    }
    if (!intercept) st.c.setZero();
    if (!st.W.allFinite() || !st.c.allFinite()) throw std::invalid_argument("group_lasso_fista: the start must be finite");
    loss.check_targets(Y);
    const RowBlocks rb(n);
    const int nt = resolve_threads(n_threads, rb.count);
    std::vector<Eigen::MatrixXd> parts;
    const bool fresh = st.Zw.rows() != m || st.Zw.cols() != o || st.Zc.size() != o || st.F.rows() != n ||
                       st.F.cols() != o || st.FZ.rows() != n || st.FZ.cols() != o;
    if (fresh) {  // start: Z = W, outputs recomputed
        st.Zw = st.W;
        st.Zc = st.c;
        outputs<S>(Phi, st.W, st.c, intercept, rb, nt, st.F);
        st.FZ = st.F;
        st.t = 1.0;
        st.objective = loss.value(st.F, Y) + penalty(st.W, beta);
    }
    if (!(st.Lc > 0.0)) {  // power iteration on Phi^T Phi (backtracking corrects the estimate)
        Eigen::VectorXd v = Eigen::VectorXd::Ones(m) / std::sqrt(static_cast<double>(std::max<Eigen::Index>(m, 1)));
        double sq = 1.0;
        for (int k = 0; k < 8 && m > 0; ++k) {
            const Eigen::Matrix<S, Eigen::Dynamic, 1> vs = v.template cast<S>();
            const Eigen::VectorXd w = (Phi.transpose() * (Phi * vs)).template cast<double>();
            sq = w.norm() / std::max(v.norm(), 1e-300);
            v = w / std::max(w.norm(), 1e-300);
        }
        st.Lc = std::max(loss.gradient_lipschitz() * (sq + (intercept ? static_cast<double>(n) : 0.0)), 1e-12);
    }
    // float products: the loss values carry their rounding (~1e-7 relative, more with the
    // cancellations of centred features); the backtracking and restart tests allow it, or they
    // would shrink the step to nothing on noise
    constexpr double kRound = std::is_same<S, float>::value ? 1e-5 : 0.0;
    Eigen::MatrixXd GZ, gW, A, Wn, Fn, dW;
    Eigen::VectorXd gc = Eigen::VectorXd::Zero(o), cn(o), dc(o);
    const Deadline deadline = thread_deadline();
    for (int it = 0; it < n_iter; ++it) {
        check_interrupt();
        if (deadline.passed()) break;  // max_time: the current iterate
        const double fZ = loss.value_and_gradient(st.FZ, Y, GZ);
        correlations<S>(Phi, GZ, rb, nt, parts, gW);
        if (intercept) gc = GZ.colwise().sum().transpose();
        double fn = 0.0;
        for (;;) {
            A = st.Zw - gW / st.Lc;
            Wn = A;
            const double thr = beta / st.Lc;
            for (Eigen::Index j = 0; j < m; ++j) {  // group soft-thresholding (prox of the penalty)
                const double nr = A.row(j).norm();
                Wn.row(j) *= nr > thr ? 1.0 - thr / nr : 0.0;
            }
            cn = intercept ? Eigen::VectorXd(st.Zc - gc / st.Lc) : Eigen::VectorXd::Zero(o);
            outputs<S>(Phi, Wn, cn, intercept, rb, nt, Fn);
            fn = loss.value(Fn, Y);
            dW = Wn - st.Zw;
            dc = cn - st.Zc;
            const double model = fZ + (gW.array() * dW.array()).sum() + gc.dot(dc) +
                                 0.5 * st.Lc * (dW.squaredNorm() + dc.squaredNorm()) * (1.0 + 1e-12) +
                                 (1e-12 + kRound) * std::abs(fZ);
            if (fn <= model || !std::isfinite(st.Lc) || st.Lc > 1e300) break;
            st.Lc *= 2.0;
        }
        ++st.n_iter;
        const double Jn = fn + penalty(Wn, beta);
        if (Jn > st.objective + kRound * std::abs(st.objective) && st.t > 1.0) {  // restart the momentum from the last iterate
            st.Zw = st.W;
            st.Zc = st.c;
            st.FZ = st.F;
            st.t = 1.0;
            continue;
        }
        const double t_new = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * st.t * st.t));
        const double mom = (st.t - 1.0) / t_new;
        st.Zw = Wn + mom * (Wn - st.W);
        st.Zc = cn + mom * (cn - st.c);
        st.FZ = Fn + mom * (Fn - st.F);
        st.W.swap(Wn);
        st.c = cn;
        st.F.swap(Fn);
        st.objective = Jn;
        st.t = t_new;
        st.Lc *= 0.9;
    }
}

void group_lasso_fista(const Eigen::Ref<const Eigen::MatrixXd>& Phi, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                       const LossFunction& loss, double beta, bool intercept, int n_iter, int n_threads,
                       GroupLassoFistaState& st) {
    fista_impl<double>(Phi, Y, loss, beta, intercept, n_iter, n_threads, st);
}

void group_lasso_fista(const Eigen::Ref<const Eigen::MatrixXf>& Phi, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                       const LossFunction& loss, double beta, bool intercept, int n_iter, int n_threads,
                       GroupLassoFistaState& st) {
    fista_impl<float>(Phi, Y, loss, beta, intercept, n_iter, n_threads, st);
}

}  // namespace fcr
