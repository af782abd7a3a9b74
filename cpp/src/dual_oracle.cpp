// Branch and bound for sigma(v) = max_{||u|| <= 1, b} |v^T (X u + b 1)_+|; see dual_oracle.hpp.
#include "fastconvexrelu/dual_oracle.hpp"

#include "fastconvexrelu/parallel.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace fcr {

namespace {

using Index = Eigen::Index;
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Node {
    double ub;
    int sign;
    Index split = 0;          // branching coordinate (from the bound computation)
    std::vector<double> box;  // lo[0, D), hi[0, D)
};

struct NodeLess {
    bool operator()(const Node& a, const Node& b) const { return a.ub < b.ub; }
};

// Upper bound on max c^T u over {lo <= u <= hi, ||u|| <= 1} (the Lagrangian dual value
// q(mu) = c^T u(mu) - mu/2 (||u(mu)||^2 - 1), u(mu) = clip(c/mu, lo, hi), valid for every
// mu >= 0, minimized by bisection); u_out: a feasible point (in the box, ||u|| <= 1).
// Returns -inf when the box misses the ball.
double linear_max_box_ball(const double* c, const double* lo, const double* hi, Index d,
                           double* u_out) {
    double pn = 0.0;  // closest point of the box to the origin
    for (Index j = 0; j < d; ++j) {
        const double p = std::min(std::max(0.0, lo[j]), hi[j]);
        pn += p * p;
    }
    if (pn > 1.0 + 1e-12) return -kInf;
    double qn = 0.0, qv = 0.0;  // the box's maximizing corner
    for (Index j = 0; j < d; ++j) {
        const double q = c[j] > 0 ? hi[j] : (c[j] < 0 ? lo[j] : std::min(std::max(0.0, lo[j]), hi[j]));
        u_out[j] = q;
        qn += q * q;
        qv += c[j] * q;
    }
    if (qn <= 1.0) return qv;  // the corner lies in the ball: exact
    auto eval = [&](double mu, double* u, double* norm2) {
        double val = 0.0, nn = 0.0;
        for (Index j = 0; j < d; ++j) {
            const double x = std::min(std::max(c[j] / mu, lo[j]), hi[j]);
            if (u) u[j] = x;
            val += c[j] * x;
            nn += x * x;
        }
        *norm2 = nn;
        return val;
    };
    double cn = 0.0;
    for (Index j = 0; j < d; ++j) cn += c[j] * c[j];
    cn = std::sqrt(cn);
    double best_dual = qv;  // mu = 0: the box maximum
    double mu_hi = std::max(cn, 1e-300), nn = 0.0;
    double val = eval(mu_hi, nullptr, &nn);
    best_dual = std::min(best_dual, val - 0.5 * mu_hi * (nn - 1.0));
    int guard = 0;
    while (nn > 1.0 && guard++ < 200) {  // ||u(mu)|| decreases to ||p|| <= 1 as mu grows
        mu_hi *= 2.0;
        val = eval(mu_hi, nullptr, &nn);
        best_dual = std::min(best_dual, val - 0.5 * mu_hi * (nn - 1.0));
    }
    double mu_lo = mu_hi * 0.5;
    if (nn > 1.0) {  // ||p|| ~ 1: the box touches the ball at p only
        for (Index j = 0; j < d; ++j) u_out[j] = std::min(std::max(0.0, lo[j]), hi[j]);
        return best_dual;
    }
    for (int it = 0; it < 60; ++it) {
        const double mu = 0.5 * (mu_lo + mu_hi);
        val = eval(mu, nullptr, &nn);
        best_dual = std::min(best_dual, val - 0.5 * mu * (nn - 1.0));
        if (nn > 1.0) mu_lo = mu; else mu_hi = mu;
        if (mu_hi - mu_lo <= 1e-14 * mu_hi) break;
    }
    eval(mu_hi, u_out, &nn);  // feasible (||u|| <= 1)
    return best_dual;
}

class BranchAndBound {
public:
    BranchAndBound(const RowMatrixXd& A, const Eigen::VectorXd& v, const Eigen::VectorXd& xnorm,
                   Index d, bool bias, double R, const DualOracleOptions& opt)
        : A_(A), absA_(A.cwiseAbs()), v_(v), xnorm_(xnorm), n_(A.rows()), D_(A.cols()), d_(d),
          bias_(bias), R_(R), opt_(opt) {
        double scale = 0.0;
        for (Index i = 0; i < n_; ++i) scale += std::abs(v_[i]) * (xnorm_[i] + R_ + 1.0);
        // rounding of the O(n D) sums of the bound (generous: 64 n eps)
        abs_margin_ = 64.0 * static_cast<double>(n_ + D_) * 2.220446049250313e-16 * scale;
    }

    // exact s v^T (A z)_+
    double value(int s, const double* z) const {
        double g = 0.0;
        for (Index i = 0; i < n_; ++i) {
            const double* a = A_.data() + i * D_;
            double p = 0.0;
            for (Index j = 0; j < D_; ++j) p += a[j] * z[j];
            if (p > 0) g += v_[i] * p;
        }
        return s * g;
    }

    // candidate (u, b) scaled to a unit u, b optimized exactly (bias); updates best_*
    void offer(int s, const double* z, std::vector<double>& t, Eigen::VectorXd& w, bool optimize_b,
               double* best_val, std::vector<double>& best_z, int* best_s) const {
        double un = 0.0;
        for (Index j = 0; j < d_; ++j) un += z[j] * z[j];
        un = std::sqrt(un);
        if (!(un > 0)) return;
        std::vector<double> zz(z, z + D_);
        for (auto& x : zz) x /= un;
        double val = value(s, zz.data());
        if (bias_ && optimize_b) {
            Eigen::VectorXd tt(n_);
            for (Index i = 0; i < n_; ++i) {
                const double* a = A_.data() + i * D_;
                double p = 0.0;
                for (Index j = 0; j < d_; ++j) p += a[j] * zz[j];
                tt[i] = p;
                w[i] = s * v_[i];
            }
            double b = 0.0;
            const double vb = best_bias_value(tt, w, &b);
            if (vb > val) {
                zz[d_] = b;
                val = value(s, zz.data());  // recomputed in the same arithmetic as the others
            }
        }
        (void)t;
        if (val > *best_val) {
            *best_val = val;
            best_z = zz;
            *best_s = s;
        }
    }

    // domain bound; z_out: the relaxation's maximizer; split: the branching coordinate
    double bound(int s, const double* lo, const double* hi, double* z_out, Index* split,
                 std::vector<double>& c, std::vector<double>& score, std::vector<double>& centre,
                 std::vector<double>& half) const {
        double pn = 0.0;
        for (Index j = 0; j < d_; ++j) {
            const double p = std::min(std::max(0.0, lo[j]), hi[j]);
            pn += p * p;
        }
        if (pn > 1.0 + 1e-12) return -kInf;
        for (Index j = 0; j < D_; ++j) {
            centre[j] = 0.5 * (lo[j] + hi[j]);
            half[j] = 0.5 * (hi[j] - lo[j]);
            c[j] = 0.0;
            score[j] = 0.0;
        }
        double k = 0.0;
        const double blo = bias_ ? lo[d_] : 0.0, bhi = bias_ ? hi[d_] : 0.0;
        for (Index i = 0; i < n_; ++i) {
            const double w = s * v_[i];
            if (w == 0.0) continue;
            const double* a = A_.data() + i * D_;
            const double* aa = absA_.data() + i * D_;
            double m = 0.0, r = 0.0;
            for (Index j = 0; j < D_; ++j) {
                m += a[j] * centre[j];
                r += aa[j] * half[j];
            }
            const double L = std::max(m - r, -xnorm_[i] + blo);
            const double U = std::min(m + r, xnorm_[i] + bhi);
            if (U <= 0.0) continue;  // stably off
            if (L >= 0.0) {          // stably on: exact
                for (Index j = 0; j < D_; ++j) c[j] += w * a[j];
                continue;
            }
            // unstable: chord (w > 0) / supporting line of the concave side (w < 0)
            const double lam = U / (U - L);
            for (Index j = 0; j < D_; ++j) {
                c[j] += w * lam * a[j];
                score[j] += std::abs(w) * aa[j];
            }
            if (w > 0) k -= w * lam * L;
        }
        double ub = linear_max_box_ball(c.data(), lo, hi, d_, z_out);
        if (ub == -kInf) return -kInf;
        if (bias_) {
            const double cb = c[d_];
            z_out[d_] = cb > 0 ? bhi : blo;
            ub += cb * z_out[d_];
        }
        ub += k;
        ub += 1e-12 * std::abs(ub) + abs_margin_;
        Index best = 0;
        double bs = -1.0;
        for (Index j = 0; j < D_; ++j) {
            const double sc = score[j] * half[j];
            if (sc > bs) {
                bs = sc;
                best = j;
            }
        }
        if (bs <= 0.0) {  // no unstable sample: split the widest side
            for (Index j = 0; j < D_; ++j)
                if (half[j] > half[best]) best = j;
        }
        *split = best;
        return ub;
    }

    Index n_threads_resolved() const { return resolve_threads(opt_.n_threads, 64); }

    const RowMatrixXd& A_;
    RowMatrixXd absA_;
    Eigen::VectorXd v_;
    Eigen::VectorXd xnorm_;
    Index n_, D_, d_;
    bool bias_;
    double R_;
    const DualOracleOptions& opt_;
    double abs_margin_ = 0.0;
};

}  // namespace

double best_bias_value(const Eigen::Ref<const Eigen::VectorXd>& t, const Eigen::Ref<const Eigen::VectorXd>& w,
                       double* b_out) {
    const Index n = t.size();
    std::vector<Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Index(0));
    std::sort(order.begin(), order.end(), [&](Index a, Index b) { return t[a] > t[b]; });
    // b = -t_(k): the top k samples are on, value sum_{j <= k} w_j (t_j - t_(k))
    double sw = 0.0, swt = 0.0, best = 0.0, bb = n ? -t[order[0]] : 0.0;
    for (Index k = 0; k < n; ++k) {
        const Index i = order[static_cast<std::size_t>(k)];
        sw += w[i];
        swt += w[i] * t[i];
        const double h = swt - t[i] * sw;
        if (h > best) {
            best = h;
            bb = -t[i];
        }
    }
    if (b_out) *b_out = bb;
    return best;
}

DualOracleResult dual_oracle(const Eigen::Ref<const RowMatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& v,
                             const Eigen::Ref<const RowMatrixXd>& cand_U,
                             const Eigen::Ref<const Eigen::VectorXd>& cand_b, const DualOracleOptions& opt,
                             const DualOracleCallback& progress) {
    const Index n = X.rows(), d = X.cols();
    if (n < 1 || d < 1) throw std::invalid_argument("X must have at least one row and one column");
    if (v.size() != n)
        throw std::invalid_argument("v must have length n_samples = " + std::to_string(n) + ", got " +
                                    std::to_string(v.size()));
    if (!X.allFinite()) throw std::invalid_argument("X contains NaN or infinity");
    if (!v.allFinite()) throw std::invalid_argument("v contains NaN or infinity");
    if (cand_U.rows() > 0 && cand_U.cols() != d)
        throw std::invalid_argument("candidates must have n_features = " + std::to_string(d) + " columns");
    if (cand_b.size() != cand_U.rows())
        throw std::invalid_argument("candidate biases must have one entry per candidate");
    if (!(opt.time_limit > 0)) throw std::invalid_argument("time_limit must be > 0");
    if (opt.node_limit < 1) throw std::invalid_argument("node_limit must be >= 1");
    if (opt.max_open < 1) throw std::invalid_argument("max_open must be >= 1");
    if (!(opt.rel_tol >= 0) || !std::isfinite(opt.rel_tol)) throw std::invalid_argument("rel_tol must be finite and >= 0");
    if (!(opt.floor >= 0) || !std::isfinite(opt.floor)) throw std::invalid_argument("floor must be finite and >= 0");
    if (opt.n_random < 0) throw std::invalid_argument("n_random must be >= 0");

    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

    const bool bias = opt.bias;
    const Index D = bias ? d + 1 : d;
    RowMatrixXd A(n, D);
    A.leftCols(d) = X;
    if (bias) A.col(d).setOnes();
    Eigen::VectorXd xnorm = X.rowwise().norm();
    const double R = xnorm.maxCoeff();
    BranchAndBound bb(A, v, xnorm, d, bias, R, opt);

    // -- first lower bound: candidates and random directions ------------------------------
    double best_val = 0.0;
    std::vector<double> best_z(static_cast<std::size_t>(D), 0.0);
    best_z[0] = 1.0;
    int best_s = 1;
    {
        std::vector<double> t;
        Eigen::VectorXd w(n);
        std::vector<double> z(static_cast<std::size_t>(D));
        for (Index k = 0; k < cand_U.rows(); ++k) {
            for (Index j = 0; j < d; ++j) z[j] = cand_U(k, j);
            if (bias) z[d] = cand_b[k];
            for (int s : {1, -1}) {
                bb.offer(s, z.data(), t, w, false, &best_val, best_z, &best_s);
                bb.offer(s, z.data(), t, w, true, &best_val, best_z, &best_s);
            }
        }
        std::mt19937_64 rng(opt.seed);
        std::normal_distribution<double> nd;
        for (int k = 0; k < opt.n_random; ++k) {
            for (Index j = 0; j < d; ++j) z[j] = nd(rng);
            if (bias) z[d] = 0.0;
            for (int s : {1, -1}) bb.offer(s, z.data(), t, w, true, &best_val, best_z, &best_s);
        }
    }

    // -- branch and bound ------------------------------------------------------------------
    std::vector<Node> heap;
    std::mutex mtx;
    std::condition_variable cv;
    std::int64_t nodes = 0;
    int busy = 0;
    bool stop = false;
    std::string status;
    const int nt = resolve_threads(opt.n_threads, 64);
    std::vector<double> busy_ub(static_cast<std::size_t>(nt), -kInf);
    auto threshold = [&] { return std::max(best_val, opt.floor); };

    {  // roots
        std::vector<double> c(D), score(D), centre(D), half(D), z(D);
        for (int s : {1, -1}) {
            Node nd;
            nd.sign = s;
            nd.box.assign(static_cast<std::size_t>(2 * D), 0.0);
            for (Index j = 0; j < d; ++j) {
                nd.box[j] = -1.0;
                nd.box[D + j] = 1.0;
            }
            if (bias) {
                nd.box[d] = -R;
                nd.box[D + d] = R;
            }
            nd.ub = bb.bound(s, nd.box.data(), nd.box.data() + D, z.data(), &nd.split, c, score, centre, half);
            ++nodes;
            if (nd.ub > threshold()) {
                heap.push_back(std::move(nd));
                std::push_heap(heap.begin(), heap.end(), NodeLess());
            }
        }
    }
    double last_report = 0.0;

    auto upper_now = [&] {  // under the lock
        double u = threshold();
        if (!heap.empty()) u = std::max(u, heap.front().ub);
        for (double x : busy_ub) u = std::max(u, x);
        return u;
    };

    auto worker = [&](int wid) {
        std::vector<double> c(D), score(D), centre(D), half(D), z(D), t;
        Eigen::VectorXd w(n);
        try {
            for (;;) {
                check_interrupt();
                Node nd;
                {
                    std::unique_lock<std::mutex> lock(mtx);
                    for (;;) {
                        if (stop) return;
                        const double thr = threshold();
                        double up = upper_now();
                        if (up <= (1.0 + opt.rel_tol) * thr) {
                            stop = true;
                            status = "converged";
                            cv.notify_all();
                            return;
                        }
                        if (best_val > opt.stop_above) {
                            stop = true; status = "violated"; cv.notify_all(); return;
                        }
                        if (nodes >= opt.node_limit) {
                            stop = true; status = "node_limit"; cv.notify_all(); return;
                        }
                        if (static_cast<std::int64_t>(heap.size()) >= opt.max_open) {
                            stop = true; status = "memory_limit"; cv.notify_all(); return;
                        }
                        if (elapsed() >= opt.time_limit) {
                            stop = true; status = "time_limit"; cv.notify_all(); return;
                        }
                        if (!heap.empty()) break;
                        // another worker will push children or finish; meanwhile keep
                        // polling for an interrupt (fcr::Interrupted: the catch below stops all)
                        cv.wait_for(lock, std::chrono::milliseconds(50));
                        if (interrupt_pending() || (wid == 0 && poll_interrupt())) throw Interrupted();
                    }
                    std::pop_heap(heap.begin(), heap.end(), NodeLess());
                    nd = std::move(heap.back());
                    heap.pop_back();
                    busy_ub[static_cast<std::size_t>(wid)] = nd.ub;
                    ++busy;
                }
                const Index split = nd.split;
                const double* lo = nd.box.data();
                const double* hi = nd.box.data() + D;
                const double mid = 0.5 * (lo[split] + hi[split]);
                Node ch[2];
                double cand_val = -kInf;
                std::vector<double> cand_z;
                int cand_s = nd.sign;
                for (int h = 0; h < 2; ++h) {
                    ch[h].sign = nd.sign;
                    ch[h].box = nd.box;
                    if (h == 0) ch[h].box[D + split] = mid; else ch[h].box[split] = mid;
                    const double ub = bb.bound(nd.sign, ch[h].box.data(), ch[h].box.data() + D, z.data(), &ch[h].split, c,
                                               score, centre, half);
                    ch[h].ub = std::min(ub, nd.ub);  // both bound the child's maximum
                    if (ub > -kInf) {
                        bb.offer(nd.sign, z.data(), t, w, false, &cand_val, cand_z, &cand_s);
                        if (cand_val >= 0.9 * best_val)
                            bb.offer(nd.sign, z.data(), t, w, true, &cand_val, cand_z, &cand_s);
                    }
                }
                {
                    std::lock_guard<std::mutex> lock(mtx);
                    nodes += 2;
                    if (cand_val > best_val) {
                        best_val = cand_val;
                        best_z = cand_z;
                        best_s = cand_s;
                    }
                    const double thr = threshold();
                    for (auto& x : ch) {
                        if (x.ub > thr) {
                            heap.push_back(std::move(x));
                            std::push_heap(heap.begin(), heap.end(), NodeLess());
                        }
                    }
                    busy_ub[static_cast<std::size_t>(wid)] = -kInf;
                    --busy;
                    cv.notify_all();
                }
                if (wid == 0 && progress && opt.progress_interval > 0) {
                    const double now = elapsed();
                    if (now - last_report >= opt.progress_interval) {
                        last_report = now;
                        DualOracleProgress p;
                        {
                            std::lock_guard<std::mutex> lock(mtx);
                            p.nodes = nodes;
                            p.open = static_cast<std::int64_t>(heap.size());
                            p.lower = best_val;
                            p.upper = upper_now();
                        }
                        p.seconds = now;
                        progress(p);
                    }
                }
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(mtx);
            stop = true;
            if (status.empty()) status = "error";
            cv.notify_all();
            throw;
        }
    };
    parallel_for(nt, nt, [&](int wid, Index) { worker(wid); });

    DualOracleResult res;
    res.upper = std::max(best_val, opt.floor);
    if (!heap.empty()) res.upper = std::max(res.upper, heap.front().ub);
    res.lower = best_val;
    res.u = Eigen::Map<const Eigen::VectorXd>(best_z.data(), d);
    res.b = bias ? best_z[static_cast<std::size_t>(d)] : 0.0;
    res.sign = best_s;
    res.nodes = nodes;
    res.open = static_cast<std::int64_t>(heap.size());
    res.seconds = elapsed();
    res.status = status.empty() ? "converged" : status;
    res.converged = res.upper <= (1.0 + opt.rel_tol) * std::max(best_val, opt.floor);
    if (res.converged) res.status = "converged";
    if (progress && opt.progress_interval > 0) {
        DualOracleProgress p;
        p.nodes = nodes;
        p.open = res.open;
        p.lower = res.lower;
        p.upper = res.upper;
        p.seconds = res.seconds;
        progress(p);
    }
    return res;
}

}  // namespace fcr
