#include "fastconvexrelu/hull_neurons.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fcr {

namespace {

using Index = Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A point entering a corral of affinely independent points is rejected as (numerically)
// affinely dependent when its new pivot rho <= kDepTol * ||(c, q_j)||.
constexpr double kDepTol = 1e-12;
// Width of the Gram-matrix panels (fixed, so the Gram matrix does not depend on the threads).
constexpr Index kGramPanel = 128;

// Data shared (read-only) by all problems of a batch.
struct Shared {
    const MnpRowMatrix* Pc = nullptr;  // centred points, m x d
    const MnpRowMatrix* Tc = nullptr;  // centred targets, k x d (may be Pc)
    bool targets_are_points = false;   // Tc is Pc (target i is point i)
    const MatrixXd* G = nullptr;       // Gram matrix Pc Pc^T (m x m) or nullptr
    VectorXd pnorm2;                   // ||Pc_j||^2
    VectorXd mu;                       // centring offset (mean point)
    double pmax = 0.0;                 // max_j ||Pc_j||
    const CandidateSets* cand = nullptr;
    Index m = 0, d = 0;
    double tol = 0.0, zero_tol = 0.0;
    int max_iter = 0;
    Index ws_size = 0;  // working-set size (0: always scan all candidates)
};

// The candidate points of one target: a sorted index list, or all points but `exclude`.
struct CandView {
    const std::int64_t* list = nullptr;
    Index count = 0;     // number of candidates
    Index exclude = -1;  // all-points mode only

    template <class F>
    void for_each(Index m, F&& f) const {
        if (list != nullptr) {
            for (Index a = 0; a < count; ++a) f(static_cast<Index>(list[a]));
        } else {
            for (Index j = 0; j < m; ++j)
                if (j != exclude) f(j);
        }
    }
};

CandView candidate_view(const CandidateSets& cs, Index i, Index m) {
    CandView v;
    if (!cs.indptr.empty()) {
        const auto lo = cs.indptr[static_cast<std::size_t>(i)];
        const auto hi = cs.indptr[static_cast<std::size_t>(i) + 1];
        v.list = cs.indices.data() + lo;
        v.count = static_cast<Index>(hi - lo);
    } else {
        v.exclude = cs.exclude.empty() ? -1 : static_cast<Index>(cs.exclude[static_cast<std::size_t>(i)]);
        v.count = (v.exclude >= 0) ? m - 1 : m;
    }
    return v;
}

// Per-thread workspace: Wolfe's minimum-norm-point algorithm for one target at a time.
class Wolfe {
   public:
    explicit Wolfe(const Shared& sh) : sh_(sh) {
        const Index m = sh.m, d = sh.d;
        t_.resize(d);
        x_.resize(d);
        q_.resize(d);
        h_.resize(m);
        c_.resize(m);
        R_ = MatrixXd::Zero(16, 16);
        V_ = MatrixXd::Zero(d + 1, 16);
        b_.resize(d + 1);
    }

    // Solve problem i and write row i of the result; its support goes to `support`.
    void solve(Index i, MinNormResult& res, std::vector<std::pair<std::int64_t, double>>& support);

   private:
    void compute_x();                      // x = affine minimizer of the corral (= sum lam (p - t))
    Index select(const CandView& cv, bool use_gram);  // argmin_j x^T (p_j - t), all candidates
    Index select_ws();                     // the same over the working set
    void build_ws(const CandView& cv, Index ws);  // working set from the last full scan h_
    Index working_set_size(Index n_candidates) const;
    void reserve(Index k);                 // capacity for k corral points
    void start_corral(Index j0);           // corral {j0}
    bool add_point(Index j);               // append j to the corral (false: affinely dependent)
    void remove_point(Index pos);          // drop corral position pos (Givens re-triangularisation)
    void affine_minimizer();               // alpha_ = argmin ||Q_S a|| s.t. 1^T a = 1
    bool minor_cycles();                   // Wolfe's inner loop (false: no progress possible)

    const Shared& sh_;
    VectorXd t_, x_, q_, h_, c_;
    // QR factorization B = V R of B = [c 1^T; Q_S] ((d+1) x k, Q_S = [p_j - t]_{j in S}): V has
    // orthonormal columns, R is upper triangular (leading k columns / k x k block used).
    MatrixXd R_, V_;
    VectorXd b_, r2_, w_, best_x_;
    std::vector<Index> S_;
    std::vector<double> lam_, alpha_, z_;
    double c2_ = 1.0, c_scale_ = 1.0;
    // working set: point indices, their centred coordinates (rows) and scan values
    std::vector<Index> W_, best_S_;
    std::vector<double> best_lam_;
    std::vector<std::pair<double, Index>> heap_;
    MnpRowMatrix Wbuf_;
    VectorXd hW_;
};

Index Wolfe::working_set_size(Index n_candidates) const {
    const Index ws = sh_.ws_size;
    return (ws > 0 && n_candidates > 2 * ws) ? ws : 0;
}

void Wolfe::build_ws(const CandView& cv, Index ws) {
    // the ws candidates with the smallest (h_j, j), kept in a max-heap during one pass
    const Index m = sh_.m;
    heap_.clear();
    cv.for_each(m, [&](Index j) {
        const std::pair<double, Index> e(h_[j], j);
        if (static_cast<Index>(heap_.size()) < ws) {
            heap_.push_back(e);
            if (static_cast<Index>(heap_.size()) == ws) std::make_heap(heap_.begin(), heap_.end());
        } else if (e < heap_.front()) {
            std::pop_heap(heap_.begin(), heap_.end());
            heap_.back() = e;
            std::push_heap(heap_.begin(), heap_.end());
        }
    });
    W_.clear();
    for (const auto& e : heap_) W_.push_back(e.second);
    std::sort(W_.begin(), W_.end());
    const std::size_t n_w = W_.size();
    for (Index j : S_)
        if (!std::binary_search(W_.begin(), W_.begin() + static_cast<std::ptrdiff_t>(n_w), j)) W_.push_back(j);
    if (W_.size() > n_w) std::sort(W_.begin(), W_.end());
    const auto& P = *sh_.Pc;
    Wbuf_.resize(static_cast<Index>(W_.size()), sh_.d);
    for (std::size_t a = 0; a < W_.size(); ++a) Wbuf_.row(static_cast<Index>(a)) = P.row(W_[a]);
}

Index Wolfe::select_ws() {
    hW_.noalias() = Wbuf_ * x_;  // p_j^T x = x^T (p_j - t) + const
    Index best = 0;
    for (Index a = 1; a < hW_.size(); ++a)
        if (hW_[a] < hW_[best]) best = a;
    return W_[static_cast<std::size_t>(best)];
}

void Wolfe::compute_x() {
    // x = min-norm point of the affine hull of the corral, from the orthonormal factor:
    // y = (c, x) is the point of range(B) = range(V) with y_0 = c of least norm, y = V w with
    // w = c v0 / ||v0||^2.  Unlike sum_k lam_k (p_k - t), this stays accurate (to rounding in
    // the data) when the corral is ill-conditioned and x is small.
    const Index k = static_cast<Index>(S_.size());
    const auto v0 = V_.row(0).head(k);
    w_.noalias() = (c_scale_ / v0.squaredNorm()) * v0.transpose();
    x_.noalias() = V_.block(1, 0, sh_.d, k) * w_;
}

Index Wolfe::select(const CandView& cv, bool use_gram) {
    const Index m = sh_.m;
    const auto& P = *sh_.Pc;
    const bool dense_scan = cv.list == nullptr || cv.count * 8 >= m;
    if (use_gram && sh_.G != nullptr) {
        // x^T (p_j - t) = sum_k lam_k G(S_k, j) - c_j + const
        const MatrixXd& G = *sh_.G;
        if (dense_scan) {
            h_ = -c_;
            for (std::size_t a = 0; a < S_.size(); ++a) h_.noalias() += lam_[a] * G.col(S_[a]);
        } else {
            for (Index a = 0; a < cv.count; ++a) {
                const Index j = static_cast<Index>(cv.list[a]);
                double s = -c_[j];
                for (std::size_t b = 0; b < S_.size(); ++b) s += lam_[b] * G(S_[b], j);
                h_[j] = s;
            }
        }
    } else {
        // x^T (p_j - t) = p_j^T x + const
        if (dense_scan) {
            h_.noalias() = P * x_;
        } else {
            for (Index a = 0; a < cv.count; ++a) {
                const Index j = static_cast<Index>(cv.list[a]);
                h_[j] = P.row(j).dot(x_);
            }
        }
    }
    Index best = -1;
    double hmin = kInf;
    cv.for_each(m, [&](Index j) {
        if (h_[j] < hmin) {
            hmin = h_[j];
            best = j;
        }
    });
    if (best < 0) {  // only if h is NaN everywhere, which finite input excludes
        throw std::runtime_error("min_norm_points: non-finite values in the entering-point scan");
    }
    return best;
}

void Wolfe::reserve(Index k) {
    if (k <= R_.rows()) return;
    const Index cap = std::max<Index>(k, 2 * R_.rows());
    const Index n = static_cast<Index>(S_.size());
    MatrixXd Rn = MatrixXd::Zero(cap, cap);
    Rn.topLeftCorner(n, n) = R_.topLeftCorner(n, n);
    R_.swap(Rn);
    MatrixXd Vn = MatrixXd::Zero(sh_.d + 1, cap);
    Vn.leftCols(n) = V_.leftCols(n);
    V_.swap(Vn);
}

void Wolfe::start_corral(Index j0) {
    const auto& P = *sh_.Pc;
    S_.assign(1, j0);
    lam_.assign(1, 1.0);
    b_[0] = c_scale_;
    b_.tail(sh_.d) = P.row(j0).transpose() - t_;
    const double rho = b_.norm();
    V_.col(0) = b_ / rho;
    R_(0, 0) = rho;
}

bool Wolfe::add_point(Index j) {
    // New column b = (c, p_j - t) of B = [c 1^T; Q_S] = V R: classical Gram-Schmidt against the
    // orthonormal V with one re-orthogonalization ("twice is enough").
    const auto& P = *sh_.Pc;
    const Index k = static_cast<Index>(S_.size());
    reserve(k + 1);
    b_[0] = c_scale_;
    b_.tail(sh_.d) = P.row(j).transpose() - t_;
    const double bn = b_.norm();
    auto Vk = V_.leftCols(k);
    auto r = R_.col(k).head(k);
    r.noalias() = Vk.transpose() * b_;
    b_.noalias() -= Vk * r;
    r2_.noalias() = Vk.transpose() * b_;
    b_.noalias() -= Vk * r2_;
    r += r2_;
    const double rho = b_.norm();
    if (!(rho > kDepTol * bn)) return false;  // (numerically) affinely dependent on the corral
    V_.col(k) = b_ / rho;
    R_(k, k) = rho;
    S_.push_back(j);
    lam_.push_back(0.0);
    return true;
}

void Wolfe::remove_point(Index pos) {
    // Delete column pos of R (upper Hessenberg from pos on), restore the triangle with Givens
    // rotations G on rows (c, c + 1) and apply G^T to the columns of V so that B = V R still.
    const Index k = static_cast<Index>(S_.size());
    for (Index col = pos; col + 1 < k; ++col) R_.col(col).head(col + 2) = R_.col(col + 1).head(col + 2);
    for (Index col = pos; col + 1 < k; ++col) {
        const double a = R_(col, col), b = R_(col + 1, col);
        const double r = std::hypot(a, b);
        const double c = a / r, s = b / r;
        R_(col, col) = r;
        R_(col + 1, col) = 0.0;
        for (Index cc = col + 1; cc + 1 < k; ++cc) {
            const double u = R_(col, cc), v = R_(col + 1, cc);
            R_(col, cc) = c * u + s * v;
            R_(col + 1, cc) = -s * u + c * v;
        }
        for (Index row = 0; row <= sh_.d; ++row) {
            const double u = V_(row, col), v = V_(row, col + 1);
            V_(row, col) = c * u + s * v;
            V_(row, col + 1) = -s * u + c * v;
        }
    }
    S_.erase(S_.begin() + pos);
    lam_.erase(lam_.begin() + pos);
}

void Wolfe::affine_minimizer() {
    // The minimum-norm point of the affine hull of the corral has weights proportional to
    // (B^T B)^{-1} 1 = R^{-1} R^{-T} 1 = R^{-1} v0 / c, v0 = first row of V (B^T e_0 = c 1);
    // one triangular solve with the well-conditioned-as-possible R (no squaring of cond(B)).
    const Index k = static_cast<Index>(S_.size());
    alpha_.resize(static_cast<std::size_t>(k));
    z_.resize(static_cast<std::size_t>(k));
    for (Index a = 0; a < k; ++a) z_[static_cast<std::size_t>(a)] = V_(0, a);
    for (Index a = k - 1; a >= 0; --a) {  // R abar = v0, column oriented
        const double v = z_[static_cast<std::size_t>(a)] / R_(a, a);
        alpha_[static_cast<std::size_t>(a)] = v;
        for (Index b = 0; b < a; ++b) z_[static_cast<std::size_t>(b)] -= R_(b, a) * v;
    }
    const double s = std::accumulate(alpha_.begin(), alpha_.end(), 0.0);
    for (double& v : alpha_) v /= s;
}

bool Wolfe::minor_cycles() {
    for (bool first = true;; first = false) {
        affine_minimizer();
        const std::size_t k = S_.size();
        double amin = kInf;
        for (double v : alpha_) amin = std::min(amin, v);
        if (amin > 0.0) {
            lam_ = alpha_;
            return true;
        }
        // Move from lam towards alpha until the first weight hits zero.
        double theta = kInf;
        std::size_t kstar = 0;
        for (std::size_t a = 0; a < k; ++a) {
            if (alpha_[a] <= 0.0) {
                const double den = lam_[a] - alpha_[a];
                const double r = den > 0.0 ? lam_[a] / den : 0.0;
                if (r < theta) {
                    theta = r;
                    kstar = a;
                }
            }
        }
        if (first && theta == 0.0 && kstar + 1 == k) {
            // The entering point gets no weight: no descent is possible in floating point.
            remove_point(static_cast<Index>(kstar));
            return false;
        }
        for (std::size_t a = 0; a < k; ++a) lam_[a] = theta * alpha_[a] + (1.0 - theta) * lam_[a];
        lam_[kstar] = 0.0;
        for (Index a = static_cast<Index>(k) - 1; a >= 0; --a)
            if (!(lam_[static_cast<std::size_t>(a)] > 0.0)) remove_point(a);
        const double s = std::accumulate(lam_.begin(), lam_.end(), 0.0);
        for (double& v : lam_) v /= s;
    }
}

void Wolfe::solve(Index i, MinNormResult& res, std::vector<std::pair<std::int64_t, double>>& support) {
    const Index m = sh_.m, d = sh_.d;
    const auto& P = *sh_.Pc;
    const CandView cv = candidate_view(*sh_.cand, i, m);
    t_ = sh_.Tc->row(i).transpose();
    const double tau = t_.squaredNorm();

    // c_j = p_j^T t for the candidates
    if (sh_.targets_are_points && sh_.G != nullptr) {
        c_ = sh_.G->col(i);
    } else if (cv.list != nullptr && cv.count * 8 < m) {
        for (Index a = 0; a < cv.count; ++a) {
            const Index j = static_cast<Index>(cv.list[a]);
            c_[j] = P.row(j).dot(t_);
        }
    } else {
        c_.noalias() = P * t_;
    }
    // squared distances to the candidates: start point, scale M and the QR row scale c
    double M2 = 0.0, sum2 = 0.0, nmin = kInf;
    Index j0 = -1;
    cv.for_each(m, [&](Index j) {
        const double nj = std::max(0.0, sh_.pnorm2[j] - 2.0 * c_[j] + tau);
        M2 = std::max(M2, nj);
        sum2 += nj;
        if (nj < nmin) {
            nmin = nj;
            j0 = j;
        }
    });
    const double M = std::sqrt(M2);
    c2_ = sum2 / static_cast<double>(cv.count);
    if (!(c2_ > 0.0)) c2_ = 1.0;

    c_scale_ = std::sqrt(c2_);
    start_corral(j0);

    // Working set: between full scans of all candidates, the entering point is searched only
    // among the ws candidates with the smallest x^T (p_j - t) at the last full scan (plus the
    // corral).  Optimality is only ever declared after a full scan.
    const Index ws = working_set_size(cv.count);
    bool need_full = true;

    std::vector<Index>& best_S = best_S_;
    std::vector<double>& best_lam = best_lam_;
    double best_lb = 0.0;
    int status = kStalled;
    int iter = 0;
    bool zero = false;
    compute_x();
    double xx = x_.squaredNorm();
    double best_xx = xx;
    best_S = S_;
    best_lam = lam_;
    best_x_ = x_;
    double hmin_x = kNaN;  // min_j p_j^T x from a full scan at the current x (NaN: none)
    // Typical size of the rounding errors of the Gram-matrix scan values p_j^T (sum lam p) - c_j
    // (which carry cancellation when x is small against the data); when they are not small
    // against x^T x, a claim of optimality is re-checked with an exact scan in R^d.
    const double gram_err = sh_.G == nullptr ? 0.0
        : 4.0 * kEps * (std::sqrt(static_cast<double>(sh_.d)) + std::sqrt(static_cast<double>(std::min<Index>(cv.count, sh_.d + 1))) + 2.0) *
              sh_.pmax * (sh_.pmax + std::sqrt(tau));
    for (;;) {
        const double nx = std::sqrt(xx);
        if (nx <= sh_.zero_tol * M) {
            zero = true;
            status = kZeroDistance;
            break;
        }
        const double tol_abs = sh_.tol * xx + 64.0 * kEps * nx * M;
        const bool full = need_full;
        Index j = full ? select(cv, true) : select_ws();
        q_ = P.row(j).transpose() - t_;
        double gmin = x_.dot(q_);
        if (full && sh_.G != nullptr && xx - gmin <= tol_abs + 2.0 * gram_err &&
            2.0 * gram_err > tol_abs + 1e-10 * xx) {
            j = select(cv, false);  // the Gram scan is too coarse here: scan exactly
            q_ = P.row(j).transpose() - t_;
            gmin = x_.dot(q_);
        }
        if (full) {
            // any full scan certifies dist >= min_j u^T (t - p_j) for u = -x / ||x||
            best_lb = std::max(best_lb, std::max(0.0, gmin) / nx);
            hmin_x = h_[j];  // min_j p_j^T x over the candidates, for the bias
        }
        const bool optimal = xx - gmin <= tol_abs;
        const bool blocked = std::find(S_.begin(), S_.end(), j) != S_.end() ||
                             static_cast<Index>(S_.size()) >= std::min<Index>(cv.count, d + 1);
        if (optimal || blocked) {
            if (full) {
                status = optimal ? kConverged : kStalled;
                break;
            }
            need_full = true;
            continue;
        }
        if (full && ws > 0) build_ws(cv, ws);
        need_full = ws == 0;
        hmin_x = kNaN;  // x is about to change
        if (iter >= sh_.max_iter) {
            status = kMaxIter;
            break;
        }
        if ((iter & 63) == 0) check_interrupt();
        ++iter;
        if (!add_point(j) || !minor_cycles()) {  // corral unchanged
            if (full) {
                status = kStalled;
                break;
            }
            need_full = true;
            continue;
        }
        compute_x();
        xx = x_.squaredNorm();
        if (!(xx < best_xx)) {  // no decrease (rounding): keep the best corral
            status = kStalled;
            hmin_x = kNaN;
            break;
        }
        best_xx = xx;
        best_S = S_;
        best_lam = lam_;
        best_x_ = x_;
    }
    if (zero) {
        best_S = S_;
        best_lam = lam_;
        best_x_ = x_;
        best_lb = 0.0;
    }

    // Outputs, from the best corral.
    S_ = best_S;
    lam_ = best_lam;
    x_ = best_x_;
    const double dist = zero ? 0.0 : x_.norm();
    res.residuals.row(i) = -x_.transpose();
    res.distances[i] = dist;
    res.lower_bounds[i] = zero ? 0.0 : std::min(best_lb, dist);
    res.n_iter[i] = iter;
    res.status[i] = status;
    if (dist > 0.0) {
        // b = min_j (-p_j^T u) in the original coordinates: p_j = Pc_j + mu
        q_ = -x_ / dist;  // u
        double smax = -kInf;
        if (!std::isnan(hmin_x) && (gram_err == 0.0 || gram_err <= 1e-12 * x_.squaredNorm())) {
            smax = -hmin_x / dist;  // from the final full scan (accurate enough)
        } else if (cv.list != nullptr && cv.count * 8 < m) {
            for (Index a = 0; a < cv.count; ++a) smax = std::max(smax, P.row(static_cast<Index>(cv.list[a])).dot(q_));
        } else {
            h_.noalias() = P * q_;
            cv.for_each(m, [&](Index j) { smax = std::max(smax, h_[j]); });
        }
        res.biases[i] = -(smax + sh_.mu.dot(q_));
    } else {
        res.biases[i] = kNaN;
    }
    support.clear();
    for (std::size_t a = 0; a < S_.size(); ++a) support.emplace_back(S_[a], lam_[a]);
    std::sort(support.begin(), support.end());
}

void validate_candidates(const CandidateSets& cs, Index m, Index k) {
    const bool has_ex = !cs.exclude.empty();
    const bool has_lists = !cs.indptr.empty() || !cs.indices.empty();
    if (has_ex && has_lists) {
        throw std::invalid_argument("candidates: give either exclude or index lists, not both");
    }
    if (has_ex) {
        if (static_cast<Index>(cs.exclude.size()) != k) {
            throw std::invalid_argument("candidates: exclude must have one entry per target (" +
                                        std::to_string(k) + "), got " + std::to_string(cs.exclude.size()));
        }
        for (std::size_t i = 0; i < cs.exclude.size(); ++i) {
            const auto e = cs.exclude[i];
            if (e < -1 || e >= m) {
                throw std::invalid_argument("candidates: exclude[" + std::to_string(i) + "] = " +
                                            std::to_string(e) + " is not a point index or -1");
            }
            if (e >= 0 && m == 1) {
                throw std::invalid_argument("candidates: target " + std::to_string(i) +
                                            " has no candidate points left");
            }
        }
    } else if (has_lists) {
        if (static_cast<Index>(cs.indptr.size()) != k + 1 || cs.indptr.front() != 0 ||
            cs.indptr.back() != static_cast<std::int64_t>(cs.indices.size())) {
            throw std::invalid_argument("candidates: indptr must have k + 1 entries from 0 to len(indices)");
        }
        for (Index i = 0; i < k; ++i) {
            const auto lo = cs.indptr[static_cast<std::size_t>(i)];
            const auto hi = cs.indptr[static_cast<std::size_t>(i) + 1];
            if (hi <= lo) {
                throw std::invalid_argument("candidates: target " + std::to_string(i) +
                                            " has an empty candidate set");
            }
            for (auto a = lo; a < hi; ++a) {
                const auto j = cs.indices[static_cast<std::size_t>(a)];
                if (j < 0 || j >= m) {
                    throw std::invalid_argument("candidates: index " + std::to_string(j) + " of target " +
                                                std::to_string(i) + " is out of range [0, " +
                                                std::to_string(m) + ")");
                }
                if (a > lo && j <= cs.indices[static_cast<std::size_t>(a) - 1]) {
                    throw std::invalid_argument("candidates: the indices of target " + std::to_string(i) +
                                                " must be strictly increasing");
                }
            }
        }
    }
}

}  // namespace

MinNormResult min_norm_points(const Eigen::Ref<const MnpRowMatrix>& P, const Eigen::Ref<const MnpRowMatrix>& T,
                              const CandidateSets& candidates, const MinNormOptions& options) {
    const Index m = P.rows(), d = P.cols(), k = T.rows();
    if (m == 0 || d == 0) throw std::invalid_argument("P must be non-empty");
    if (k == 0) throw std::invalid_argument("T must be non-empty");
    if (T.cols() != d) {
        throw std::invalid_argument("T must have as many columns as P (" + std::to_string(d) + "), got " +
                                    std::to_string(T.cols()));
    }
    if (!P.allFinite()) throw std::invalid_argument("P contains NaN or inf");
    if (!T.allFinite()) throw std::invalid_argument("T contains NaN or inf");
    if (!(options.tol >= 0.0) || !std::isfinite(options.tol)) {
        throw std::invalid_argument("tol must be a finite non-negative number");
    }
    if (!(options.zero_tol >= 0.0) || !std::isfinite(options.zero_tol)) {
        throw std::invalid_argument("zero_tol must be a finite non-negative number");
    }
    if (options.gram < -1 || options.gram > 1) throw std::invalid_argument("gram must be -1, 0 or 1");
    validate_candidates(candidates, m, k);

    const bool same = T.data() == P.data() && k == m && T.outerStride() == P.outerStride();

    Shared sh;
    sh.m = m;
    sh.d = d;
    sh.cand = &candidates;
    sh.tol = options.tol;
    sh.zero_tol = options.zero_tol;
    sh.ws_size = std::max<Index>(0, options.working_set);
    sh.max_iter = options.max_iter > 0 ? options.max_iter : static_cast<int>(std::min<Index>(1000 + 50 * (d + 1), 1 << 30));
    sh.mu = P.colwise().mean().transpose();
    MnpRowMatrix Pc = P.rowwise() - sh.mu.transpose();
    MnpRowMatrix Tc;
    if (!same) Tc = T.rowwise() - sh.mu.transpose();
    sh.Pc = &Pc;
    sh.Tc = same ? &Pc : &Tc;
    sh.pnorm2 = Pc.rowwise().squaredNorm();
    sh.pmax = std::sqrt(sh.pnorm2.maxCoeff());

    const bool use_gram =
        options.gram == 1 || (options.gram == -1 && m <= options.gram_max_points && d > 32 && 32 * k >= m);
    const int nt = resolve_threads(options.n_threads, k);
    MatrixXd G;
    if (use_gram) {
        // Lower-triangular panels of Pc Pc^T, then mirrored; fixed panel sizes, so the result
        // is independent of the number of threads.
        G.resize(m, m);
        const Index n_panels = (m + kGramPanel - 1) / kGramPanel;
        parallel_for(n_panels, resolve_threads(options.n_threads, n_panels), [&](int, Index p) {
            const Index c0 = p * kGramPanel, w = std::min(kGramPanel, m - c0);
            G.block(c0, c0, m - c0, w).noalias() = Pc.middleRows(c0, m - c0) * Pc.middleRows(c0, w).transpose();
        });
        parallel_for(n_panels, resolve_threads(options.n_threads, n_panels), [&](int, Index p) {
            const Index c0 = p * kGramPanel, w = std::min(kGramPanel, m - c0);
            // upper part of columns c0..c0+w-1: rows 0..c0+w-1 above the diagonal
            for (Index c = c0; c < c0 + w; ++c)
                for (Index r = 0; r < c; ++r) G(r, c) = G(c, r);
        });
        sh.G = &G;
    }
    sh.targets_are_points = same && sh.G != nullptr;

    MinNormResult res;
    res.used_gram = use_gram;
    res.residuals.resize(k, d);
    res.distances.resize(k);
    res.lower_bounds.resize(k);
    res.biases.resize(k);
    res.n_iter.resize(k);
    res.status.resize(k);
    std::vector<std::vector<std::pair<std::int64_t, double>>> supports(static_cast<std::size_t>(k));

    std::vector<Wolfe> workers;
    workers.reserve(static_cast<std::size_t>(nt));
    for (int w = 0; w < nt; ++w) workers.emplace_back(sh);
    parallel_for(k, nt, [&](int w, Index i) {
        workers[static_cast<std::size_t>(w)].solve(i, res, supports[static_cast<std::size_t>(i)]);
    });

    res.indptr.resize(static_cast<std::size_t>(k) + 1);
    res.indptr[0] = 0;
    for (Index i = 0; i < k; ++i)
        res.indptr[static_cast<std::size_t>(i) + 1] =
            res.indptr[static_cast<std::size_t>(i)] + static_cast<std::int64_t>(supports[static_cast<std::size_t>(i)].size());
    res.indices.reserve(static_cast<std::size_t>(res.indptr.back()));
    res.weights.reserve(static_cast<std::size_t>(res.indptr.back()));
    for (const auto& s : supports)
        for (const auto& e : s) {
            res.indices.push_back(e.first);
            res.weights.push_back(e.second);
        }
    return res;
}

HullNeurons hull_neurons(const Eigen::Ref<const MnpRowMatrix>& X, const MinNormOptions& options) {
    const Index n = X.rows(), d = X.cols();
    if (n < 2) {
        throw std::invalid_argument("X must have at least 2 samples (rows): the hull neuron of a sample is "
                                    "defined by the convex hull of the others; got " + std::to_string(n));
    }
    if (d == 0) throw std::invalid_argument("X must have at least 1 feature (column)");
    CandidateSets cs;
    cs.exclude.resize(static_cast<std::size_t>(n));
    std::iota(cs.exclude.begin(), cs.exclude.end(), std::int64_t{0});
    MinNormResult r = min_norm_points(X, X, cs, options);
    HullNeurons h;
    h.U.resize(d, n);
    for (Index i = 0; i < n; ++i) {
        if (r.distances[i] > 0.0) {
            h.U.col(i) = r.residuals.row(i).transpose() / r.distances[i];
        } else {
            h.U.col(i).setConstant(kNaN);
        }
    }
    h.b = std::move(r.biases);
    h.distances = std::move(r.distances);
    h.lower_bounds = std::move(r.lower_bounds);
    h.status = std::move(r.status);
    return h;
}

}  // namespace fcr
