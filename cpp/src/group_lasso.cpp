// Group-lasso master of the weight-decay vector-output model; see group_lasso.hpp.
#include "fastconvexrelu/group_lasso.hpp"

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

    // one block step on w_j (eq. in the header); returns whether w_j changed
    auto block = [&](Index j) {
        if (lj(j) <= 0) return false;
        const auto& S = support[static_cast<std::size_t>(j)];
        g.setZero();
        for (Index i : S) g += Phi(i, j) * G.row(i).transpose();
        z = r.W.row(j).transpose() - g / lj(j);
        const double zn = z.norm(), thr = beta / lj(j);
        if (zn <= thr) z.setZero();
        else z *= (1.0 - thr / zn);
        dw = z - r.W.row(j).transpose();
        if (dw.squaredNorm() == 0.0) return false;
        r.W.row(j) = z.transpose();
        for (Index i : S) {
            r.F.row(i) += Phi(i, j) * dw.transpose();
            row_gradient(loss, r.F, Y, i, G);
        }
        return true;
    };
    auto intercept_step = [&]() {
        if (!opt.intercept) return;
        dw = -G.colwise().sum().transpose() / (lip * static_cast<double>(n));
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

    int epochs = 0;
    while (epochs < opt.max_epochs) {
        for (Index j = 0; j < m; ++j) block(j);
        intercept_step();
        ++epochs;
        r.kkt = kkt(false);
        if (r.kkt <= opt.tol) {
            r.converged = true;
            break;
        }
        // sweeps over the active blocks until they are (nearly) optimal among themselves
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
