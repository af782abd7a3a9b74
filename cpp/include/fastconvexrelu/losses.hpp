// One interface for the convex losses of the training problem (paper Theorem 6.1: any convex
// loss enters the dual through its Fenchel conjugate L^*).  All matrices are n x o (outputs
// F, targets Y, dual points Lambda); the losses are sums over the n rows.
//
//   squared  : L(F) = 1/2 ||F - Y||_F^2,               grad = F - Y,             Lip = 1,
//              L^*(Lam) = 1/2 ||Lam||^2 + <Lam, Y>.
//   logistic : L(F) = sum_j log(1 + exp(-y_j f_j)),    grad = -y / (1 + e^{y f}), Lip = 1/4,
//              (o = 1, y in {-1, +1});  L^*(lam) = sum_j a_j log a_j + (1 - a_j) log(1 - a_j),
//              a_j = -y_j lam_j in [0, 1] (else +inf).
//   softmax  : L(F) = sum_j [logsumexp(F_j) - <Y_j, F_j>] (rows F_j, one-hot Y_j, o >= 2),
//              grad = softmax(F) - Y,  Lip = 1/2,
//              L^*(Lam) = sum_j sum_k p_jk log p_jk with P = Lam + Y, rows of P in the simplex.
//   huber    : L(F) = sum_jk h_delta(F_jk - Y_jk),  h(r) = r^2/2 (|r| <= delta),
//              delta (|r| - delta/2) otherwise; grad = clip(F - Y, -delta, delta), Lip = 1,
//              L^*(Lam) = <Lam, Y> + 1/2 ||Lam||^2 for |Lam_jk| <= delta (else +inf).
//   hinge    : L(F) = sum_j max(0, 1 - y_j f_j) (o = 1, y in {-1, +1}), not differentiable;
//              prox_{tL}(z)_j = z_j (y z >= 1), z_j + t y_j (y z <= 1 - t), y_j otherwise;
//              L^*(lam) = sum_j y_j lam_j for a_j = -y_j lam_j in [0, 1] (else +inf).
//
// Dual points are gradients (or subgradients) of L, so every lam = grad L(F) is in dom L^*.
//
// Sample weights s_j >= 0 (set_sample_weight; none: all ones) make the loss sum_j s_j l(F_j):
// value, gradient (rows scaled by s_j), Hessian weights, Lipschitz constant (times max s_j)
// and conjugate L_s^*(Lam) = sum_j s_j l^*(Lam_j / s_j) (Lam_j = 0 where s_j = 0).  prox and
// center_columns are unweighted only (std::logic_error when weights are set).
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <string>

namespace fcr {

// log(1 + e^t), without overflow or cancellation.
inline double log1pexp(double t) {
    return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
}

// 1 / (1 + e^t), without overflow.
inline double sigmoid_neg(double t) {
    if (t >= 0) {
        const double e = std::exp(-t);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + std::exp(t));
}

enum class LossKind { Squared, Logistic, Softmax, Huber, Hinge };

// "squared" | "logistic" | "softmax" | "huber" | "hinge"; std::invalid_argument otherwise.
LossKind loss_kind_from_string(const std::string& name);
const char* loss_kind_name(LossKind kind);

class LossFunction {
public:
    explicit LossFunction(LossKind kind, double huber_delta = 1.0);

    LossKind kind() const { return kind_; }
    // Per-row weights s (n, all finite and >= 0, checked); an empty vector removes them.
    void set_sample_weight(const Eigen::Ref<const Eigen::VectorXd>& s);
    bool weighted() const { return weights_.size() != 0; }
    const Eigen::VectorXd& sample_weight() const { return weights_; }
    double delta() const { return delta_; }
    bool smooth() const { return kind_ != LossKind::Hinge; }
    // Lipschitz constant of grad L with respect to F (Frobenius norm); +inf for the hinge.
    double gradient_lipschitz() const;

    // Throws std::invalid_argument when Y does not suit the loss (shape, labels, one-hot rows).
    void check_targets(const Eigen::Ref<const Eigen::MatrixXd>& Y) const;

    double value(const Eigen::Ref<const Eigen::MatrixXd>& F,
                 const Eigen::Ref<const Eigen::MatrixXd>& Y) const;
    // L(F) and grad L(F) (grad is resized); std::logic_error for the hinge.
    double value_and_gradient(const Eigen::Ref<const Eigen::MatrixXd>& F,
                              const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::MatrixXd& grad) const;
    // Second derivatives of L at F, row by row: W (n x o*o), W(j, k*o + l) = d^2 L / dF_jk dF_jl
    // (squared 1, huber 1[|r| < delta], logistic s(1 - s), softmax diag(p) - p p^T);
    // std::logic_error for the hinge.
    void hessian_weights(const Eigen::Ref<const Eigen::MatrixXd>& F, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                         Eigen::MatrixXd& W) const;
    // Fenchel conjugate L^*(Lam); +inf outside its domain (a relative slack of 1e-12 is
    // accepted for rounding and clamped).
    double conjugate(const Eigen::Ref<const Eigen::MatrixXd>& Lam,
                     const Eigen::Ref<const Eigen::MatrixXd>& Y) const;
    // Dual objective -L^*(Lam) (-inf outside the domain).
    double dual_value(const Eigen::Ref<const Eigen::MatrixXd>& Lam,
                      const Eigen::Ref<const Eigen::MatrixXd>& Y) const {
        return -conjugate(Lam, Y);
    }
    // prox_{tL}(Z) = argmin_F t L(F) + 1/2 ||F - Z||^2: closed forms for squared, huber and
    // hinge; safeguarded Newton per entry (logistic) or per row (softmax) to ~1e-15.
    void prox(const Eigen::Ref<const Eigen::MatrixXd>& Z, const Eigen::Ref<const Eigen::MatrixXd>& Y,
              double t, Eigen::MatrixXd& out) const;
    // Move Lam inside dom L^* so that every column sums to zero (the dual constraint of an
    // unpenalized output intercept, 1^T Lam_k = 0), changing Lam as little as the domain allows:
    // a uniform shift for the squared loss, shifts proportional to the room left in the domain
    // box otherwise (softmax: mass moved between classes within rows).  Returns false if the
    // domain has no room (then Lam is unusable as a certificate).
    bool center_columns(Eigen::MatrixXd& Lam, const Eigen::Ref<const Eigen::MatrixXd>& Y) const;

private:
    double row_weight(Eigen::Index j) const { return weights_.size() ? weights_[j] : 1.0; }
    double value_and_gradient_unweighted(const Eigen::Ref<const Eigen::MatrixXd>& F,
                                         const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::MatrixXd& grad) const;
    double conjugate_unweighted(const Eigen::Ref<const Eigen::MatrixXd>& Lam,
                                const Eigen::Ref<const Eigen::MatrixXd>& Y) const;
    void check_weights(Eigen::Index n) const;

    LossKind kind_;
    double delta_;
    Eigen::VectorXd weights_;  // empty: unweighted
};

}  // namespace fcr
