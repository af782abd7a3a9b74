// Projection onto a polyhedral cone by Lawson-Hanson NNLS, and the spike-free oracle (15)
// (see cone_projection.hpp for the mathematics).
#include "fastconvexrelu/cone_projection.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fcr {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using RowRef = Eigen::Ref<const RowMatrixXd>;

constexpr double kMinParallelWork = 131072.0;  // m n d below which a batch is not threaded

std::string fmt(double x) {
    std::ostringstream os;
    os.precision(3);
    os << x;
    return os.str();
}

void check_options(const ConeProjectionOptions& opt) {
    if (!(opt.tol >= 0.0) || !std::isfinite(opt.tol))
        throw std::invalid_argument("tol must be a finite number >= 0, got " + fmt(opt.tol));
    if (!(opt.dep_tol > 0.0) || !(opt.dep_tol < 1.0))
        throw std::invalid_argument("dep_tol must lie in (0, 1), got " + fmt(opt.dep_tol));
}

void check_matrix(const RowRef& A, const char* name) {
    if (A.rows() == 0 || A.cols() == 0)
        throw std::invalid_argument(std::string(name) + " must be non-empty, got shape (" +
                                    std::to_string(A.rows()) + ", " + std::to_string(A.cols()) +
                                    ")");
    if (!A.allFinite()) throw std::invalid_argument(std::string(name) + " contains NaN or inf");
}

void check_warm(const std::vector<Index>& w, Index n, const char* name) {
    for (Index j : w)
        if (j < 0 || j >= n)
            throw std::invalid_argument(std::string(name) + ": index " + std::to_string(j) +
                                        " out of range for " + std::to_string(n) +
                                        " constraints");
}

// Lawson-Hanson NNLS  min_{lambda >= 0} ||g + A^T lambda||  with an up/down-dated thin QR of
// the passive columns A_P^T = Q R.  One Solver per thread; A and the row norms are shared.
class Solver {
  public:
    Solver(const RowRef& A, const VectorXd& rownorm, const ConeProjectionOptions& opt)
        : A_(A), rownorm_(rownorm), opt_(opt), n_(A.rows()), d_(A.cols()),
          kmax_(std::min(A.rows(), A.cols())) {
        reserve(std::min<Index>(kmax_, 32));
    }

    ConeProjectionResult solve(const Eigen::Ref<const VectorXd>& g,
                               const std::vector<Index>& warm) {
        g_ = g;
        const double gnorm = g_.norm();
        const double thresh = -opt_.tol * gnorm;  // scaled violation below this: violated
        const int max_iter =
            opt_.max_iter > 0 ? opt_.max_iter
                              : static_cast<int>(std::max<Index>(100, 3 * (n_ + d_)));
        k_ = 0;
        P_.clear();
        R_.setZero();
        inP_.assign(static_cast<std::size_t>(n_), 0);
        excluded_.assign(static_cast<std::size_t>(n_), 0);
        int iter = 0;

        // ---- warm start: factorize the given passive set, drop non-positive multipliers
        for (Index j : warm) {
            if (inP_[j] || !(rownorm_[j] > 0.0)) continue;
            if (try_add(j)) inP_[j] = 1;
        }
        bool warm_clean = k_ > 0;  // warm factorization built from scratch, no downdates
        if (k_ > 0) {
            VectorXd z = ls_solution();
            for (;;) {
                bool any = false;
                for (Index p = k_ - 1; p >= 0; --p)
                    if (!(z[p] > 0.0)) {
                        remove_at(p);
                        any = true;
                    }
                if (!any) break;
                ++iter;
                warm_clean = false;
                z = ls_solution();
            }
            lp_.head(k_) = z;
        }

        // ---- Lawson-Hanson main loop
        bool fresh = warm_clean;  // factorization built from scratch since the last change
        bool stopped = false;
        bool dirty = true;   // u, w must be recomputed
        VectorXd u(d_), w(n_);
        for (;;) {
            if (dirty) {
                u.noalias() = g_ - Q_.leftCols(k_) * c_.head(k_);
                w.noalias() = A_ * u;
                dirty = false;
            }
            Index best = -1;
            double best_val = thresh;
            for (Index i = 0; i < n_; ++i) {
                if (inP_[i] || excluded_[i] || !(rownorm_[i] > 0.0)) continue;
                const double s = w[i] / rownorm_[i];
                if (s < best_val) {
                    best_val = s;
                    best = i;
                }
            }
            if (best < 0) {
                if (!fresh && k_ > 0) {  // re-check the optimality conditions on a fresh QR
                    refactor();
                    std::fill(excluded_.begin(), excluded_.end(), 0);
                    fresh = true;
                    restore_positive(iter);
                    dirty = true;
                    continue;
                }
                stopped = true;
                break;
            }
            if (iter >= max_iter) break;
            ++iter;
            if (!try_add(best)) {  // numerically in the span of the passive rows
                excluded_[best] = 1;
                continue;
            }
            VectorXd z = ls_solution();
            if (!(z[k_ - 1] > 0.0)) {  // rounding: its multiplier would not be positive
                remove_at(k_ - 1);     // (last column: Q, R, c of the others unchanged)
                excluded_[best] = 1;
                continue;
            }
            std::fill(excluded_.begin(), excluded_.end(), 0);
            inP_[best] = 1;
            lp_[k_ - 1] = 0.0;
            restore_positive(iter, &z);
            fresh = false;
            dirty = true;
        }
        // Rows skipped as numerically dependent on the active rows (orthogonal part
        // r_j, ||r_j|| <= dep_tol ||a_j||) can be violated by at most
        // a_j^T u = r_j^T u <= dep_tol ||a_j|| ||u||: accept them up to that bound.
        const double thresh_dep = -(opt_.tol + 2.0 * opt_.dep_tol) * gnorm;
        double worst = 0.0, worst_free = 0.0, worst_dep = 0.0;  // min_i (A u)_i / ||a_i||
        Index n_dep = 0;
        for (Index i = 0; i < n_; ++i) {
            if (!(rownorm_[i] > 0.0)) continue;
            const double s = w[i] / rownorm_[i];
            worst = std::min(worst, s);
            if (excluded_[i]) {
                worst_dep = std::min(worst_dep, s);
                if (s < thresh) ++n_dep;
            } else {
                worst_free = std::min(worst_free, s);
            }
        }
        const bool converged = stopped && worst_free >= thresh && worst_dep >= thresh_dep;

        // ---- result and KKT residuals (u, w belong to the current passive set)
        ConeProjectionResult r;
        r.u = u;
        r.lambda = VectorXd::Zero(n_);
        VectorXd ATl = VectorXd::Zero(d_);
        double compl_ = 0.0;
        for (Index p = 0; p < k_; ++p) {
            const Index j = P_[p];
            r.lambda[j] = lp_[p];
            ATl.noalias() += lp_[p] * A_.row(j).transpose();
            compl_ = std::max(compl_, std::abs(lp_[p] * w[j]));
        }
        r.active = P_;
        std::sort(r.active.begin(), r.active.end());
        r.distance = (u - g_).norm();
        r.n_iter = iter;
        r.converged = converged;
        r.min_Au = w.minCoeff();
        r.complementarity = compl_;
        r.dual_infeasibility = std::max(0.0, -r.lambda.minCoeff());
        r.stationarity = (u - g_ - ATl).lpNorm<Eigen::Infinity>();
        if (converged) {
            r.message = "converged in " + std::to_string(iter) + " Lawson-Hanson steps (" +
                        std::to_string(k_) + " active constraints)";
            if (n_dep > 0)
                r.message += "; " + std::to_string(n_dep) +
                             " row(s) numerically dependent on the active rows violated by "
                             "min_i (A u)_i/||a_i|| = " + fmt(worst_dep) +
                             " (within the dependence tolerance " + fmt(thresh_dep) + ")";
        } else if (stopped) {
            r.message = "not converged: stalled on numerically dependent constraints; largest "
                        "scaled violation min_i (A u)_i/||a_i|| = " + fmt(worst) +
                        " (tolerance " + fmt(thresh) + ", dependent rows " + fmt(thresh_dep) +
                        ")";
        } else {
            r.message = "not converged: iteration cap max_iter=" + std::to_string(max_iter) +
                        " reached; largest scaled violation min_i (A u)_i/||a_i|| = " +
                        fmt(worst) + " (tolerance " + fmt(thresh) + ")";
        }
        return r;
    }

  private:
    // Storage for `cap` passive columns (grown geometrically up to min(n, d), so memory is
    // O(d k + k^2) for k active constraints, not O(d min(n, d))).
    void reserve(Index cap) {
        const Index old = R_.rows();
        if (cap <= old) return;
        Q_.conservativeResize(d_, cap);
        R_.conservativeResize(cap, cap);
        R_.bottomRows(cap - old).setZero();
        R_.rightCols(cap - old).setZero();
        c_.conservativeResize(cap);
        lp_.conservativeResize(cap);
    }

    // Append row j of A as a column of A_P^T; false if it is numerically dependent.
    bool try_add(Index j) {
        if (k_ >= kmax_) return false;
        if (k_ + 1 > R_.rows()) reserve(std::min(kmax_, std::max<Index>(2 * R_.rows(), 16)));
        VectorXd r = A_.row(j).transpose();
        VectorXd h = VectorXd::Zero(k_);
        double rho = rownorm_[j];
        // Classical Gram-Schmidt, repeated while it cancels more than 1/sqrt(2) of the norm
        // ("twice is enough", Kahan-Parlett): at most 2 passes in practice, capped at 3.
        for (int pass = 0; pass < 3 && k_ > 0; ++pass) {
            VectorXd hp = Q_.leftCols(k_).transpose() * r;
            r.noalias() -= Q_.leftCols(k_) * hp;
            h += hp;
            const double rho_new = r.norm();
            const bool enough = rho_new > 0.7071 * rho;
            rho = rho_new;
            if (enough) break;
        }
        if (k_ == 0) rho = r.norm();
        if (!(rho > opt_.dep_tol * rownorm_[j])) return false;
        Q_.col(k_) = r / rho;
        R_.col(k_).head(k_) = h;
        R_(k_, k_) = rho;
        c_[k_] = Q_.col(k_).dot(g_);
        lp_[k_] = 0.0;
        P_.push_back(j);
        ++k_;
        return true;
    }

    // Delete passive position p: shift the columns of R, re-triangularize with Givens
    // rotations (applied to Q and c as well), drop the last column.
    void remove_at(Index p) {
        const Index k = k_;
        for (Index col = p; col + 1 < k; ++col) {
            R_.col(col).head(k) = R_.col(col + 1).head(k);
            lp_[col] = lp_[col + 1];
        }
        for (Index i = p; i + 1 < k; ++i) {
            const double a = R_(i, i), b = R_(i + 1, i);
            const double rr = std::hypot(a, b);
            double cs = 1.0, sn = 0.0;
            if (rr > 0.0) {
                cs = a / rr;
                sn = b / rr;
            }
            for (Index col = i; col + 1 < k; ++col) {
                const double t1 = R_(i, col), t2 = R_(i + 1, col);
                R_(i, col) = cs * t1 + sn * t2;
                R_(i + 1, col) = -sn * t1 + cs * t2;
            }
            R_(i + 1, i) = 0.0;
            for (Index row = 0; row < d_; ++row) {
                const double q1 = Q_(row, i), q2 = Q_(row, i + 1);
                Q_(row, i) = cs * q1 + sn * q2;
                Q_(row, i + 1) = -sn * q1 + cs * q2;
            }
            const double c1 = c_[i], c2 = c_[i + 1];
            c_[i] = cs * c1 + sn * c2;
            c_[i + 1] = -sn * c1 + cs * c2;
        }
        R_.row(k - 1).head(k).setZero();
        R_.col(k - 1).head(k).setZero();
        inP_[P_[p]] = 0;
        P_.erase(P_.begin() + p);
        --k_;
    }

    // z = argmin ||g + A_P^T z||  =  -R^{-1} Q^T g.
    VectorXd ls_solution() const {
        if (k_ == 0) return VectorXd();
        return -(R_.topLeftCorner(k_, k_).triangularView<Eigen::Upper>().solve(c_.head(k_)));
    }

    // Lawson-Hanson inner loop: from the feasible multipliers lp_ (> 0 except possibly a new
    // last entry with z > 0) move towards the least-squares solution z, dropping the
    // constraints whose multiplier reaches 0, until z > 0; then lp_ = z.  Each step removes at
    // least one column, so this ends after at most k steps.
    void restore_positive(int& iter, VectorXd* z_in = nullptr) {
        VectorXd z = z_in ? *z_in : ls_solution();
        for (;;) {
            Index imin = -1;
            double alpha = std::numeric_limits<double>::infinity();
            for (Index p = 0; p < k_; ++p) {
                if (z[p] > 0.0) continue;
                const double denom = lp_[p] - z[p];
                const double a = denom > 0.0 ? lp_[p] / denom : 0.0;
                if (a < alpha) {
                    alpha = a;
                    imin = p;
                }
            }
            if (imin < 0) break;
            ++iter;
            for (Index p = 0; p < k_; ++p) lp_[p] += alpha * (z[p] - lp_[p]);
            lp_[imin] = 0.0;
            for (Index p = k_ - 1; p >= 0; --p)
                if (!(lp_[p] > 0.0)) remove_at(p);
            z = ls_solution();
        }
        if (k_ > 0) lp_.head(k_) = z;
    }

    // Rebuild Q, R, c from scratch from the passive set (in its current order).
    void refactor() {
        std::vector<Index> old = P_;
        VectorXd old_lp = lp_.head(k_);
        k_ = 0;
        P_.clear();
        R_.setZero();
        for (std::size_t t = 0; t < old.size(); ++t) {
            if (try_add(old[t])) {
                lp_[k_ - 1] = old_lp[static_cast<Index>(t)];
            } else {
                inP_[old[t]] = 0;
            }
        }
    }

    const RowRef& A_;
    const VectorXd& rownorm_;
    const ConeProjectionOptions& opt_;
    const Index n_, d_, kmax_;
    MatrixXd Q_, R_;
    VectorXd c_, lp_, g_;
    Index k_ = 0;
    std::vector<Index> P_;
    std::vector<char> inP_, excluded_;
};

}  // namespace

ConeProjectionResult cone_projection(const Eigen::Ref<const RowMatrixXd>& A,
                                     const Eigen::Ref<const Eigen::VectorXd>& g,
                                     const ConeProjectionOptions& opt,
                                     const std::vector<Eigen::Index>& warm_start) {
    check_matrix(A, "A");
    check_options(opt);
    if (g.size() != A.cols())
        throw std::invalid_argument("g has length " + std::to_string(g.size()) +
                                    " but A has " + std::to_string(A.cols()) + " columns");
    if (!g.allFinite()) throw std::invalid_argument("g contains NaN or inf");
    check_warm(warm_start, A.rows(), "warm_start");
    const VectorXd rownorm = A.rowwise().norm();
    Solver s(A, rownorm, opt);
    return s.solve(g, warm_start);
}

std::vector<ConeProjectionResult> cone_projection_batch(
    const Eigen::Ref<const RowMatrixXd>& A, const Eigen::Ref<const RowMatrixXd>& G,
    const ConeProjectionOptions& opt, const std::vector<std::vector<Eigen::Index>>& warm_starts,
    int n_threads) {
    check_matrix(A, "A");
    check_options(opt);
    if (G.cols() != A.cols())
        throw std::invalid_argument("G has " + std::to_string(G.cols()) + " columns but A has " +
                                    std::to_string(A.cols()));
    if (!G.allFinite()) throw std::invalid_argument("G contains NaN or inf");
    const Index m = G.rows();
    if (!(warm_starts.empty() || warm_starts.size() == 1 ||
          static_cast<Index>(warm_starts.size()) == m))
        throw std::invalid_argument("warm_starts must be empty, a single passive set or one per "
                                    "row of G (" + std::to_string(m) + "), got " +
                                    std::to_string(warm_starts.size()));
    for (const auto& w : warm_starts) check_warm(w, A.rows(), "warm_starts");
    if (n_threads < 1) throw std::invalid_argument("n_threads must be >= 1");

    const VectorXd rownorm = A.rowwise().norm();
    std::vector<ConeProjectionResult> out(static_cast<std::size_t>(m));
    static const std::vector<Index> kNone;
    auto warm_for = [&](Index i) -> const std::vector<Index>& {
        if (warm_starts.empty()) return kNone;
        return warm_starts.size() == 1 ? warm_starts[0] : warm_starts[static_cast<std::size_t>(i)];
    };
    // Small batches run on the calling thread (spawning costs more than it saves).
    const double total_work = static_cast<double>(m) * static_cast<double>(A.rows()) *
                        static_cast<double>(A.cols());
    const int T = total_work < kMinParallelWork
                      ? 1
                      : static_cast<int>(std::min<Index>(n_threads, std::max<Index>(m, 1)));
    parallel_for(T, T, [&](int, Index t) {
        Solver s(A, rownorm, opt);
        for (Index i = t; i < m; i += T) {
            check_interrupt();
            out[static_cast<std::size_t>(i)] = s.solve(G.row(i).transpose(), warm_for(i));
        }
    });
    return out;
}

SpikeFreeOracleResult spike_free_oracle(const Eigen::Ref<const RowMatrixXd>& X,
                                        const Eigen::Ref<const RowMatrixXd>& V,
                                        const ConeProjectionOptions& opt, double zero_tol,
                                        const std::vector<std::vector<Eigen::Index>>& warm_plus,
                                        const std::vector<std::vector<Eigen::Index>>& warm_minus,
                                        int n_threads) {
    check_matrix(X, "X");
    check_matrix(V, "V");
    if (V.rows() != X.rows())
        throw std::invalid_argument("V has " + std::to_string(V.rows()) + " rows but X has " +
                                    std::to_string(X.rows()) + " samples");
    if (!(zero_tol >= 0.0) || !std::isfinite(zero_tol))
        throw std::invalid_argument("zero_tol must be a finite number >= 0");
    const Index o = V.cols(), d = X.cols();
    for (const auto* w : {&warm_plus, &warm_minus})
        if (!w->empty() && static_cast<Index>(w->size()) != o)
            throw std::invalid_argument("warm starts must be empty or one passive set per column "
                                        "of V (" + std::to_string(o) + ")");
    RowMatrixXd G(2 * o, d);
    G.topRows(o).noalias() = V.transpose() * X;  // row k: (X^T v_k)^T
    G.bottomRows(o) = -G.topRows(o);
    std::vector<std::vector<Index>> warm;
    if (!warm_plus.empty() || !warm_minus.empty()) {
        warm.resize(static_cast<std::size_t>(2 * o));
        for (Index k = 0; k < o; ++k) {
            if (!warm_plus.empty()) warm[k] = warm_plus[k];
            if (!warm_minus.empty()) warm[o + k] = warm_minus[k];
        }
    }
    std::vector<ConeProjectionResult> res = cone_projection_batch(X, G, opt, warm, n_threads);

    SpikeFreeOracleResult r;
    r.u_max = RowMatrixXd::Zero(o, d);
    r.u_min = RowMatrixXd::Zero(o, d);
    r.value_max = VectorXd::Zero(o);
    r.value_min = VectorXd::Zero(o);
    r.converged = true;
    for (Index k = 0; k < o; ++k) {
        const double gnorm = G.row(k).norm();
        const ConeProjectionResult& p = res[static_cast<std::size_t>(k)];
        const ConeProjectionResult& q = res[static_cast<std::size_t>(o + k)];
        const double np = p.u.norm(), nq = q.u.norm();
        if (np > zero_tol * gnorm && np > 0.0) {
            r.u_max.row(k) = p.u.transpose() / np;
            r.value_max[k] = np;
        }
        if (nq > zero_tol * gnorm && nq > 0.0) {
            r.u_min.row(k) = q.u.transpose() / nq;
            r.value_min[k] = -nq;
        }
        r.converged = r.converged && p.converged && q.converged;
    }
    r.plus.assign(res.begin(), res.begin() + o);
    r.minus.assign(res.begin() + o, res.end());
    return r;
}


// ---------------------------------------------------------------------------------------
// max c^T u + c_b b  s.t.  A u + e b >= 0, ||u|| <= 1  via its dual
// min_{lambda >= 0, e^T lambda = -c_b} ||c + A^T lambda||  (see cone_projection.hpp).
AffineConeMaxResult affine_cone_max(const Eigen::Ref<const RowMatrixXd>& A,
                                    const Eigen::Ref<const Eigen::VectorXd>& e,
                                    const Eigen::Ref<const Eigen::VectorXd>& c, double c_b,
                                    const ConeProjectionOptions& opt) {
    check_matrix(A, "A");
    check_options(opt);
    const Index n = A.rows(), d = A.cols();
    if (e.size() != n)
        throw std::invalid_argument("e has length " + std::to_string(e.size()) + " but A has " +
                                    std::to_string(n) + " rows");
    if (c.size() != d)
        throw std::invalid_argument("c has length " + std::to_string(c.size()) + " but A has " +
                                    std::to_string(d) + " columns");
    if (!e.allFinite() || !c.allFinite() || !std::isfinite(c_b))
        throw std::invalid_argument("e, c and c_b must be finite");
    AffineConeMaxResult res;
    res.u = VectorXd::Zero(d);
    res.lambda = VectorXd::Zero(n);
    const double gamma = -c_b;
    const double cscale = c.norm() + std::abs(c_b);
    if (cscale == 0.0) {
        res.converged = true;
        res.message = "converged: zero objective";
        return res;
    }
    // equality e^T lambda = gamma infeasible over lambda >= 0: the primal ray (0, sign(c_b))
    // is feasible (e_i c_b >= 0 for all i) and increases the objective without bound.
    bool has_pos = false, has_neg = false, any_e = false;
    for (Index i = 0; i < n; ++i) {
        has_pos |= e[i] > 0.0;
        has_neg |= e[i] < 0.0;
    }
    any_e = has_pos || has_neg;
    if ((gamma > 0.0 && !has_pos) || (gamma < 0.0 && !has_neg)) {
        res.unbounded = true;
        res.converged = true;
        res.value = res.primal_value = std::numeric_limits<double>::infinity();
        res.b = c_b > 0.0 ? 1.0 : -1.0;  // direction of the unbounded ray
        res.message = "unbounded: e^T lambda = -c_b has no solution lambda >= 0";
        return res;
    }
    if (!any_e) {  // no coupling through b (gamma = 0 here): a plain cone projection
        ConeProjectionResult p = cone_projection(A, c, opt);
        const double pn = p.u.norm();
        res.converged = p.converged;
        res.n_iter = p.n_iter;
        res.lambda = p.lambda;
        if (pn > 0.0) {
            res.u = p.u / pn;
            res.value = pn;
            res.primal_value = c.dot(res.u);
        }
        res.primal_infeasibility = std::max(0.0, -p.min_Au / std::max(1.0, pn));
        res.message = p.message;
        return res;
    }

    const VectorXd rownorm = A.rowwise().norm();
    const int max_iter = opt.max_iter > 0
                             ? opt.max_iter
                             : static_cast<int>(std::max<Index>(100, 3 * (n + d)));
    std::vector<Index> F;
    std::vector<char> inF(static_cast<std::size_t>(n), 0), excluded(static_cast<std::size_t>(n), 0);
    VectorXd lamF;  // multipliers on F (same order)
    {
        const VectorXd Ac = A * c;
        Index best = -1;
        double best_val = std::numeric_limits<double>::infinity();
        for (Index j = 0; j < n; ++j) {
            if (e[j] == 0.0) continue;
            double val;
            if (gamma != 0.0) {
                if (!(e[j] * gamma > 0.0)) continue;
                const double t = gamma / e[j];  // ||c + t a_j||^2 - ||c||^2
                val = 2.0 * t * Ac[j] + t * t * rownorm[j] * rownorm[j];
            } else {
                val = Ac[j] / std::max(rownorm[j] + std::abs(e[j]), 1e-300);
            }
            if (val < best_val) {
                best_val = val;
                best = j;
            }
        }
        F.push_back(best);
        inF[best] = 1;
        lamF = VectorXd::Constant(1, gamma / e[best]);
    }

    VectorXd r(d), mu(n);
    double nu = 0.0;
    int iter = 0;
    Index just_added = -1;
    bool stopped = false;
    for (;;) {
        const Index k = static_cast<Index>(F.size());
        VectorXd ef(k);
        MatrixXd M(d, k);  // A_F^T
        for (Index p = 0; p < k; ++p) {
            ef[p] = e[F[p]];
            M.col(p) = A.row(F[p]).transpose();
        }
        // ---- equality-constrained least squares on F (null-space method)
        const double ee = ef.squaredNorm();
        VectorXd lam_star = (gamma / ee) * ef;
        bool dependent = false;
        if (k > 1) {
            // Householder reflector H = I - 2 h h^T / h^T h with H ef = -sign(ef_0)||ef|| e_1:
            // its columns 2..k are an orthonormal basis Z of ef^perp.
            VectorXd h = ef;
            h[0] += (ef[0] >= 0.0 ? 1.0 : -1.0) * std::sqrt(ee);
            MatrixXd Z = MatrixXd::Identity(k, k) - (2.0 / h.squaredNorm()) * h * h.transpose();
            const MatrixXd Zr = Z.rightCols(k - 1);
            const MatrixXd B = M * Zr;
            const VectorXd rhs = -(c + M * lam_star);
            Eigen::ColPivHouseholderQR<MatrixXd> qr(B);
            const double bmax = B.cwiseAbs().maxCoeff();
            qr.setThreshold(opt.dep_tol);
            if (qr.rank() < k - 1 || !(bmax > 0.0)) {
                dependent = true;
            } else {
                lam_star += Zr * qr.solve(rhs);
            }
        }
        if (dependent || (just_added >= 0 && !(lam_star[k - 1] > 0.0))) {
            // the entering column is numerically dependent, or its multiplier would not be
            // positive (rounding): skip it (Lawson-Hanson, Ch. 23)
            if (just_added < 0) break;  // cannot happen: F is independent when nothing was added
            F.pop_back();
            inF[just_added] = 0;
            excluded[just_added] = 1;
            lamF.conservativeResize(k - 1);
            just_added = -1;
            continue;
        }
        if (just_added >= 0)  // successful addition: earlier skipped rows may enter again
            std::fill(excluded.begin(), excluded.end(), 0);
        just_added = -1;
        bool need_step = false;
        for (Index p = 0; p < k; ++p)
            if (lam_star[p] < 0.0) need_step = true;
        if (need_step && k > 1) {
            // ratio test from the feasible lamF towards lam_star
            double alpha = 1.0;
            Index pmin = -1;
            for (Index p = 0; p < k; ++p)
                if (lam_star[p] < 0.0) {
                    const double den = lamF[p] - lam_star[p];
                    const double a = den > 0.0 ? lamF[p] / den : 0.0;
                    if (pmin < 0 || a < alpha) {
                        alpha = std::min(1.0, a);
                        pmin = p;
                    }
                }
            lamF += alpha * (lam_star - lamF);
            lamF[pmin] = 0.0;  // the blocking multiplier (exactly, despite rounding)
            std::vector<Index> F2;
            std::vector<double> l2;
            for (Index p = 0; p < k; ++p) {
                const bool drop = lam_star[p] < 0.0 && !(lamF[p] > 0.0) &&
                                  static_cast<Index>(F2.size()) + (k - p) > 1;
                if (drop) {
                    inF[F[p]] = 0;
                } else {
                    F2.push_back(F[p]);
                    l2.push_back(std::max(lamF[p], 0.0));
                }
            }
            F.swap(F2);
            lamF = Eigen::Map<VectorXd>(l2.data(), static_cast<Index>(l2.size()));
            ++iter;
            if (iter >= max_iter) break;
            continue;
        }
        lamF = lam_star.cwiseMax(0.0);
        // ---- reduced costs mu = A r + nu e of the bounds lambda_i >= 0
        r = c + M * lamF;
        nu = -ef.dot(M.transpose() * r) / ee;
        mu.noalias() = A * r;
        mu += nu * e;
        const double rn = r.norm();
        double rscale = cscale;  // rounding scale of r = c + A_F^T lambda_F
        for (Index p = 0; p < k; ++p) rscale += lamF[p] * rownorm[F[p]];
        if (rn <= 1e-12 * rscale) {  // dual value ~0 vs primal value 0 of (0, 0): optimal
            stopped = true;
            break;
        }
        Index best = -1;
        double best_val = 0.0;
        for (Index i = 0; i < n; ++i) {
            if (inF[i] || excluded[i]) continue;
            // absolute floor 1e-13 ||a_i|| (||c|| + |c_b|): at a zero optimum (r = 0) the
            // reduced costs are pure rounding
            const double scale = rownorm[i] * (rn + 1e-13 * cscale) + std::abs(nu * e[i]);
            if (!(scale > 0.0)) continue;
            const double s = mu[i] / scale;
            if (s < -opt.tol && s < best_val) {
                best_val = s;
                best = i;
            }
        }
        if (best < 0) {
            stopped = true;
            break;
        }
        if (iter >= max_iter) break;
        ++iter;
        F.push_back(best);
        inF[best] = 1;
        lamF.conservativeResize(k + 1);
        lamF[k] = 0.0;
        just_added = best;
    }
    // ---- result: r, nu belong to the final lamF (recomputed for safety)
    {
        const Index k = static_cast<Index>(F.size());
        VectorXd ef(k);
        MatrixXd M(d, k);
        for (Index p = 0; p < k; ++p) {
            ef[p] = e[F[p]];
            M.col(p) = A.row(F[p]).transpose();
            res.lambda[F[p]] = lamF[p];
        }
        r = c + M * lamF;
        nu = -ef.dot(M.transpose() * r) / ef.squaredNorm();
    }
    res.n_iter = iter;
    const double rn = r.norm();
    double eq = -gamma;
    for (Index i = 0; i < n; ++i) eq += e[i] * res.lambda[i];
    res.equality_residual = std::abs(eq);
    // the dual value ||r|| (lambda >= 0 with the equality) is an upper bound of the maximum;
    // at a (numerically) zero optimum the primal point is (0, 0) with value 0
    double rscale = cscale;
    for (Index i = 0; i < n; ++i) rscale += res.lambda[i] * rownorm[i];
    const bool zero_opt = rn <= 1e-12 * rscale;
    res.value = rn;
    if (!zero_opt) {
        res.u = r / rn;
        res.b = nu / rn;
        res.primal_value = c.dot(res.u) + c_b * res.b;
    }
    const VectorXd slack = A * res.u + res.b * e;
    double worst = 0.0;
    for (Index i = 0; i < n; ++i) {
        const double s = slack[i] / std::max(1.0, rownorm[i] + std::abs(e[i] * res.b));
        worst = std::min(worst, s);
    }
    res.primal_infeasibility = -worst;
    const double gap = std::abs(res.value - res.primal_value);
    // the primal point u = r/||r||, b = nu/||r|| carries the rounding of r (~eps * rscale)
    // amplified by 1/||r||: allow for it in the verification
    const double amp = zero_opt ? 0.0 : 1e-13 * rscale / rn;
    res.converged = stopped && res.primal_infeasibility <= 1e-8 + amp &&
                    (zero_opt || gap <= 1e-8 * std::max(1.0, res.value) + amp * rscale) &&
                    res.equality_residual <= 1e-8 * std::max(1.0, lamF.cwiseAbs().sum());
    if (res.converged)
        res.message = "converged";
    else if (!stopped)
        res.message = "not converged: iteration cap max_iter=" + std::to_string(max_iter) +
                      " reached";
    else
        res.message = "not converged: KKT check failed (primal infeasibility " +
                      fmt(res.primal_infeasibility) + ", primal-dual gap " + fmt(gap) +
                      ", equality residual " + fmt(res.equality_residual) + ")";
    return res;
}

}  // namespace fcr
