// Group-lasso master of the weight-decay vector-output model; see group_lasso.hpp.
#include "fastconvexrelu/group_lasso.hpp"
#include "fastconvexrelu/interrupt.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace fcr {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// grad L for row i of F (squared / huber / softmax / logistic), written into G.row(i).
void row_gradient(const LossFunction& loss, const MatrixXd& F, const Eigen::Ref<const MatrixXd>& Y, Index i,
                  MatrixXd& G) {
    const Index o = F.cols();
    switch (loss.kind()) {
        case LossKind::Squared:
            G.row(i) = F.row(i) - Y.row(i);
            return;
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k) G(i, k) = std::clamp(F(i, k) - Y(i, k), -loss.delta(), loss.delta());
            return;
        case LossKind::Logistic:
            G(i, 0) = -Y(i, 0) * sigmoid_neg(Y(i, 0) * F(i, 0));
            return;
        case LossKind::Softmax: {
            const double mx = F.row(i).maxCoeff();
            double e = 0.0;
            for (Index k = 0; k < o; ++k) e += (G(i, k) = std::exp(F(i, k) - mx));
            for (Index k = 0; k < o; ++k) G(i, k) = G(i, k) / e - Y(i, k);
            return;
        }
        case LossKind::Hinge: break;
    }
    throw std::invalid_argument("group_lasso: the hinge loss is not supported");
}

// L restricted to row i of F (the losses are sums over rows).
double row_loss(const LossFunction& loss, const Eigen::Ref<const Eigen::RowVectorXd>& f,
                const Eigen::Ref<const MatrixXd>& Y, Index i) {
    const Index o = f.size();
    double s = 0.0;
    switch (loss.kind()) {
        case LossKind::Squared:
            return 0.5 * (f - Y.row(i)).squaredNorm();
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k) {
                const double a = std::abs(f(k) - Y(i, k)), d = loss.delta();
                s += a <= d ? 0.5 * a * a : d * (a - 0.5 * d);
            }
            return s;
        case LossKind::Logistic:
            return log1pexp(-Y(i, 0) * f(0));
        case LossKind::Softmax: {
            const double mx = f.maxCoeff();
            for (Index k = 0; k < o; ++k) s += std::exp(f(k) - mx);
            return mx + std::log(s) - f.dot(Y.row(i));
        }
        case LossKind::Hinge: break;
    }
    throw std::invalid_argument("group_lasso: the hinge loss is not supported");
}

}  // namespace

GroupLassoResult group_lasso(const Eigen::Ref<const MatrixXd>& Phi, const Eigen::Ref<const MatrixXd>& Y,
                             const LossFunction& loss, const GroupLassoOptions& opt,
                             const Eigen::Ref<const MatrixXd>& W0, const Eigen::Ref<const VectorXd>& c0) {
    const Index n = Phi.rows(), m = Phi.cols(), o = Y.cols();
    if (loss.kind() == LossKind::Hinge) throw std::invalid_argument("group_lasso: the hinge loss is not supported");
    if (Y.rows() != n) throw std::invalid_argument("group_lasso: Phi and Y must have the same number of rows");
    if (n == 0 || o == 0) throw std::invalid_argument("group_lasso: Y must be non-empty");
    if (!(std::isfinite(opt.beta) && opt.beta > 0)) throw std::invalid_argument("group_lasso: beta must be > 0");
    if (!(opt.tol >= 0)) throw std::invalid_argument("group_lasso: tol must be >= 0");
    if (opt.max_epochs < 1) throw std::invalid_argument("group_lasso: max_epochs must be >= 1");
    if (!Phi.allFinite() || !Y.allFinite()) throw std::invalid_argument("group_lasso: Phi and Y must be finite");
    loss.check_targets(Y);
    const bool warm_w = W0.size() > 0, warm_c = c0.size() > 0;
    if (warm_w && (W0.rows() != m || W0.cols() != o))
        throw std::invalid_argument("group_lasso: W0 must be empty or of shape (m, o)");
    if (warm_c && c0.size() != o) throw std::invalid_argument("group_lasso: c0 must be empty or of length o");
    if ((warm_w && !W0.allFinite()) || (warm_c && !c0.allFinite()))
        throw std::invalid_argument("group_lasso: W0 and c0 must be finite");

    const double beta = opt.beta, lip = loss.gradient_lipschitz();
    GroupLassoResult r;
    r.W = warm_w ? MatrixXd(W0) : MatrixXd::Zero(m, o);
    r.c = (warm_c && opt.intercept) ? VectorXd(c0) : VectorXd::Zero(o);
    r.F = Phi * r.W;
    r.F.rowwise() += r.c.transpose();
    loss.value_and_gradient(r.F, Y, r.grad);
    MatrixXd& G = r.grad;

    VectorXd lj(m);
    std::vector<std::vector<Index>> support(static_cast<std::size_t>(m));  // rows with phi_ij != 0
    for (Index j = 0; j < m; ++j) {
        lj(j) = lip * Phi.col(j).squaredNorm();
        for (Index i = 0; i < n; ++i)
            if (Phi(i, j) != 0.0) support[static_cast<std::size_t>(j)].push_back(i);
    }
    VectorXd g(o), z(o), dw(o);

    // Block curvature estimates (not for the squared loss, whose block step is exact): start
    // each step at half the last accepted L_j, at most the global bound Lip ||phi_j||^2, and
    // double until L(F + phi_j dw^T) <= L(F) + g^T dw + L_j/2 ||dw||^2 (backtracking; the step
    // is then a majorize-minimize step of the block objective, so P never increases).
    const bool exact_quadratic = loss.kind() == LossKind::Squared;
    VectorXd lcur = lj;
    Eigen::RowVectorXd frow(o);
    // one block step on w_j (eq. in the header); returns whether w_j changed
    auto block = [&](Index j) {
        if (lj(j) <= 0) return false;
        const auto& S = support[static_cast<std::size_t>(j)];
        g.setZero();
        for (Index i : S) g += Phi(i, j) * G.row(i).transpose();
        double Lb = exact_quadratic ? lj(j) : std::min(lj(j), std::max(lcur(j) * 0.5, 1e-12 * lj(j)));
        for (int bt = 0; bt < 60; ++bt) {
            z = r.W.row(j).transpose() - g / Lb;
            const double zn = z.norm(), thr = beta / Lb;
            if (zn <= thr) z.setZero();
            else z *= (1.0 - thr / zn);
            dw = z - r.W.row(j).transpose();
            if (dw.squaredNorm() == 0.0) {
                lcur(j) = Lb;
                return false;
            }
            if (exact_quadratic || Lb >= lj(j)) break;
            // sufficient decrease: L(new) <= L(old) + g^T dw + Lb/2 ||dw||^2
            double lold = 0.0, lnew = 0.0;
            for (Index i : S) {
                lold += row_loss(loss, r.F.row(i), Y, i);
                frow = r.F.row(i) + Phi(i, j) * dw.transpose();
                lnew += row_loss(loss, frow, Y, i);
            }
            if (lnew <= lold + g.dot(dw) + 0.5 * Lb * dw.squaredNorm() + 1e-15 * std::abs(lold)) break;
            Lb = std::min(lj(j), 2.0 * Lb);
        }
        lcur(j) = Lb;
        r.W.row(j) = z.transpose();
        for (Index i : S) {
            r.F.row(i) += Phi(i, j) * dw.transpose();
            row_gradient(loss, r.F, Y, i, G);
        }
        return true;
    };
    double lc = lip * static_cast<double>(n);
    VectorXd gc(o);
    MatrixXd Fc;
    auto intercept_step = [&]() {
        if (!opt.intercept) return;
        gc = G.colwise().sum().transpose();
        const double cap = lip * static_cast<double>(n);
        double Lb = exact_quadratic ? cap : std::min(cap, std::max(0.5 * lc, 1e-12 * cap));
        for (int bt = 0; bt < 60; ++bt) {
            dw = -gc / Lb;
            if (exact_quadratic || Lb >= cap) break;
            Fc = r.F;
            Fc.rowwise() += dw.transpose();
            const double lold = loss.value(r.F, Y), lnew = loss.value(Fc, Y);
            if (lnew <= lold + gc.dot(dw) + 0.5 * Lb * dw.squaredNorm() + 1e-15 * std::abs(lold)) break;
            Lb = std::min(cap, 2.0 * Lb);
        }
        lc = Lb;
        r.c += dw;
        r.F.rowwise() += dw.transpose();
        for (Index i = 0; i < n; ++i) row_gradient(loss, r.F, Y, i, G);
    };
    // relative KKT residual (header), over all blocks or the active ones
    auto kkt = [&](bool active_only) {
        double res = 0.0;
        for (Index j = 0; j < m; ++j) {
            const double wn = r.W.row(j).norm();
            if (active_only && wn == 0.0) continue;
            g.setZero();
            for (Index i : support[static_cast<std::size_t>(j)]) g += Phi(i, j) * G.row(i).transpose();
            const double rj = wn > 0 ? (g + beta * r.W.row(j).transpose() / wn).norm() : std::max(0.0, g.norm() - beta);
            res = std::max(res, rj / beta);
        }
        if (opt.intercept) res = std::max(res, G.colwise().sum().norm() / beta);
        return res;
    };

    // P(W, c) from scratch for the line search of the Newton phase
    auto objective = [&](const MatrixXd& W, const VectorXd& c, MatrixXd& F) {
        F = Phi * W;
        F.rowwise() += c.transpose();
        return loss.value(F, Y) + beta * W.rowwise().norm().sum();
    };
    // Newton step on the active blocks S = {j : w_j != 0} (and c), where P is smooth:
    //   H = sum_i (phi_iS phi_iS^T) (x) H_i + blockdiag(beta (I - w w^T/||w||^2) / ||w||),
    // H_i = d^2 L / dF_i^2 (hessian_weights), with a tiny Levenberg term for dependent columns
    // (neurons sharing an activation pattern); Armijo backtracking on the exact P.  Returns
    // whether P decreased.
    MatrixXd Hw, Ftrial, Wtrial;
    VectorXd ctrial, grad;
    std::vector<Index> S;
    Index k = 0;
    // one damped Newton step with the (already damped) H; see newton()
    auto try_step = [&](const MatrixXd& H) {
        Eigen::LDLT<MatrixXd> ldlt(H);
        if (ldlt.info() != Eigen::Success) return false;
        VectorXd step = -ldlt.solve(grad);
        if (!step.allFinite()) return false;
        const double slope = grad.dot(step);
        if (!(slope < 0)) return false;
        // a block whose path w_j + t d_j passes (nearly) through 0 for t < 1: stop there and
        // set it to 0 (the norm is not smooth at 0; this is how Newton drops neurons)
        double tmax = 1.0;
        Index drop = -1;
        for (Index a = 0; a < k; ++a) {
            const Eigen::VectorXd w = r.W.row(S[static_cast<std::size_t>(a)]).transpose();
            const Eigen::VectorXd dj = step.segment(a * o, o);
            const double dd = dj.squaredNorm(), wd = w.dot(dj);
            if (dd == 0.0 || wd >= 0.0) continue;
            const double ts = -wd / dd;
            if (ts < tmax && (w + ts * dj).norm() <= 1e-3 * w.norm()) {
                tmax = ts;
                drop = a;
            }
        }
        const double P0 = objective(r.W, r.c, Ftrial);
        double t = tmax;
        for (int ls = 0; ls < 40; ++ls, t *= 0.5) {
            Wtrial = r.W;
            ctrial = r.c;
            for (Index a = 0; a < k; ++a)
                Wtrial.row(S[static_cast<std::size_t>(a)]) += t * step.segment(a * o, o).transpose();
            if (ls == 0 && drop >= 0) Wtrial.row(S[static_cast<std::size_t>(drop)]).setZero();
            if (opt.intercept) ctrial += t * step.segment(k * o, o);
            const double P1 = objective(Wtrial, ctrial, Ftrial);
            if (P1 <= P0 + 1e-4 * t * slope) {
                if (!(P1 < P0 - 1e-15 * std::abs(P0))) return false;
                r.W = Wtrial;
                r.c = ctrial;
                r.F = Ftrial;
                loss.value_and_gradient(r.F, Y, G);
                return true;
            }
        }
        return false;
    };
    auto newton = [&]() {
        S.clear();
        for (Index j = 0; j < m; ++j)
            if (r.W.row(j).squaredNorm() > 0) S.push_back(j);
        k = static_cast<Index>(S.size());
        const Index nc = opt.intercept ? o : 0, N = k * o + nc;
        if (N == 0) return false;
        loss.hessian_weights(r.F, Y, Hw);
        MatrixXd H = MatrixXd::Zero(N, N);
        grad = VectorXd::Zero(N);
        // active features (and the intercept's column of ones), then
        // H[(a, x), (b, y)] = (Phi_S^T diag(Hw[:, x o + y]) Phi_S)_{ab}: o^2 dense products
        const Index kk = k + (opt.intercept ? 1 : 0);
        MatrixXd PS(n, kk);
        for (Index a = 0; a < k; ++a) PS.col(a) = Phi.col(S[static_cast<std::size_t>(a)]);
        if (opt.intercept) PS.col(k).setOnes();
        const MatrixXd PG = PS.transpose() * G;  // (kk, o)
        for (Index a = 0; a < kk; ++a) grad.segment(a * o, o) = PG.row(a).transpose();
        MatrixXd M(kk, kk), DP(n, kk);
        for (Index x = 0; x < o; ++x)
            for (Index y = x; y < o; ++y) {
                DP = Hw.col(x * o + y).asDiagonal() * PS;
                M.noalias() = PS.transpose() * DP;
                for (Index a = 0; a < kk; ++a)
                    for (Index bb = 0; bb < kk; ++bb) {
                        H(a * o + x, bb * o + y) = M(a, bb);
                        H(a * o + y, bb * o + x) = M(a, bb);
                    }
            }
        for (Index a = 0; a < k; ++a) {
            const Eigen::RowVectorXd w = r.W.row(S[static_cast<std::size_t>(a)]);
            const double wn = w.norm();
            grad.segment(a * o, o) += beta * w.transpose() / wn;
            H.block(a * o, a * o, o, o) +=
                (beta / wn) * (MatrixXd::Identity(o, o) - w.transpose() * w / (wn * wn));
        }
        // Levenberg damping, increased when the step fails (dependent columns make H singular
        // along directions that move weight between neurons without changing F)
        const double hmax = std::max(1e-300, H.diagonal().maxCoeff());
        const MatrixXd H0 = H;
        for (const double lev : {1e-9, 1e-6, 1e-3}) {
            H = H0;
            H.diagonal().array() += lev * hmax;
            if (try_step(H)) return true;
        }
        return false;
    };

    const Deadline deadline = thread_deadline();  // max_time of the caller
    int epochs = 0;
    while (epochs < opt.max_epochs) {
        check_interrupt();
        if (deadline.passed()) break;  // max_time: the current iterate
        for (Index j = 0; j < m; ++j) block(j);
        intercept_step();
        ++epochs;
        r.kkt = kkt(false);
        if (r.kkt <= opt.tol) {
            r.converged = true;
            break;
        }
        // Newton steps on the active set (fast local convergence with correlated neurons),
        // else sweeps over the active blocks
        bool newton_ok = false;
        for (int it = 0; it < 8; ++it) {
            if (!newton()) break;
            newton_ok = true;
            if (kkt(true) <= 0.1 * opt.tol) break;
        }
        if (newton_ok) continue;
        for (int inner = 0; inner < 50 && epochs < opt.max_epochs; ++inner) {
            for (Index j = 0; j < m; ++j)
                if (r.W.row(j).squaredNorm() > 0) block(j);
            intercept_step();
            ++epochs;
            if (inner % 5 == 4 && kkt(true) <= 0.1 * opt.tol) break;
        }
    }
    // recompute F and grad from scratch (removes drift of the incremental updates)
    r.F = Phi * r.W;
    r.F.rowwise() += r.c.transpose();
    double val = loss.value_and_gradient(r.F, Y, r.grad);
    r.primal = val + beta * r.W.rowwise().norm().sum();
    if (!r.converged) {
        r.kkt = kkt(false);
        r.converged = r.kkt <= opt.tol;
    }
    r.n_epochs = epochs;
    r.message = r.converged ? "converged" : "max_epochs reached";
    return r;
}

}  // namespace fcr
