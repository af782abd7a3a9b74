#include "fastconvexrelu/gram_lasso.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace fcr {

using Index = Eigen::Index;

namespace {

double soft(double z, double t) { return z > t ? z - t : (z < -t ? z + t : 0.0); }

struct ColumnState {
    double primal = 0.0, gap = 0.0;
};

// Primal value and duality gap of one column (see the header).
ColumnState certificate(const Eigen::VectorXd& w, const Eigen::VectorXd& g,
                        const Eigen::Ref<const Eigen::VectorXd>& c, double yy, double beta) {
    const double cw = c.dot(w);
    const double wg = w.dot(g);
    const double rr = std::max(0.0, yy - cw + wg);  // ||r||^2 = yy - 2 c^T w + w^T G w
    const double yr = yy - cw;                      // y^T r
    const double l1 = w.lpNorm<1>();
    ColumnState s;
    s.primal = 0.5 * rr + beta * l1;
    const double ginf = g.size() ? g.lpNorm<Eigen::Infinity>() : 0.0;
    double smax = ginf > 0.0 ? beta / ginf : std::numeric_limits<double>::infinity();
    double sc = rr > 0.0 ? yr / rr : smax;
    sc = std::clamp(sc, 0.0, smax);
    if (!std::isfinite(sc)) sc = 0.0;
    const double dual = sc * yr - 0.5 * sc * sc * rr;  // D(s r)
    s.gap = std::max(0.0, s.primal - dual);
    return s;
}


// Large supports: the Newton direction by Jacobi-preconditioned conjugate gradients on
// (G_SS + ridge I) d = rhs, at most max_iter iterations or until ||residual|| <= 1e-8 ||rhs||.
// An inexact direction is safe: the caller accepts a step only where the objective decreases.
Eigen::VectorXd newton_direction_cg(const Eigen::MatrixXd& Gs, const Eigen::VectorXd& rhs,
                                    double ridge, int max_iter) {
    const Eigen::Index k = rhs.size();
    Eigen::VectorXd d = Eigen::VectorXd::Zero(k), r = rhs;
    const Eigen::VectorXd inv_diag =
        (Gs.diagonal().array() + ridge).max(1e-300).inverse().matrix();
    Eigen::VectorXd z = inv_diag.cwiseProduct(r), q = z, Aq(k);
    double rz = r.dot(z);
    const double stop = 1e-16 * rhs.squaredNorm();
    for (int it = 0; it < max_iter && r.squaredNorm() > stop; ++it) {
        Aq.noalias() = Gs.selfadjointView<Eigen::Lower>() * q;
        Aq += ridge * q;
        const double qAq = q.dot(Aq);
        if (!(qAq > 0.0)) break;
        const double alpha = rz / qAq;
        d += alpha * q;
        r -= alpha * Aq;
        z = inv_diag.cwiseProduct(r);
        const double rz_new = r.dot(z);
        q = z + (rz_new / rz) * q;
        rz = rz_new;
    }
    return d;
}

}  // namespace

GramLassoResult gram_lasso(const Eigen::Ref<const Eigen::MatrixXd>& G,
                           const Eigen::Ref<const Eigen::MatrixXd>& Cm,
                           const Eigen::Ref<const Eigen::VectorXd>& yy,
                           const GramLassoOptions& o,
                           const Eigen::Ref<const Eigen::MatrixXd>& W0) {
    const Deadline deadline = thread_deadline();  // max_time of the caller (workers use it)
    const Index p = G.rows(), m = Cm.cols();
    if (G.cols() != p) throw std::invalid_argument("gram_lasso: G must be square");
    if (Cm.rows() != p) throw std::invalid_argument("gram_lasso: Cm must have p rows");
    if (yy.size() != m) throw std::invalid_argument("gram_lasso: yy must have one entry per column");
    if (!(o.beta > 0.0) || !std::isfinite(o.beta)) throw std::invalid_argument("gram_lasso: beta must be > 0");
    if (!(o.tol >= 0.0)) throw std::invalid_argument("gram_lasso: tol must be >= 0");
    if (o.max_epochs < 1) throw std::invalid_argument("gram_lasso: max_epochs must be >= 1");
    if (!G.allFinite() || !Cm.allFinite() || !yy.allFinite())
        throw std::invalid_argument("gram_lasso: G, Cm and yy must be finite");
    if (p && G.diagonal().minCoeff() < 0.0)
        throw std::invalid_argument("gram_lasso: G must have a non-negative diagonal");
    const bool warm = W0.size() != 0;
    if (warm && (W0.rows() != p || W0.cols() != m))
        throw std::invalid_argument("gram_lasso: W0 must be empty or p x m");

    GramLassoResult res;
    res.W = warm ? Eigen::MatrixXd(W0) : Eigen::MatrixXd::Zero(p, m);
    res.primal.resize(m);
    res.gap.resize(m);
    res.n_epochs.resize(m);
    res.converged.assign(static_cast<std::size_t>(m), false);
    std::vector<char> conv(static_cast<std::size_t>(m), 0);
    const double beta = o.beta;

    auto solve = [&](Index c) {
        Eigen::VectorXd w = res.W.col(c);
        const auto cc = Cm.col(c);
        Eigen::VectorXd g = G * w - cc;  // gradient of 1/2 ||Xw - y||^2
        auto sweep = [&](bool active_only) {
            double max_delta = 0.0;
            for (Index j = 0; j < p; ++j) {
                const double wj = w(j);
                if (active_only && wj == 0.0) continue;
                const double gjj = G(j, j);
                if (gjj <= 0.0) continue;  // zero column: w_j = 0 is optimal
                const double nw = soft(gjj * wj - g(j), beta) / gjj;
                const double delta = nw - wj;
                if (delta != 0.0) {
                    w(j) = nw;
                    g.noalias() += delta * G.col(j);
                    max_delta = std::max(max_delta, std::abs(delta) * std::sqrt(gjj));
                }
            }
            return max_delta;
        };
        // Projected Newton step on the support S with the signs fixed: F restricted to S is
        // the quadratic 1/2 w_S^T G_SS w_S - (c_S - beta sign(w_S))^T w_S, minimized at
        // w_S + d, G_SS d = -(g_S + beta sign(w_S)).  Trial points w_S + t d with entries
        // that change sign set to 0 (orthant projection), t = 1, 1/2, ... until F decreases
        // (checked exactly); a tiny ridge keeps G_SS factorizable when features are collinear.
        auto newton = [&]() {
            std::vector<Index> S;
            for (Index j = 0; j < p; ++j)
                if (w(j) != 0.0) S.push_back(j);
            const Index k = static_cast<Index>(S.size());
            if (k == 0 || k > o.max_newton) return;
            Eigen::MatrixXd Gs(k, k);
            Eigen::VectorXd rhs(k), gS(k), wS(k);
            for (Index b = 0; b < k; ++b)
                for (Index a = 0; a < k; ++a) Gs(a, b) = G(S[a], S[b]);
            for (Index a = 0; a < k; ++a) {
                wS(a) = w(S[a]);
                gS(a) = g(S[a]);
                rhs(a) = -(gS(a) + beta * (wS(a) > 0 ? 1.0 : -1.0));
            }
            const double ridge = 1e-12 * std::max(Gs.diagonal().maxCoeff(), 1e-300);
            Eigen::VectorXd d;
            if (k <= o.direct_newton_max) {
                Eigen::MatrixXd Gr = Gs;
                Gr.diagonal().array() += ridge;
                Eigen::LLT<Eigen::MatrixXd> llt(Gr);
                if (llt.info() != Eigen::Success) return;
                d = llt.solve(rhs);
            } else {
                d = newton_direction_cg(Gs, rhs, ridge, o.newton_cg_iter);
            }
            if (!d.allFinite()) return;
            const double l1 = wS.lpNorm<1>();
            Eigen::VectorXd delta(k);
            for (double t = 1.0; t > 1e-6; t *= 0.5) {
                for (Index a = 0; a < k; ++a) {
                    const double nw = wS(a) + t * d(a);
                    delta(a) = (nw * wS(a) > 0.0 ? nw : 0.0) - wS(a);
                }
                // F(w + delta) - F(w) = delta^T g + 1/2 delta^T G delta + beta (|w+delta|_1 - |w|_1)
                const double dF = delta.dot(gS) + 0.5 * delta.dot(Gs * delta) +
                                  beta * ((wS + delta).lpNorm<1>() - l1);
                if (dF < 0.0) {
                    for (Index a = 0; a < k; ++a) {
                        if (delta(a) == 0.0) continue;
                        w(S[a]) += delta(a);
                        if (wS(a) + delta(a) == 0.0) w(S[a]) = 0.0;
                        g.noalias() += delta(a) * G.col(S[a]);
                    }
                    return;
                }
            }
        };
        ColumnState st = certificate(w, g, cc, yy(c), beta);
        int epoch = 0;
        while (!(st.gap <= o.tol * st.primal) && epoch < o.max_epochs) {
            check_interrupt();
            if (deadline.passed()) break;  // max_time: the current iterate
            sweep(false);
            ++epoch;
            for (int inner = 0; inner < 10; ++inner)
                if (sweep(true) <= 1e-3 * std::sqrt(std::max(st.primal, 1e-300))) break;
            if (o.max_newton > 0) newton();
            if ((epoch & 7) == 0) g.noalias() = G * w - cc;  // refresh: no drift
            st = certificate(w, g, cc, yy(c), beta);
        }
        g.noalias() = G * w - cc;
        st = certificate(w, g, cc, yy(c), beta);
        res.W.col(c) = w;
        res.primal(c) = st.primal;
        res.gap(c) = st.gap;
        res.n_epochs(c) = epoch;
        conv[static_cast<std::size_t>(c)] = st.gap <= o.tol * st.primal;
    };

    int nt = o.n_threads;
    if (nt <= 0) nt = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    nt = static_cast<int>(std::max<Index>(1, std::min<Index>(nt, m)));
    parallel_for(m, nt, [&](int, Index c) { solve(c); });
    for (Index c = 0; c < m; ++c) res.converged[static_cast<std::size_t>(c)] = conv[static_cast<std::size_t>(c)] != 0;
    return res;
}

}  // namespace fcr
