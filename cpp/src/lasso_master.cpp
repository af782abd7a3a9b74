// Master problem of the cutting-plane method: l1-regularized fit over fixed neurons.
// See cpp/include/fastconvexrelu/lasso_master.hpp for the problem, its dual and the algorithm.
#include "fastconvexrelu/lasso_master.hpp"
#include "fastconvexrelu/interrupt.hpp"
#include "fastconvexrelu/losses.hpp"  // log1pexp, sigmoid_neg

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace fcr {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kInf = std::numeric_limits<double>::infinity();


double binary_entropy(double a) {
    if (a <= 0.0 || a >= 1.0) return 0.0;
    return -a * std::log(a) - (1.0 - a) * std::log1p(-a);
}

double soft(double x, double t) {
    if (x > t) return x - t;
    if (x < -t) return x + t;
    return 0.0;
}

struct Ctx {
    const Eigen::Ref<const MatrixXd>& Phi;
    const Eigen::Ref<const VectorXd>& y;
    Loss loss;
    double beta;
    bool intercept;
};

double loss_value(const Ctx& c, const VectorXd& z) {
    if (c.loss == Loss::Squared) return 0.5 * (z - c.y).squaredNorm();
    double s = 0.0;
    for (Index i = 0; i < z.size(); ++i) s += log1pexp(-c.y[i] * z[i]);
    return s;
}

void loss_grad(const Ctx& c, const VectorXd& z, VectorXd& g) {
    if (c.loss == Loss::Squared) {
        g = z - c.y;
        return;
    }
    g.resize(z.size());
    for (Index i = 0; i < z.size(); ++i) g[i] = -c.y[i] * sigmoid_neg(c.y[i] * z[i]);
}

void loss_hess(const Ctx& c, const VectorXd& z, VectorXd& h) {
    h.resize(z.size());
    if (c.loss == Loss::Squared) {
        h.setOnes();
        return;
    }
    for (Index i = 0; i < z.size(); ++i) {
        const double p = sigmoid_neg(c.y[i] * z[i]);
        h[i] = p * (1.0 - p);
    }
}

double primal_value(const Ctx& c, const VectorXd& z, const VectorXd& w) {
    return loss_value(c, z) + c.beta * w.lpNorm<1>();
}

// D(lambda) - D(s lambda)
double dual_drop(const Ctx& c, const VectorXd& lam, double s) {
    if (s == 1.0) return 0.0;
    if (c.loss == Loss::Squared) {
        const double ll = lam.squaredNorm(), ly = lam.dot(c.y);
        return (1.0 - s) * (-0.5 * (1.0 + s) * ll - ly);
    }
    double d = 0.0;
    for (Index i = 0; i < lam.size(); ++i) {
        const double a = -c.y[i] * lam[i];
        d += binary_entropy(a) - binary_entropy(s * a);
    }
    return d;
}

double neg_conj(const Ctx& c, const VectorXd& lam) {  // D(lam) = -L^*(lam)
    if (c.loss == Loss::Squared) return -0.5 * lam.squaredNorm() - lam.dot(c.y);
    double d = 0.0;
    for (Index i = 0; i < lam.size(); ++i) d += binary_entropy(-c.y[i] * lam[i]);
    return d;
}

// D(lam) - D(mu), term by term (no cancellation between large sums).
double dual_diff(const Ctx& c, const VectorXd& lam, const VectorXd& mu) {
    double d = 0.0;
    if (c.loss == Loss::Squared) {
        // -1/2 l^2 - l y + 1/2 m^2 + m y = (m - l) (1/2 (m + l) + y)
        for (Index i = 0; i < lam.size(); ++i)
            d += (mu[i] - lam[i]) * (0.5 * (mu[i] + lam[i]) + c.y[i]);
        return d;
    }
    for (Index i = 0; i < lam.size(); ++i)
        d += binary_entropy(-c.y[i] * lam[i]) - binary_entropy(-c.y[i] * mu[i]);
    return d;
}

// The zero-sum dual candidate of the intercept problem (1^T mu = 0, see the header): squared,
// centering; logistic, a = -y o mu in [0, 1] with the larger class sum scaled to the smaller.
void make_zero_sum(const Ctx& c, VectorXd& mu) {
    if (c.loss == Loss::Squared) {
        mu.array() -= mu.mean();
        return;
    }
    double ap = 0.0, am = 0.0;
    for (Index i = 0; i < mu.size(); ++i) (c.y[i] > 0 ? ap : am) += -c.y[i] * mu[i];
    if (ap == am) return;
    const bool shrink_pos = ap > am;
    const double ratio = shrink_pos ? am / ap : ap / am;
    for (Index i = 0; i < mu.size(); ++i)
        if ((c.y[i] > 0) == shrink_pos) mu[i] *= ratio;
}

// Best s in [0, s_max] for D(s lambda) (concave in s).
double best_scale(const Ctx& c, const VectorXd& lam, double s_max) {
    if (c.loss == Loss::Squared) {
        const double ll = lam.squaredNorm();
        if (ll == 0.0) return std::isfinite(s_max) ? std::min(1.0, s_max) : 1.0;
        const double s = -lam.dot(c.y) / ll;
        return std::clamp(s, 0.0, s_max);
    }
    // logistic: phi'(s) = sum a_i log((1 - s a_i) / (s a_i)), decreasing in s
    auto dphi = [&](double s) {
        double d = 0.0;
        for (Index i = 0; i < lam.size(); ++i) {
            const double a = -c.y[i] * lam[i];
            if (a <= 0.0) continue;
            const double sa = s * a;
            if (sa >= 1.0) return -kInf;
            d += a * (std::log1p(-sa) - std::log(sa));
        }
        return d;
    };
    if (!(dphi(s_max) < 0.0)) return s_max;
    double lo = 0.0, hi = s_max;
    for (int it = 0; it < 100 && hi - lo > 1e-16 * s_max; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (dphi(mid) >= 0.0) lo = mid; else hi = mid;
    }
    return lo;
}

// Certificate of the current (w, cc) (z = Phi w + cc must be up to date).
void certify(const Ctx& c, const VectorXd& w, double cc, const VectorXd& z, LassoMasterResult& r) {
    VectorXd lam;
    loss_grad(c, z, lam);
    VectorXd mu = lam;  // dual candidate (intercept: its zero-sum version)
    if (c.intercept) make_zero_sum(c, mu);
    const VectorXd g = c.Phi.transpose() * mu;
    const double ginf = g.size() ? g.lpNorm<Eigen::Infinity>() : 0.0;
    double s_max = ginf > 0.0 ? c.beta / ginf : kInf;
    if (c.loss == Loss::Logistic) {
        double amax = 0.0;
        for (Index i = 0; i < mu.size(); ++i) amax = std::max(amax, -c.y[i] * mu[i]);
        if (amax > 0.0) s_max = std::min(s_max, 1.0 / amax);
    }
    const double s = best_scale(c, mu, s_max);
    // P(w, c) - D(lambda) = sum_j |w_j| (beta + sign(w_j) (Phi^T lambda)_j) + c 1^T lambda
    const VectorXd glam = c.intercept ? VectorXd(c.Phi.transpose() * lam) : g;
    double pd = c.intercept ? cc * lam.sum() : 0.0;
    for (Index j = 0; j < w.size(); ++j) {
        if (w[j] != 0.0) pd += std::abs(w[j]) * (c.beta + (w[j] > 0 ? glam[j] : -glam[j]));
    }
    r.primal = primal_value(c, z, w);
    r.scale = s;
    r.grad = lam;
    r.dual = s * mu;
    r.intercept = cc;
    r.dual_value = neg_conj(c, r.dual);
    r.gap = std::max(0.0, pd + (c.intercept ? dual_diff(c, lam, r.dual) : dual_drop(c, lam, s)));
    // never report less than the directly computed difference allows (rounding guard)
    r.gap = std::max(r.gap, r.primal - r.dual_value - 1e-15 * std::abs(r.primal));
    r.gap = std::max(r.gap, 0.0);
    r.w = w;
    r.fitted = z;
}

// One step on the support S = {j : w_j != 0} with signs s; returns true if accepted (w, z, P
// updated).  On S the objective is the smooth F(w_S) = L(Phi_S w_S) + beta s^T w_S as long as no
// sign changes.  With the eigen-decomposition H = Phi_S^T diag(h) Phi_S = V Lambda V^T:
//  * if the gradient g of F has a component in ker H (= ker Phi_S: dependent columns, e.g.
//    neurons sharing an activation pattern), F decreases LINEARLY along e = -P_ker g while
//    Phi w stays fixed: step exactly to the first sign change (that coordinate becomes 0), so
//    the support shrinks to independent columns;
//  * otherwise the Newton direction d = -H^+ g (exact minimizer for the squared loss),
//    truncated at the first sign change, with Armijo backtracking on the true objective.
//  With an intercept, c is one more coordinate (column 1, no sign, no penalty).
bool newton_step(const Ctx& c, VectorXd& w, double& cc, VectorXd& z, double& P) {
    std::vector<Index> S;
    for (Index j = 0; j < w.size(); ++j)
        if (w[j] != 0.0) S.push_back(j);
    const Index ks = static_cast<Index>(S.size());  // sign-constrained coordinates
    const Index k = ks + (c.intercept ? 1 : 0);
    if (k == 0) return false;
    const Index n = c.Phi.rows();
    MatrixXd PS(n, k);
    VectorXd sg(k), wS(k);
    for (Index a = 0; a < ks; ++a) {
        PS.col(a) = c.Phi.col(S[a]);
        sg[a] = w[S[a]] > 0 ? 1.0 : -1.0;
        wS[a] = w[S[a]];
    }
    if (c.intercept) {
        PS.col(ks).setOnes();
        sg[ks] = 0.0;
        wS[ks] = cc;
    }
    VectorXd lam, h;
    loss_grad(c, z, lam);
    loss_hess(c, z, h);
    const VectorXd g = PS.transpose() * lam + c.beta * sg;
    const MatrixXd HP = PS.transpose() * h.asDiagonal() * PS;
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(HP);
    if (es.info() != Eigen::Success) return false;
    const VectorXd& ev = es.eigenvalues();  // ascending
    const MatrixXd& V = es.eigenvectors();
    const double emax = std::max(ev[k - 1], 0.0);
    const double etol = emax * 1e-12 * static_cast<double>(k);
    Index r0 = 0;  // eigenvalues [0, r0) are treated as zero
    while (r0 < k && ev[r0] <= etol) ++r0;
    const VectorXd gV = V.transpose() * g;
    VectorXd d = VectorXd::Zero(k);
    bool linear = false;
    if (r0 > 0) {
        const VectorXd gnull = V.leftCols(r0) * gV.head(r0);
        if (gnull.norm() > 1e-12 * (g.norm() + c.beta * std::sqrt(static_cast<double>(k)))) {
            d = -gnull;
            linear = true;
        }
    }
    if (!linear) {
        if (r0 == k) return false;
        d = -V.rightCols(k - r0) * (gV.tail(k - r0).array() / ev.tail(k - r0).array()).matrix();
    }
    if (!d.allFinite()) return false;
    const double descent = g.dot(d);
    if (!(descent < 0.0)) return false;
    double t_max = kInf;
    Index bind = -1;
    for (Index a = 0; a < ks; ++a) {
        if (wS[a] * d[a] < 0.0) {
            const double t = -wS[a] / d[a];
            if (t < t_max) {
                t_max = t;
                bind = a;
            }
        }
    }
    if (linear && !std::isfinite(t_max)) return false;
    double t = linear ? t_max : std::min(1.0, t_max);
    for (int tries = 0; tries < 40; ++tries) {
        VectorXd wn = w;
        for (Index a = 0; a < ks; ++a) {
            double v = wS[a] + t * d[a];
            if (v * sg[a] <= 0.0 || (t == t_max && a == bind)) v = 0.0;
            wn[S[a]] = v;
        }
        const double cn = c.intercept ? cc + t * d[ks] : 0.0;
        VectorXd zn = c.Phi * wn;
        if (c.intercept) zn.array() += cn;
        const double Pn = primal_value(c, zn, wn);
        if (Pn <= P + 1e-4 * t * descent || (linear && Pn <= P)) {
            w = wn;
            cc = cn;
            z = zn;
            P = Pn;
            return true;
        }
        t *= 0.5;
    }
    return false;
}

// One proximal Newton step: minimize the quadratic model of the loss at z plus
// the l1 penalty,
//     Q(w', c') = sum_i [lambda_i dz_i + 1/2 h_i dz_i^2] + beta ||w'||_1,
//     dz = Phi (w' - w) + (c' - c) 1,   lambda = grad L(z),  h = diag of the Hessian,
// by cyclic coordinate descent (exact coordinate minimization; the intercept, if any, is one more
// unpenalized coordinate), then an Armijo backtracking line search on the true P along
// d = (w' - w, c' - c) with the prox-Newton decrease
// Delta = lambda^T dz + beta (||w'||_1 - ||w||_1) < 0.  Unlike the support steps, the model
// handles dependent columns (e.g. several all-active neurons) without cycling.  Returns false if
// no decrease was found (w, cc, z, P unchanged).
bool prox_newton_step(const Ctx& c, VectorXd& w, double& cc, VectorXd& z, double& P) {
    const Index n = c.Phi.rows(), m = c.Phi.cols();
    VectorXd lam, h;
    loss_grad(c, z, lam);
    loss_hess(c, z, h);
    for (Index i = 0; i < n; ++i) h[i] = std::max(h[i], 1e-12);
    VectorXd a(m);  // weighted column norms
    for (Index j = 0; j < m; ++j) a[j] = c.Phi.col(j).cwiseAbs2().dot(h);
    const double hsum = h.sum();
    VectorXd wn = w;
    double cn = cc;
    VectorXd dz = VectorXd::Zero(n);  // Phi (wn - w) + (cn - cc)
    const double scale = P > 0 ? P : 1.0;
    for (int sweep = 0; sweep < 200; ++sweep) {
        double change = 0.0;
        for (Index j = 0; j < m; ++j) {
            if (a[j] <= 0.0) continue;
            const auto col = c.Phi.col(j);
            double gj = 0.0;
            for (Index i = 0; i < n; ++i)
                if (col[i] != 0.0) gj += col[i] * (lam[i] + h[i] * dz[i]);
            const double v = soft(wn[j] - gj / a[j], c.beta / a[j]);
            if (v != wn[j]) {
                const double dv = v - wn[j];
                dz.noalias() += dv * col;
                wn[j] = v;
                change = std::max(change, a[j] * dv * dv);
            }
        }
        if (c.intercept) {
            const double gc = (lam.array() + h.array() * dz.array()).sum();
            const double dc = -gc / hsum;
            dz.array() += dc;
            cn += dc;
            change = std::max(change, hsum * dc * dc);
        }
        if (change <= 1e-16 * scale) break;
    }
    const double delta = lam.dot(dz) + c.beta * (wn.lpNorm<1>() - w.lpNorm<1>());
    if (!(delta < 0.0)) return false;
    double t = 1.0;
    for (int tries = 0; tries < 40; ++tries) {
        VectorXd wt = w + t * (wn - w);
        VectorXd zt = z + t * dz;
        const double Pt = primal_value(c, zt, wt);
        if (Pt <= P + 1e-4 * t * delta) {
            w = wt;
            cc += t * (cn - cc);
            z = c.Phi * w;  // no drift
            if (c.intercept) z.array() += cc;
            P = primal_value(c, z, w);
            return true;
        }
        t *= 0.5;
    }
    return false;
}

// One update of the intercept alone (z = Phi w + cc kept up to date): squared, the exact
// minimizer; logistic, a Newton step with Armijo backtracking (monotone in the loss).
void update_intercept(const Ctx& c, double& cc, VectorXd& z) {
    const double n = static_cast<double>(z.size());
    if (c.loss == Loss::Squared) {
        const double delta = -(z - c.y).sum() / n;
        cc += delta;
        z.array() += delta;
        return;
    }
    VectorXd lam, h;
    loss_grad(c, z, lam);
    loss_hess(c, z, h);
    const double g = lam.sum(), hs = h.sum();
    if (g == 0.0) return;
    const double d = hs > 0.0 ? -g / hs : (g > 0 ? -1.0 : 1.0);
    const double L0 = loss_value(c, z);
    double t = 1.0;
    for (int tries = 0; tries < 60; ++tries) {
        VectorXd zn = z;
        zn.array() += t * d;
        if (loss_value(c, zn) <= L0 + 1e-4 * t * g * d) {
            cc += t * d;
            z = zn;
            return;
        }
        t *= 0.5;
    }
}

void check_inputs(const Eigen::Ref<const MatrixXd>& Phi, const Eigen::Ref<const VectorXd>& y,
                  const LassoMasterOptions& opt, const Eigen::Ref<const VectorXd>& w0) {
    if (opt.loss == Loss::Hinge)
        throw std::invalid_argument(
            "lasso_master: the hinge loss is not supported (use an LP solver for it)");
    if (!(opt.beta > 0.0) || !std::isfinite(opt.beta))
        throw std::invalid_argument("lasso_master: beta must be a finite number > 0");
    if (!(opt.tol >= 0.0) || !std::isfinite(opt.tol))
        throw std::invalid_argument("lasso_master: tol must be a finite number >= 0");
    if (Phi.rows() != y.size())
        throw std::invalid_argument("lasso_master: Phi has " + std::to_string(Phi.rows()) +
                                    " rows but y has " + std::to_string(y.size()) + " entries");
    if (y.size() == 0) throw std::invalid_argument("lasso_master: empty problem (n = 0)");
    if (w0.size() != 0 && w0.size() != Phi.cols())
        throw std::invalid_argument("lasso_master: w0 must be empty or have one entry per column of Phi");
    if (!Phi.allFinite() || !y.allFinite() || !w0.allFinite())
        throw std::invalid_argument("lasso_master: Phi, y and w0 must be finite");
    if (opt.loss == Loss::Logistic) {
        for (Index i = 0; i < y.size(); ++i)
            if (y[i] != 1.0 && y[i] != -1.0)
                throw std::invalid_argument("lasso_master: logistic labels must be -1 or +1");
        if (opt.intercept && (y.array() == y[0]).all())
            throw std::invalid_argument(
                "lasso_master: the logistic loss with an intercept needs labels of both classes "
                "(no minimizer otherwise)");
    }
}

}  // namespace

LassoMasterResult lasso_certificate(const Eigen::Ref<const MatrixXd>& Phi,
                                    const Eigen::Ref<const VectorXd>& y,
                                    const LassoMasterOptions& opt,
                                    const Eigen::Ref<const VectorXd>& w, double cc) {
    if (w.size() != Phi.cols())
        throw std::invalid_argument("lasso_certificate: w must have one entry per column of Phi");
    check_inputs(Phi, y, opt, w);
    if (!std::isfinite(cc)) throw std::invalid_argument("lasso_certificate: c must be finite");
    const Ctx c{Phi, y, opt.loss, opt.beta, opt.intercept};
    if (!opt.intercept) cc = 0.0;
    LassoMasterResult r;
    VectorXd wv = w;
    VectorXd z = Phi * wv;
    z.array() += cc;
    certify(c, wv, cc, z, r);
    r.converged = r.gap <= opt.tol * std::max(r.primal, std::numeric_limits<double>::min());
    r.message = "certificate only";
    return r;
}

LassoMasterResult lasso_master(const Eigen::Ref<const MatrixXd>& Phi,
                               const Eigen::Ref<const VectorXd>& y,
                               const LassoMasterOptions& opt,
                               const Eigen::Ref<const VectorXd>& w0, double c0) {
    check_inputs(Phi, y, opt, w0);
    if (!std::isfinite(c0)) throw std::invalid_argument("lasso_master: c0 must be finite");
    const Ctx c{Phi, y, opt.loss, opt.beta, opt.intercept};
    double cc = opt.intercept ? c0 : 0.0;
    const Index m = Phi.cols();
    VectorXd w = w0.size() ? VectorXd(w0) : VectorXd::Zero(m);
    VectorXd col_sq(m);
    for (Index j = 0; j < m; ++j) {
        col_sq[j] = Phi.col(j).squaredNorm();
        if (col_sq[j] == 0.0) w[j] = 0.0;
    }
    VectorXd z = Phi * w;
    z.array() += cc;
    if (opt.intercept)  // the intercept's own optimum for the warm-start w
        for (int t = 0; t < 5; ++t) update_intercept(c, cc, z);
    LassoMasterResult r;
    auto done = [&](LassoMasterResult& rr) {
        return rr.gap <= opt.tol * std::max(rr.primal, std::numeric_limits<double>::min());
    };
    certify(c, w, cc, z, r);
    double P = r.primal;
    // up to two more Newton steps on the final support (quadratic convergence makes the
    // gradient, i.e. the dual point, accurate to far below sqrt(tol); kept only if P decreases),
    // then the certificate of the result
    auto polish_and_certify = [&]() {
        for (int t = 0; t < 2; ++t) {
            if (!newton_step(c, w, cc, z, P)) break;
            ++r.n_newton;
        }
        const int newton = r.n_newton;
        certify(c, w, cc, z, r);
        r.n_newton = newton;
    };
    if (done(r)) {
        polish_and_certify();
        r.converged = done(r);
        r.message = "converged: restricted duality gap below tol (warm start)";
        if (r.converged) return r;
    }
    const bool sq = opt.loss == Loss::Squared;
    const double curv = sq ? 1.0 : 0.25;
    const Deadline deadline = thread_deadline();  // max_time of the caller
    int epoch = 0;
    for (epoch = 1; epoch <= opt.max_epochs; ++epoch) {
        check_interrupt();
        if (deadline.passed()) break;  // max_time: the current iterate
        // a proximal Newton step (squared: the model is exact), then the coordinate sweep
        if (prox_newton_step(c, w, cc, z, P)) {
            ++r.n_newton;
            certify(c, w, cc, z, r);
            if (done(r)) break;
        }
        for (Index j = 0; j < m; ++j) {
            if (col_sq[j] == 0.0) continue;
            double gj;
            if (sq) {
                gj = Phi.col(j).dot(z - y);
            } else {
                gj = 0.0;
                const auto col = Phi.col(j);
                for (Index i = 0; i < z.size(); ++i)
                    if (col[i] != 0.0) gj -= col[i] * y[i] * sigmoid_neg(y[i] * z[i]);
            }
            const double L = curv * col_sq[j];
            const double wn = soft(w[j] - gj / L, opt.beta / L);
            if (wn != w[j]) {
                z.noalias() += (wn - w[j]) * Phi.col(j);
                w[j] = wn;
            }
        }
        if (opt.intercept) update_intercept(c, cc, z);
        z = Phi * w;  // no drift
        z.array() += cc;
        P = primal_value(c, z, w);
        certify(c, w, cc, z, r);
        if (done(r)) break;
        // Newton / support-reduction steps on the current support (each accepted step
        // decreases P; the support can only shrink during the linear steps)
        const int max_steps = 10;
        bool stop = false;
        for (int t = 0; t < max_steps; ++t) {
            if (!newton_step(c, w, cc, z, P)) break;
            ++r.n_newton;
            certify(c, w, cc, z, r);
            if ((stop = done(r))) break;
        }
        if (stop) break;
    }
    polish_and_certify();
    r.n_epochs = std::min(epoch, opt.max_epochs);
    r.converged = done(r);
    std::ostringstream msg;
    msg << (r.converged ? "converged" : "not converged") << ": restricted duality gap " << r.gap
        << (r.converged ? " <= " : " > ") << "tol * primal after " << r.n_epochs
        << " sweeps and " << r.n_newton << " Newton steps";
    r.message = msg.str();
    return r;
}

}  // namespace fcr
