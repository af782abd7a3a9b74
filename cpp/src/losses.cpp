// Losses, gradients, conjugates and proxes; see cpp/include/fastconvexrelu/losses.hpp.
#include "fastconvexrelu/losses.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace fcr {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSlack = 1e-12;  // relative rounding slack accepted at the domain boundary

double xlogx(double a) { return a > 0.0 ? a * std::log(a) : 0.0; }

void check_same_shape(const Eigen::Ref<const MatrixXd>& A, const Eigen::Ref<const MatrixXd>& Y,
                      const char* what) {
    if (A.rows() != Y.rows() || A.cols() != Y.cols())
        throw std::invalid_argument(std::string("loss: ") + what + " and Y must have the same shape");
}

}  // namespace

LossKind loss_kind_from_string(const std::string& name) {
    if (name == "squared") return LossKind::Squared;
    if (name == "logistic") return LossKind::Logistic;
    if (name == "softmax") return LossKind::Softmax;
    if (name == "huber") return LossKind::Huber;
    if (name == "hinge") return LossKind::Hinge;
    throw std::invalid_argument("loss must be one of 'squared', 'logistic', 'softmax', 'huber', 'hinge'; got '" +
                                name + "'");
}

const char* loss_kind_name(LossKind kind) {
    switch (kind) {
        case LossKind::Squared: return "squared";
        case LossKind::Logistic: return "logistic";
        case LossKind::Softmax: return "softmax";
        case LossKind::Huber: return "huber";
        case LossKind::Hinge: return "hinge";
    }
    return "?";
}

LossFunction::LossFunction(LossKind kind, double huber_delta) : kind_(kind), delta_(huber_delta) {
    if (kind == LossKind::Huber && !(std::isfinite(huber_delta) && huber_delta > 0))
        throw std::invalid_argument("huber_delta must be a finite number > 0");
}

void LossFunction::set_sample_weight(const Eigen::Ref<const Eigen::VectorXd>& s) {
    if (s.size() && (!s.allFinite() || s.minCoeff() < 0.0))
        throw std::invalid_argument("sample_weight must be finite and >= 0");
    weights_ = s;
}

void LossFunction::check_weights(Index n) const {
    if (weights_.size() && weights_.size() != n)
        throw std::invalid_argument("loss: sample_weight must have one entry per row");
}

double LossFunction::gradient_lipschitz() const {
    const double smax = weights_.size() ? weights_.maxCoeff() : 1.0;
    switch (kind_) {
        case LossKind::Squared: return smax;
        case LossKind::Logistic: return 0.25 * smax;
        case LossKind::Softmax: return 0.5 * smax;
        case LossKind::Huber: return smax;
        case LossKind::Hinge: return kInf;
    }
    return kInf;
}

void LossFunction::check_targets(const Eigen::Ref<const MatrixXd>& Y) const {
    if (Y.rows() < 1 || Y.cols() < 1) throw std::invalid_argument("Y must be non-empty");
    if (!Y.allFinite()) throw std::invalid_argument("Y must be finite");
    if (kind_ == LossKind::Logistic || kind_ == LossKind::Hinge) {
        if (Y.cols() != 1) throw std::invalid_argument("Y must have one column for the logistic and hinge losses");
        for (Index j = 0; j < Y.rows(); ++j)
            if (Y(j, 0) != 1.0 && Y(j, 0) != -1.0)
                throw std::invalid_argument("Y must be in {-1, +1} for the logistic and hinge losses");
    }
    if (kind_ == LossKind::Softmax) {
        if (Y.cols() < 2) throw std::invalid_argument("Y must have >= 2 columns (one-hot) for the softmax loss");
        for (Index j = 0; j < Y.rows(); ++j) {
            double s = 0.0;
            for (Index k = 0; k < Y.cols(); ++k) {
                if (Y(j, k) != 0.0 && Y(j, k) != 1.0)
                    throw std::invalid_argument("Y must be one-hot (0/1 rows summing to 1) for the softmax loss");
                s += Y(j, k);
            }
            if (s != 1.0) throw std::invalid_argument("Y must be one-hot (0/1 rows summing to 1) for the softmax loss");
        }
    }
}

double LossFunction::value(const Eigen::Ref<const MatrixXd>& F, const Eigen::Ref<const MatrixXd>& Y) const {
    check_same_shape(F, Y, "F");
    check_weights(F.rows());
    const Index n = F.rows(), o = F.cols();
    double s = 0.0;
    switch (kind_) {
        case LossKind::Squared:
            if (!weighted()) return 0.5 * (F - Y).squaredNorm();
            for (Index j = 0; j < n; ++j) s += weights_[j] * (F.row(j) - Y.row(j)).squaredNorm();
            return 0.5 * s;
        case LossKind::Logistic:
            for (Index j = 0; j < n; ++j) s += row_weight(j) * log1pexp(-Y(j, 0) * F(j, 0));
            return s;
        case LossKind::Hinge:
            for (Index j = 0; j < n; ++j) s += row_weight(j) * std::max(0.0, 1.0 - Y(j, 0) * F(j, 0));
            return s;
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k)
                for (Index j = 0; j < n; ++j) {
                    const double r = std::abs(F(j, k) - Y(j, k));
                    s += row_weight(j) * (r <= delta_ ? 0.5 * r * r : delta_ * (r - 0.5 * delta_));
                }
            return s;
        case LossKind::Softmax:
            for (Index j = 0; j < n; ++j) {
                const double mx = F.row(j).maxCoeff();
                double e = 0.0;
                for (Index k = 0; k < o; ++k) e += std::exp(F(j, k) - mx);
                s += row_weight(j) * (mx + std::log(e) - F.row(j).dot(Y.row(j)));
            }
            return s;
    }
    return kInf;
}

double LossFunction::value_and_gradient_unweighted(const Eigen::Ref<const MatrixXd>& F, const Eigen::Ref<const MatrixXd>& Y,
                                        MatrixXd& G) const {
    check_same_shape(F, Y, "F");
    const Index n = F.rows(), o = F.cols();
    G.resize(n, o);
    double s = 0.0;
    switch (kind_) {
        case LossKind::Squared:
            G = F - Y;
            return 0.5 * G.squaredNorm();
        case LossKind::Logistic:
            for (Index j = 0; j < n; ++j) {
                const double m = Y(j, 0) * F(j, 0);
                s += log1pexp(-m);
                G(j, 0) = -Y(j, 0) * sigmoid_neg(m);
            }
            return s;
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k)
                for (Index j = 0; j < n; ++j) {
                    const double r = F(j, k) - Y(j, k), a = std::abs(r);
                    s += a <= delta_ ? 0.5 * r * r : delta_ * (a - 0.5 * delta_);
                    G(j, k) = std::clamp(r, -delta_, delta_);
                }
            return s;
        case LossKind::Softmax:
            for (Index j = 0; j < n; ++j) {
                const double mx = F.row(j).maxCoeff();
                double e = 0.0;
                for (Index k = 0; k < o; ++k) e += (G(j, k) = std::exp(F(j, k) - mx));
                s += mx + std::log(e) - F.row(j).dot(Y.row(j));
                for (Index k = 0; k < o; ++k) G(j, k) = G(j, k) / e - Y(j, k);
            }
            return s;
        case LossKind::Hinge: break;
    }
    throw std::logic_error("the hinge loss is not differentiable; use prox");
}

double LossFunction::value_and_gradient(const Eigen::Ref<const MatrixXd>& F, const Eigen::Ref<const MatrixXd>& Y,
                                        MatrixXd& G) const {
    check_weights(F.rows());
    if (!weighted()) return value_and_gradient_unweighted(F, Y, G);
    value_and_gradient_unweighted(F, Y, G);
    G.array().colwise() *= weights_.array();
    return value(F, Y);
}

void LossFunction::hessian_weights(const Eigen::Ref<const MatrixXd>& F, const Eigen::Ref<const MatrixXd>& Y,
                                   MatrixXd& W) const {
    check_same_shape(F, Y, "F");
    check_weights(F.rows());
    const Index n = F.rows(), o = F.cols();
    W = MatrixXd::Zero(n, o * o);
    switch (kind_) {
        case LossKind::Squared:
            for (Index k = 0; k < o; ++k) W.col(k * o + k).setOnes();
            break;
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k)
                for (Index j = 0; j < n; ++j) W(j, k * o + k) = std::abs(F(j, k) - Y(j, k)) < delta_ ? 1.0 : 0.0;
            break;
        case LossKind::Logistic:
            for (Index j = 0; j < n; ++j) {
                const double s = sigmoid_neg(Y(j, 0) * F(j, 0));
                W(j, 0) = s * (1.0 - s);
            }
            break;
        case LossKind::Softmax:
            for (Index j = 0; j < n; ++j) {
                const double mx = F.row(j).maxCoeff();
                Eigen::VectorXd p = (F.row(j).array() - mx).exp().transpose();
                p /= p.sum();
                for (Index k = 0; k < o; ++k)
                    for (Index l = 0; l < o; ++l) W(j, k * o + l) = (k == l ? p[k] : 0.0) - p[k] * p[l];
            }
            break;
        case LossKind::Hinge: throw std::logic_error("the hinge loss has no Hessian");
    }
    if (weighted()) W.array().colwise() *= weights_.array();
}

double LossFunction::conjugate(const Eigen::Ref<const MatrixXd>& L, const Eigen::Ref<const MatrixXd>& Y) const {
    check_same_shape(L, Y, "Lambda");
    check_weights(L.rows());
    if (!weighted()) return conjugate_unweighted(L, Y);
    // sum_j s_j l^*(Lam_j / s_j); a row with s_j = 0 must be zero (l_j does not count)
    double total = 0.0;
    for (Index j = 0; j < L.rows(); ++j) {
        const double sj = weights_[j];
        if (sj == 0.0) {
            if (L.row(j).cwiseAbs().maxCoeff() > 0.0) return kInf;
            continue;
        }
        const double v = conjugate_unweighted(L.row(j) / sj, Y.row(j));
        if (!std::isfinite(v)) return kInf;
        total += sj * v;
    }
    return total;
}

double LossFunction::conjugate_unweighted(const Eigen::Ref<const MatrixXd>& L, const Eigen::Ref<const MatrixXd>& Y) const {
    check_same_shape(L, Y, "Lambda");
    const Index n = L.rows(), o = L.cols();
    double s = 0.0;
    switch (kind_) {
        case LossKind::Squared: return 0.5 * L.squaredNorm() + (L.array() * Y.array()).sum();
        case LossKind::Logistic:
        case LossKind::Hinge:
            for (Index j = 0; j < n; ++j) {
                double a = -Y(j, 0) * L(j, 0);
                if (a < -kSlack || a > 1.0 + kSlack) return kInf;
                a = std::clamp(a, 0.0, 1.0);
                s += kind_ == LossKind::Hinge ? -a : xlogx(a) + xlogx(1.0 - a);
            }
            return s;
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k)
                for (Index j = 0; j < n; ++j) {
                    double l = L(j, k);
                    if (std::abs(l) > delta_ * (1.0 + kSlack)) return kInf;
                    l = std::clamp(l, -delta_, delta_);
                    s += l * Y(j, k) + 0.5 * l * l;
                }
            return s;
        case LossKind::Softmax:
            for (Index j = 0; j < n; ++j) {
                double rs = 0.0;
                for (Index k = 0; k < o; ++k) {
                    const double p = L(j, k) + Y(j, k);
                    if (p < -kSlack || p > 1.0 + kSlack) return kInf;
                    rs += p;
                    s += xlogx(std::clamp(p, 0.0, 1.0));
                }
                if (std::abs(rs - 1.0) > 1e-10) return kInf;
            }
            return s;
    }
    return kInf;
}

void LossFunction::prox(const Eigen::Ref<const MatrixXd>& Z, const Eigen::Ref<const MatrixXd>& Y, double t,
                        MatrixXd& out) const {
    check_same_shape(Z, Y, "Z");
    if (weighted()) throw std::logic_error("LossFunction::prox: sample weights are not supported");
    const Index n = Z.rows(), o = Z.cols();
    out.resize(n, o);
    switch (kind_) {
        case LossKind::Squared: out = (Z + t * Y) / (1.0 + t); return;
        case LossKind::Huber:
            for (Index k = 0; k < o; ++k)
                for (Index j = 0; j < n; ++j) {
                    const double r = Z(j, k) - Y(j, k);
                    // minimize t h(f - y) + (f - z)^2 / 2: r' = r / (1 + t) if |r'| <= delta, else r - t delta sign r
                    const double r1 = r / (1.0 + t);
                    out(j, k) = Y(j, k) + (std::abs(r1) <= delta_ ? r1 : r - t * delta_ * (r > 0 ? 1.0 : -1.0));
                }
            return;
        case LossKind::Hinge:
            for (Index j = 0; j < n; ++j) {
                const double y = Y(j, 0), m = y * Z(j, 0);
                out(j, 0) = m >= 1.0 ? Z(j, 0) : (m <= 1.0 - t ? Z(j, 0) + t * y : y);
            }
            return;
        case LossKind::Logistic:
            // root of g(f) = f - z - t y sigma(-y f), increasing (g' in [1, 1 + t/4]); it lies
            // between z and z + t y: Newton safeguarded by bisection.
            for (Index j = 0; j < n; ++j) {
                const double y = Y(j, 0), z = Z(j, 0);
                double lo = std::min(z, z + t * y), hi = std::max(z, z + t * y), f = z;
                for (int it = 0; it < 100; ++it) {
                    const double sg = sigmoid_neg(y * f);  // sigma(-y f)
                    const double g = f - z - t * y * sg;
                    if (g == 0.0) break;
                    if (g > 0) hi = f; else lo = f;
                    double fn = f - g / (1.0 + t * sg * (1.0 - sg));
                    if (!(fn > lo && fn < hi)) fn = 0.5 * (lo + hi);
                    if (std::abs(fn - f) <= 1e-15 * (1.0 + std::abs(f))) {
                        f = fn;
                        break;
                    }
                    f = fn;
                }
                out(j, 0) = f;
            }
            return;
        case LossKind::Softmax: {
            // per row: minimize t (lse(f) - y^T f) + 1/2 ||f - z||^2 by Newton (Hessian
            // t (diag p - p p^T) + I, eigenvalues in [1, 1 + t/2]) with backtracking.
            Eigen::VectorXd f(o), p(o), g(o), step(o), fn(o);
            Eigen::MatrixXd H(o, o);
            auto obj = [&](const Eigen::VectorXd& x, Index j) {
                const double mx = x.maxCoeff();
                return t * (mx + std::log((x.array() - mx).exp().sum()) - x.dot(Y.row(j).transpose())) +
                       0.5 * (x - Z.row(j).transpose()).squaredNorm();
            };
            for (Index j = 0; j < n; ++j) {
                f = Z.row(j).transpose();
                double val = obj(f, j);
                for (int it = 0; it < 100; ++it) {
                    const double mx = f.maxCoeff();
                    p = (f.array() - mx).exp();
                    p /= p.sum();
                    g = t * (p - Y.row(j).transpose()) + f - Z.row(j).transpose();
                    if (g.norm() <= 1e-15 * (1.0 + f.norm())) break;
                    H = -t * p * p.transpose();
                    H.diagonal().array() += t * p.array() + 1.0;
                    step = H.llt().solve(g);
                    double a = 1.0;
                    for (int ls = 0; ls < 60; ++ls, a *= 0.5) {
                        fn = f - a * step;
                        const double vn = obj(fn, j);
                        if (vn <= val - 1e-4 * a * g.dot(step) || a < 1e-12) {
                            val = vn;
                            break;
                        }
                    }
                    const bool small = (a * step).norm() <= 1e-16 * (1.0 + f.norm());
                    f = fn;
                    if (small) break;
                }
                out.row(j) = f.transpose();
            }
            return;
        }
    }
    throw std::logic_error("unknown loss");
}

bool LossFunction::center_columns(MatrixXd& L, const Eigen::Ref<const MatrixXd>& Y) const {
    if (weighted()) throw std::logic_error("LossFunction::center_columns: sample weights are not supported");
    const Index n = L.rows(), o = L.cols();
    if (kind_ == LossKind::Squared) {
        L.rowwise() -= L.colwise().mean();
        return true;
    }
    if (kind_ == LossKind::Softmax) {
        // P = L + Y has rows in the simplex; move mass eps_j from class kp to class km within
        // row j (eps_j <= P_j,kp keeps both entries in [0, 1] and the row sum) until the
        // column sums vanish (they add up to the sum of the row sums, i.e. zero).
        Eigen::VectorXd r = L.colwise().sum().transpose();
        for (int pass = 0; pass < 2 * static_cast<int>(o); ++pass) {
            Index kp, km;
            const double rp = r.maxCoeff(&kp), rm = r.minCoeff(&km);
            if (rp <= 0.0 || rm >= 0.0 || kp == km) break;
            const double amount = std::min(rp, -rm);
            double room = 0.0;
            for (Index j = 0; j < n; ++j) room += std::max(0.0, L(j, kp) + Y(j, kp));
            if (room < amount) return false;
            for (Index j = 0; j < n; ++j) {
                const double eps = amount * std::max(0.0, L(j, kp) + Y(j, kp)) / room;
                L(j, kp) -= eps;
                L(j, km) += eps;
            }
            r = L.colwise().sum().transpose();
        }
        return true;
    }
    // Box domains: logistic / hinge lam_j in [min(0, -y_j), max(0, -y_j)], huber [-delta, delta].
    for (Index k = 0; k < o; ++k) {
        const double r = L.col(k).sum();
        if (r == 0.0) continue;
        double room = 0.0;
        Eigen::VectorXd cap(n);
        for (Index j = 0; j < n; ++j) {
            double lo, hi;
            if (kind_ == LossKind::Huber) {
                lo = -delta_;
                hi = delta_;
            } else {
                lo = std::min(0.0, -Y(j, 0));
                hi = std::max(0.0, -Y(j, 0));
            }
            cap[j] = r > 0 ? std::max(0.0, L(j, k) - lo) : std::max(0.0, hi - L(j, k));
            room += cap[j];
        }
        if (room < std::abs(r)) return false;
        for (Index j = 0; j < n; ++j) L(j, k) -= r * cap[j] / room;
    }
    return true;
}

}  // namespace fcr
