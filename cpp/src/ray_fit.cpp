// Exact solver for the bias-free two-neuron problem on rank-one data (see ray_fit.hpp).
#include "fastconvexrelu/ray_fit.hpp"
#include "fastconvexrelu/losses.hpp"  // log1pexp

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fcr {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

enum class RayLoss { Squared, Hinge, Logistic };

RayLoss parse_loss(const std::string& name) {
    if (name == "squared") return RayLoss::Squared;
    if (name == "hinge") return RayLoss::Hinge;
    if (name == "logistic") return RayLoss::Logistic;
    throw std::invalid_argument("loss: unknown loss '" + name +
                                "' (expected 'squared', 'hinge' or 'logistic')");
}

std::string fmt(double x) {
    std::ostringstream os;
    os.precision(6);
    os << x;
    return os.str();
}

// Neumaier-compensated summation (error ~ eps * sum |terms|, independent of n).
struct Sum {
    double s = 0.0, c = 0.0;
    void add(double x) {
        const double t = s + x;
        if (!std::isfinite(t)) {  // overflow / inf / nan: no compensation, propagate
            s = t;
            c = 0.0;
            return;
        }
        if (std::abs(s) >= std::abs(x))
            c += (s - t) + x;
        else
            c += (x - t) + s;
        s = t;
    }
    double value() const { return std::isfinite(s) ? s + c : s; }
};

// Compensated dot product (Ogita, Rump & Oishi 2005, "Dot2"): the result has error
// <= eps |x^T y| + (n eps)^2 sum |x_i y_i|, i.e. it is as if computed in twice the precision.
struct Dot2 {
    double s = 0.0, c = 0.0, a = 0.0;
    std::size_t n = 0;
    void add(double x, double y) {
        const double p = x * y, pe = std::fma(x, y, -p);                 // TwoProduct
        const double t = s + p, z = t - s, se = (s - (t - z)) + (p - z);  // TwoSum
        s = t;
        c += se + pe;
        a += std::abs(p);
        ++n;
    }
    double value() const { return s + c; }
    double abs_sum() const { return a; }
    // Rigorous (generous) bound on |value() - exact inner product|.
    double error_bound() const {
        const double ne = static_cast<double>(n) * kEps;
        return kEps * std::abs(value()) + ne * ne * a + std::numeric_limits<double>::denorm_min();
    }
};

// Exact inner product: every product is split exactly into p + e (TwoProduct, fma) and the
// 2n terms are summed without error into a non-overlapping expansion (Shewchuk's algorithm,
// as in Python's math.fsum).  value() is within a few ulps of the exact result; underflow of
// the product error terms is covered by error_bound().
struct ExactDot {
    std::vector<double> partials;
    std::size_t n = 0;
    bool finite = true;
    void add_term(double x) {
        std::size_t i = 0;
        for (std::size_t j = 0; j < partials.size(); ++j) {
            double y = partials[j];
            if (std::abs(x) < std::abs(y)) std::swap(x, y);
            const double hi = x + y, lo = y - (hi - x);
            if (lo != 0.0) partials[i++] = lo;
            x = hi;
        }
        partials.resize(i);
        partials.push_back(x);
    }
    void add(double x, double y) {
        const double p = x * y;
        ++n;
        if (!std::isfinite(p)) {
            finite = false;
            return;
        }
        add_term(p);
        add_term(std::fma(x, y, -p));
    }
    double value() const {
        if (!finite) return std::numeric_limits<double>::infinity();
        double s = 0.0;
        for (std::size_t j = partials.size(); j-- > 0;) s += partials[j];
        return s;
    }
    double error_bound() const {
        return 4.0 * kEps * std::abs(value()) +
               4.0 * static_cast<double>(n + 1) * std::numeric_limits<double>::denorm_min();
    }
};

double sign_of(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

// sigma(z) = 1 / (1 + exp(-z)), computed without overflow.
double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
    const double e = std::exp(z);
    return e / (1.0 + e);
}

// x log x with 0 log 0 = 0.
double xlogx(double x) { return x > 0 ? x * std::log(x) : 0.0; }

// One side of the line: samples with coordinate s_i = |t_i| > 0 and label/target y_i.
struct Side {
    std::vector<Eigen::Index> idx;  // indices into the input
    std::vector<double> s, y;
};

// A side's solution: the weight and the (unscaled) dual entries of its samples.
struct SideSol {
    double w = 0.0;
    std::vector<double> v;
};

// ---- squared loss, beta > 0:  min_w 1/2 ||w s - y||^2 + beta |w|  (soft threshold) ----------
SideSol squared_side(const Side& sd, double beta) {
    SideSol r;
    const std::size_t m = sd.s.size();
    r.v.assign(m, 0.0);
    if (m == 0) return r;
    // Scaled by s_max so that ||s||^2 cannot overflow:  w = soft(c', beta / s_max) / (q' s_max)
    // with c' = (s / s_max)^T y, q' = ||s / s_max||^2.
    const double smax = *std::max_element(sd.s.begin(), sd.s.end());
    Sum sy, ss;
    for (std::size_t k = 0; k < m; ++k) {
        const double sk = sd.s[k] / smax;
        sy.add(sk * sd.y[k]);
        ss.add(sk * sk);
    }
    const double c = sy.value(), q = ss.value(), bs = beta / smax;
    if (std::abs(c) > bs) r.w = sign_of(c) * ((std::abs(c) - bs) / q) / smax;
    for (std::size_t k = 0; k < m; ++k) r.v[k] = r.w * sd.s[k] - sd.y[k];  // v = f - y
    return r;
}

// ---- squared loss, beta = 0:  least-squares ray (interpolation is checked by the caller) ------
// Dual of  min |w| s.t. w s = y_S  is  max y_S^T v s.t. |s^T v| <= 1;  v = sign(w) s / ||s||^2.
SideSol interp_side(const Side& sd) {
    SideSol r;
    const std::size_t m = sd.s.size();
    r.v.assign(m, 0.0);
    if (m == 0) return r;
    const double smax = *std::max_element(sd.s.begin(), sd.s.end());
    Sum sy, ss;
    for (std::size_t k = 0; k < m; ++k) {
        const double sk = sd.s[k] / smax;  // scaled: ||s||^2 cannot overflow
        sy.add(sk * sd.y[k]);
        ss.add(sk * sk);
    }
    const double q = ss.value();  // ||s||^2 / s_max^2
    r.w = (sy.value() / q) / smax;
    const double sg = sign_of(r.w);
    for (std::size_t k = 0; k < m; ++k) r.v[k] = sg * ((sd.s[k] / smax) / q) / smax;
    return r;
}

// ---- hinge loss, beta > 0:  min_w sum max(0, 1 - y_i s_i w) + beta |w|  ---------------------
// Piecewise linear; exact minimizer among the kinks {0} U {y_i / s_i} by a subgradient scan.
// Returns v_i = -y_i alpha_i with alpha chosen from the optimality conditions.
SideSol hinge_side(const Side& sd, double beta) {
    SideSol r;
    const std::size_t m = sd.s.size();
    r.v.assign(m, 0.0);
    if (m == 0) return r;
    Sum spos, sneg;  // sum of s over y = +1 / y = -1
    for (std::size_t k = 0; k < m; ++k) (sd.y[k] > 0 ? spos : sneg).add(sd.s[k]);
    const double P = spos.value(), N = sneg.value();
    // Right / left derivative at w = 0 (every sample is active there: y f = 0 < 1).
    const double right = beta + N - P, left = -beta + N - P;
    std::vector<double> alpha(m, 1.0);
    double dir = 0.0;
    if (right < 0)
        dir = 1.0;
    else if (left > 0)
        dir = -1.0;
    if (dir != 0.0) {
        // Work with w' = dir * w >= 0 and labels y' = dir * y: samples with y' = -1 stay active
        // (alpha = 1); those with y' = +1 leave the active set at w' = 1 / s_i, in order of
        // decreasing s_i.  The slope just after passing group G is beta + N' - (sum of s over
        // y' = +1 samples with smaller s), computed from suffix sums (one subtraction).
        const double Nprime = dir > 0 ? N : P;
        std::vector<std::size_t> order;
        for (std::size_t k = 0; k < m; ++k)
            if (dir * sd.y[k] > 0) order.push_back(k);
        std::sort(order.begin(), order.end(),
                  [&](std::size_t a, std::size_t b) { return sd.s[a] > sd.s[b]; });
        const std::size_t M = order.size();
        std::vector<double> suffix(M + 1, 0.0);
        {
            Sum acc;
            for (std::size_t j = M; j-- > 0;) {
                acc.add(sd.s[order[j]]);
                suffix[j] = acc.value();
            }
        }
        const double base = beta + Nprime;
        std::size_t a = 0;
        bool found = false;
        while (a < M) {
            std::size_t b = a + 1;
            while (b < M && sd.s[order[b]] == sd.s[order[a]]) ++b;
            const double slope_after = base - suffix[b];
            if (slope_after >= 0 || b == M) {
                // Optimal kink w' = 1 / s_G.  Larger s (earlier): inactive, alpha = 0.
                // Smaller s (later): active, alpha = 1.  Margin group G: sum_G alpha_i s_i
                // must make s^T v = -dir * beta, a value in [0, sum_G s] (fractional
                // knapsack; a uniform fraction is used).  It is computed from the other
                // samples' exact-ish contribution R (Dot2, no cancellation from the suffix
                // sums) and aimed a few ulps inside the constraint, so the later global
                // feasibility step does not need to shrink all of v (which would cost
                // O(eps * scale / beta) of dual value).
                for (std::size_t j = 0; j < a; ++j) alpha[order[j]] = 0.0;
                Dot2 R;
                for (std::size_t k = 0; k < m; ++k) {
                    const bool in_group = dir * sd.y[k] > 0 && sd.s[k] == sd.s[order[a]];
                    if (!in_group) R.add(sd.s[k], -sd.y[k] * alpha[k]);
                }
                Sum sg;
                for (std::size_t j = a; j < b; ++j) sg.add(sd.s[order[j]]);
                const double sG = sg.value();
                const double Rv = R.value();
                const double delta = 4.0 * kEps * (std::abs(Rv) + beta + sG) + R.error_bound();
                // s^T v = R - dir * A  =  -dir * (beta - delta)   =>   A = dir * R + beta - delta
                const double A = std::min(sG, std::max(0.0, dir * Rv + beta - delta));
                double frac = sG > 0 ? A / sG : 0.0;
                frac = std::min(1.0, std::max(0.0, frac));
                for (std::size_t j = a; j < b; ++j) alpha[order[j]] = frac;
                r.w = dir / sd.s[order[a]];
                found = true;
                break;
            }
            a = b;
        }
        if (!found) r.w = 0.0;  // cannot happen (slope after the last group is beta + N' > 0)
    }
    for (std::size_t k = 0; k < m; ++k) r.v[k] = -sd.y[k] * alpha[k];
    return r;
}

// ---- hinge loss, beta = 0 (hard margin):  min |w| s.t. y_i s_i w >= 1  ----------------------
// Dual: max sum alpha_i s.t. alpha >= 0, |sum s_i y_i alpha_i| <= 1; v = y . alpha.
SideSol hard_margin_side(const Side& sd, const char* side_name) {
    SideSol r;
    const std::size_t m = sd.s.size();
    r.v.assign(m, 0.0);
    if (m == 0) return r;
    const double lab = sd.y[0];
    std::size_t kmin = 0;
    for (std::size_t k = 0; k < m; ++k) {
        if (sd.y[k] != lab)
            throw std::invalid_argument(
                std::string("hard-margin problem is infeasible: samples with ") + side_name +
                " t carry both labels, so no bias-free network separates them (use beta > 0)");
        if (sd.s[k] < sd.s[kmin]) kmin = k;
    }
    const double smin = sd.s[kmin];
    r.w = lab / smin;
    r.v[kmin] = lab / smin;  // alpha = 1 / s_min on the sample closest to the origin
    return r;
}

// ---- logistic loss, beta > 0:  min_w sum log(1 + exp(-y_i s_i w)) + beta |w|  ---------------
// Safeguarded Newton on the (monotone) derivative to machine precision.
SideSol logistic_side(const Side& sd, double beta) {
    SideSol r;
    const std::size_t m = sd.s.size();
    r.v.assign(m, 0.0);
    if (m == 0) return r;
    Sum sys;
    for (std::size_t k = 0; k < m; ++k) sys.add(sd.y[k] * sd.s[k]);
    const double g0 = -0.5 * sys.value();  // derivative of the loss at w = 0
    double dir = 0.0;
    if (g0 + beta < 0)
        dir = 1.0;
    else if (g0 - beta > 0)
        dir = -1.0;
    if (dir != 0.0) {
        // h(w') = beta - sum y'_i s_i sigma(-y'_i s_i w'), increasing, h(0) < 0, root w' > 0.
        auto h = [&](double w, double* dh, double* noise) {
            Sum acc, dacc;
            acc.add(beta);
            double mag = beta;
            for (std::size_t k = 0; k < m; ++k) {
                const double yk = dir * sd.y[k], z = yk * sd.s[k] * w;
                // one exp: e = exp(-|z|), sigma(-z) and sigma(z) sigma(-z) from it
                const double e = std::exp(-std::abs(z)), a = 1.0 / (1.0 + e);
                const double sm = z >= 0 ? e * a : a;
                const double term = -yk * sd.s[k] * sm;
                acc.add(term);
                mag += std::abs(term);
                dacc.add(sd.s[k] * sd.s[k] * (e * a * a));
            }
            if (dh) *dh = dacc.value();
            if (noise) *noise = 8.0 * kEps * mag;
            return acc.value();
        };
        // Upper bracket: h(w') >= beta - S_+ exp(-s_min+ w') > 0 for w' > log(S_+/beta)/s_min+.
        Sum sp;
        double sminp = std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < m; ++k)
            if (dir * sd.y[k] > 0) {
                sp.add(sd.s[k]);
                sminp = std::min(sminp, sd.s[k]);
            }
        double lo = 0.0;
        double hi = (std::log(std::max(2.0, sp.value() / beta)) + 1.0) / sminp;
        for (int it = 0; it < 200 && h(hi, nullptr, nullptr) <= 0; ++it) {
            lo = hi;
            hi *= 2.0;
        }
        double w = lo, best_w = lo, best_abs = std::numeric_limits<double>::infinity();
        for (int it = 0; it < 500; ++it) {
            double dh = 0.0, noise = 0.0;
            const double hv = h(w, &dh, &noise);
            if (std::abs(hv) < best_abs) {
                best_abs = std::abs(hv);
                best_w = w;
            }
            if (std::abs(hv) <= noise) break;  // zero to within the rounding of h itself
            if (hv < 0)
                lo = std::max(lo, w);
            else
                hi = std::min(hi, w);
            double cand = (dh > 0) ? w - hv / dh : std::numeric_limits<double>::quiet_NaN();
            const double mid = lo + 0.5 * (hi - lo);
            if (!(cand > lo && cand < hi)) cand = mid;
            if (cand == w || mid == lo || mid == hi) {
                if (cand != w && cand > lo && cand < hi) {  // one last evaluation
                    const double hc = h(cand, nullptr, nullptr);
                    if (std::abs(hc) < best_abs) best_w = cand;
                }
                break;
            }
            w = cand;
        }
        r.w = dir * best_w;
    }
    for (std::size_t k = 0; k < m; ++k) {
        const double f = r.w * sd.s[k];
        r.v[k] = -sd.y[k] * sigmoid(-sd.y[k] * f);
    }
    return r;
}

}  // namespace

RayFitResult fit_ray_pair(const Eigen::Ref<const Eigen::VectorXd>& t,
                          const Eigen::Ref<const Eigen::VectorXd>& y, const std::string& loss,
                          double beta) {
    // ---------------------------------------------------------------- validation
    const RayLoss L = parse_loss(loss);
    const Eigen::Index n = t.size();
    if (y.size() != n)
        throw std::invalid_argument("t and y must have the same length (got " +
                                    std::to_string(n) + " and " + std::to_string(y.size()) + ")");
    if (n == 0) throw std::invalid_argument("t and y must be non-empty");
    if (!t.allFinite()) throw std::invalid_argument("t contains NaN or inf");
    if (!y.allFinite()) throw std::invalid_argument("y contains NaN or inf");
    if (!std::isfinite(beta) || beta < 0)
        throw std::invalid_argument("beta must be finite and >= 0 (got " + fmt(beta) + ")");
    if (L != RayLoss::Squared) {
        for (Eigen::Index i = 0; i < n; ++i)
            if (y[i] != 1.0 && y[i] != -1.0)
                throw std::invalid_argument(std::string("y must contain only -1 and +1 labels for the ") +
                                            loss + " loss");
    }
    if (L == RayLoss::Logistic && beta == 0)
        throw std::invalid_argument("beta must be > 0 for the logistic loss");
    const bool min_norm = (beta == 0);  // interpolation / hard margin

    // ---------------------------------------------------------------- split the samples
    Side pos, neg;
    std::vector<Eigen::Index> zero;
    for (Eigen::Index i = 0; i < n; ++i) {
        Side* sd = t[i] > 0 ? &pos : (t[i] < 0 ? &neg : nullptr);
        if (!sd) {
            zero.push_back(i);
            continue;
        }
        sd->idx.push_back(i);
        sd->s.push_back(std::abs(t[i]));
        sd->y.push_back(y[i]);
    }

    double ymax = 0.0;
    if (L == RayLoss::Squared && min_norm) ymax = y.cwiseAbs().maxCoeff();
    if (L == RayLoss::Hinge && min_norm && !zero.empty())
        throw std::invalid_argument("hard-margin problem is infeasible: " +
                                    std::to_string(zero.size()) +
                                    " sample(s) have t = 0, where every bias-free network outputs 0 "
                                    "and y f >= 1 cannot hold (use beta > 0)");

    // ---------------------------------------------------------------- solve both sides
    SideSol sol[2];
    Side* sides[2] = {&pos, &neg};
    for (int k = 0; k < 2; ++k) {
        const Side& sd = *sides[k];
        switch (L) {
            case RayLoss::Squared:
                sol[k] = min_norm ? interp_side(sd) : squared_side(sd, beta);
                break;
            case RayLoss::Hinge:
                sol[k] = min_norm ? hard_margin_side(sd, k == 0 ? "positive" : "negative")
                                  : hinge_side(sd, beta);
                break;
            case RayLoss::Logistic:
                sol[k] = logistic_side(sd, beta);
                break;
        }
    }

    RayFitResult res;
    res.w_pos = sol[0].w;
    res.w_neg = sol[1].w;
    res.fitted = Eigen::VectorXd::Zero(n);
    res.dual = Eigen::VectorXd::Zero(n);
    for (int k = 0; k < 2; ++k)
        for (std::size_t j = 0; j < sides[k]->idx.size(); ++j) {
            const Eigen::Index i = sides[k]->idx[j];
            res.fitted[i] = sol[k].w * sides[k]->s[j];
            res.dual[i] = sol[k].v[j];
        }
    // Samples at the origin: f = 0; their own best dual (v_i is unconstrained by p, q).
    for (Eigen::Index i : zero) {
        switch (L) {
            case RayLoss::Squared: res.dual[i] = min_norm ? 0.0 : -y[i]; break;
            case RayLoss::Hinge: res.dual[i] = -y[i]; break;       // alpha = 1
            case RayLoss::Logistic: res.dual[i] = -0.5 * y[i]; break;
        }
    }

    // Interpolation feasibility (relative tolerance 1e-9 of max |y|).
    double max_resid = 0.0;
    if (L == RayLoss::Squared && min_norm) {
        const double tol = 1e-9 * ymax;
        for (Eigen::Index i = 0; i < n; ++i) {
            const double rsd = std::abs(res.fitted[i] - y[i]);
            max_resid = std::max(max_resid, rsd);
            if (rsd > tol) {
                std::string why;
                if (t[i] == 0)
                    why = "sample " + std::to_string(i) + " has t = 0 but y = " + fmt(y[i]) +
                          " != 0 (every bias-free network outputs 0 there)";
                else
                    why = "the targets on the " + std::string(t[i] > 0 ? "positive" : "negative") +
                          " side are not proportional to t (max residual " + fmt(rsd) +
                          " at sample " + std::to_string(i) + ", tolerance " + fmt(tol) + ")";
                throw std::invalid_argument("interpolation is infeasible: " + why +
                                            "; use beta > 0");
            }
        }
    }

    // ---------------------------------------------------------------- enforce dual feasibility
    // |p^T v| <= bound and |q^T v| <= bound must hold for the EXACT inner product of the stored
    // floating-point numbers.  The product is evaluated with the compensated dot product
    // (Ogita-Rump-Oishi Dot2) plus its rigorous error bound, falling back to an exact
    // summation when that cannot decide.  A violation (rounding in the
    // optimality conditions gives |p^T v| - beta ~ eps * sum |p_i v_i|, which can exceed a tiny
    // beta) is first repaired by moving single entries v_j inside the conjugate's domain
    // (cost to D ~ |w| * violation for smooth losses), and only as a last resort by shrinking
    // the side's v towards 0 (always feasible, since every domain is an interval containing 0).
    const double bound = min_norm ? 1.0 : beta;
    const double inf = std::numeric_limits<double>::infinity();
    // Conjugate domain of v_i: [lo, hi].
    auto domain = [&](Eigen::Index i, double* lo, double* hi) {
        *lo = -inf;
        *hi = inf;
        if (L == RayLoss::Squared) return;
        if (min_norm) {  // hard margin: v = y alpha, alpha >= 0
            if (y[i] > 0) *lo = 0.0; else *hi = 0.0;
            return;
        }
        // hinge / logistic: -y v in [0, 1]
        if (y[i] > 0) { *lo = -1.0; *hi = 0.0; } else { *lo = 0.0; *hi = 1.0; }
    };
    // Logistic: 1 - u_i with u_i = -y_i v_i, tracked without cancellation.
    Eigen::VectorXd comp;
    if (L == RayLoss::Logistic) {
        comp.resize(n);
        for (Eigen::Index i = 0; i < n; ++i) comp[i] = sigmoid(y[i] * res.fitted[i]);
    }
    // Inner product s^T v_side and a rigorous bound on its error: the fast compensated Dot2
    // first, the exact expansion only when Dot2 cannot decide.
    auto side_dot = [&](const Side& sd, double* value, double* err) {
        Dot2 dot;
        for (std::size_t j = 0; j < sd.idx.size(); ++j) dot.add(sd.s[j], res.dual[sd.idx[j]]);
        *value = dot.value();
        *err = dot.error_bound();
        if (std::isfinite(*value) && std::abs(*value) + *err <= bound) return;
        ExactDot ex;
        for (std::size_t j = 0; j < sd.idx.size(); ++j) ex.add(sd.s[j], res.dual[sd.idx[j]]);
        *value = ex.value();
        *err = ex.error_bound();
    };
    bool shrunk = false;
    for (int k = 0; k < 2; ++k) {
        const Side& sd = *sides[k];
        const std::size_t m = sd.idx.size();
        std::vector<char> exhausted(m, 0);
        bool feasible = false;
        for (int attempt = 0; attempt < 16; ++attempt) {  // single-entry repair
            double dv, eb;
            side_dot(sd, &dv, &eb);
            if (!std::isfinite(dv)) break;
            if (std::abs(dv) + eb <= bound) {
                feasible = true;
                break;
            }
            const double sgn = sign_of(dv);
            const double aim = std::max(0.0, bound - 2.0 * eb - 8.0 * kEps * bound);
            const double E = std::abs(dv) - aim;  // need sum_j s_j delta_j = -sgn * E
            // Entry choice: the largest s_j whose rounding (eps |v_j| s_j) stays well inside the
            // constraint; else the entry with the smallest rounding.
            std::size_t best = m, fallback = m;
            double best_s = -1.0, fb_r = inf;
            for (std::size_t j = 0; j < m; ++j) {
                if (exhausted[j]) continue;
                const Eigen::Index i = sd.idx[j];
                double lo, hi;
                domain(i, &lo, &hi);
                const double room = sgn > 0 ? res.dual[i] - lo : hi - res.dual[i];
                if (!(room > 0)) continue;
                const double rnd = kEps * (std::abs(res.dual[i]) * sd.s[j] + E);
                if (rnd <= 0.25 * bound && sd.s[j] > best_s) {
                    best_s = sd.s[j];
                    best = j;
                }
                if (rnd < fb_r) {
                    fb_r = rnd;
                    fallback = j;
                }
            }
            if (best == m) best = fallback;
            if (best == m) break;
            const Eigen::Index i = sd.idx[best];
            double lo, hi;
            domain(i, &lo, &hi);
            const double room = sgn > 0 ? res.dual[i] - lo : hi - res.dual[i];
            // Aim a few ulps of v_j deeper inside, so that the step survives rounding.
            double step = (E + 4.0 * kEps * std::abs(res.dual[i]) * sd.s[best]) / sd.s[best];
            if (step >= room) {
                step = room;
                exhausted[best] = 1;
            }
            const double vnew = sgn > 0 ? std::max(lo, res.dual[i] - step) : std::min(hi, res.dual[i] + step);
            if (L == RayLoss::Logistic)  // u = -y v changes by -y (vnew - v)
                comp[i] = std::max(0.0, comp[i] + y[i] * (vnew - res.dual[i]));
            if (vnew == res.dual[i]) exhausted[best] = 1;
            res.dual[i] = vnew;
        }
        if (feasible) continue;
        shrunk = true;
        for (int attempt = 0; attempt < 60; ++attempt) {  // last resort: shrink towards 0
            double dv, eb;
            side_dot(sd, &dv, &eb);
            const double a = std::abs(dv) + eb;
            if (a <= bound) break;
            double c = bound / a * (1.0 - 4.0 * kEps * (1 << std::min(attempt, 30)));
            if (attempt == 59 || !(c > 0)) c = 0.0;  // v = 0 is feasible
            for (Eigen::Index i : sd.idx) {
                if (L == RayLoss::Logistic) comp[i] += (1.0 - c) * (-y[i] * res.dual[i]);
                res.dual[i] *= c;
            }
            if (c == 0.0) break;
        }
    }

    // ---------------------------------------------------------------- primal / dual values
    Sum J, D;
    double mag = 0.0;  // magnitudes summed, for the floating-point allowance
    if (min_norm) {
        J.add(std::abs(res.w_pos));
        J.add(std::abs(res.w_neg));
        mag += std::abs(res.w_pos) + std::abs(res.w_neg);
        for (Eigen::Index i = 0; i < n; ++i) {
            D.add(y[i] * res.dual[i]);
            mag += std::abs(y[i] * res.dual[i]);
        }
    } else {
        const double pen = beta * (std::abs(res.w_pos) + std::abs(res.w_neg));
        J.add(pen);
        mag += pen;
        for (Eigen::Index i = 0; i < n; ++i) {
            const double f = res.fitted[i], yi = y[i], v = res.dual[i];
            double li = 0.0, nci = 0.0;  // loss, minus conjugate
            switch (L) {
                case RayLoss::Squared: {
                    li = 0.5 * (f - yi) * (f - yi);
                    nci = -(v * yi + 0.5 * v * v);
                    break;
                }
                case RayLoss::Hinge: {
                    li = std::max(0.0, 1.0 - yi * f);
                    nci = -yi * v;  // = alpha in [0, 1]
                    break;
                }
                case RayLoss::Logistic: {
                    li = log1pexp(-yi * f);
                    // u = -y v; 1 - u was tracked in comp without cancellation.
                    const double u = std::min(1.0, std::max(0.0, -yi * v));
                    nci = -(xlogx(u) + xlogx(std::min(1.0, comp[i])));
                    break;
                }
            }
            J.add(li);
            D.add(nci);
            // Magnitudes whose rounding can move the computed J or D: the terms themselves,
            // and (first order) |l'(f)| * |f| for the rounding of the stored f = w s.
            mag += std::abs(li) + std::abs(nci);
            if (L == RayLoss::Squared)
                mag += std::abs(v) * (std::abs(f) + std::abs(yi) + std::abs(v));
            else if (L == RayLoss::Hinge)
                mag += (yi * f <= 1.0 + 1e-9 ? 1.0 : 0.0) * std::abs(f);
            else
                mag += std::abs(v) * std::abs(f);
        }
    }
    res.primal = J.value();
    res.dual_value = D.value();
    res.gap = std::max(0.0, res.primal - res.dual_value) + 8.0 * kEps * mag;
    res.converged = std::isfinite(res.gap) && res.gap <= 1e-10 * std::max(1.0, std::abs(res.primal));

    std::ostringstream msg;
    msg.precision(3);
    if (!std::isfinite(res.primal) || !std::isfinite(res.dual_value))
        msg << "non-finite objective (overflow in the data scale?)";
    else if (res.converged)
        msg << "optimal (exact " << loss << (min_norm ? (L == RayLoss::Squared ? " minimum-norm interpolation" : " hard margin") : "")
            << ", certified gap " << res.gap << ")";
    else {
        msg << "certified gap " << res.gap << " exceeds 1e-10 * max(1, |primal|)";
        if (shrunk)
            msg << " (the dual constraint |p^T v|, |q^T v| <= " << bound
                << " is below the floating-point resolution of this data, so v had to be shrunk;"
                   " beta is too small relative to |t| * |y|)";
    }
    if (L == RayLoss::Squared && min_norm && max_resid > 0)
        msg << "; max interpolation residual " << max_resid;
    res.message = msg.str();
    return res;
}

}  // namespace fcr
