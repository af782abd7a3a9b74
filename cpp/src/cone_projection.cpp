// Projection onto a polyhedral cone by Lawson-Hanson NNLS, and the spike-free oracle (15)
// (see cone_projection.hpp for the mathematics).
#include "fastconvexrelu/cone_projection.hpp"

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
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(T));
    auto work = [&](int t) {
        try {
            Solver s(A, rownorm, opt);
            for (Index i = t; i < m; i += T)
                out[static_cast<std::size_t>(i)] = s.solve(G.row(i).transpose(), warm_for(i));
        } catch (...) {
            errors[static_cast<std::size_t>(t)] = std::current_exception();
        }
    };
    if (T == 1) {
        work(0);
    } else {
        std::vector<std::thread> pool;
        pool.reserve(static_cast<std::size_t>(T - 1));
        for (int t = 1; t < T; ++t) pool.emplace_back(work, t);
        work(0);
        for (auto& th : pool) th.join();
    }
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
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

}  // namespace fcr
