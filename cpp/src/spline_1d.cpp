// Exact 1-D two-layer ReLU training (bias = true): see spline_1d.hpp for the formulation.
//
// Notation (0-based).  Unique sorted knots a_0 < ... < a_{G-1}, gaps h_g = a_{g+1} - a_g.
// Dual vector v (one entry per knot, 1^T v = 0) <-> z in R^{G-1}, z_j = sum_i v_i (a_i - a_j)_+
// (the right-ramp correlations K_right^T v).  With V_{j+1} = sum_{i > j} v_i we have
// z_j - z_{j+1} = h_j V_{j+1}, hence v = A z with A tridiagonal (z_{G-1} = 0).  The left ramps
// give K_left^T v = z - z_0 (because 1^T v = 0), so the dual of
//     min_{c,w} sum_g l_g(c + (K w)_g) + beta ||w||_1           (Corollary 4.1, Thm 5.2, Thm 6.1)
// is   min_z  sum_g l_g^*((A z)_g)   s.t.  |z_j| <= beta,  |z_j - z_0| <= beta,
// whose optimal value is minus the optimum.  The multipliers of the box constraints are the
// ramp weights (w = lambda_lower - lambda_upper).
#include "fastconvexrelu/spline_1d.hpp"
#include "fastconvexrelu/interrupt.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <future>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <cstdio>
#include <cstdlib>

namespace fcr {

Loss loss_from_string(const std::string& name) {
    if (name == "squared") return Loss::Squared;
    if (name == "hinge") return Loss::Hinge;
    if (name == "logistic") return Loss::Logistic;
    throw std::invalid_argument("loss must be 'squared', 'hinge' or 'logistic', got '" + name + "'");
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The per-knot loss l_g and its conjugate.
enum class Kind { Squared, Logistic, Hinge, Interp, HardMargin };

struct Knots {
    std::vector<double> a, h;                // knots and gaps
    std::vector<double> m, ybar, ss;         // squared: count, mean, sum of squared deviations
    std::vector<double> npos, nneg;          // classification counts
    std::vector<int> group_of;               // input sample -> knot
};

Knots group_samples(const Eigen::Ref<const Eigen::VectorXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y) {
    const int n = static_cast<int>(x.size());
    // the stable order of x: sort (x_i, i) pairs (contiguous keys, no indirect compares); on large
    // inputs the two halves are sorted on two threads and merged
    std::vector<std::pair<double, int>> xi(n), merged;
    for (int i = 0; i < n; ++i) xi[i] = {x[i], i};
    if (n >= (1 << 16)) {
        const auto mid = xi.begin() + n / 2;
        auto half = std::async(std::launch::async, [&] { std::sort(xi.begin(), mid); });
        std::sort(mid, xi.end());
        half.get();
        merged.resize(n);
        std::merge(xi.begin(), mid, mid, xi.end(), merged.begin());
        xi.swap(merged);
        std::vector<std::pair<double, int>>().swap(merged);
    } else {
        std::sort(xi.begin(), xi.end());
    }
    Knots k;
    k.group_of.assign(n, 0);
    for (int r = 0; r < n; ++r) {
        const int i = xi[r].second;
        if (r == 0 || x[i] != k.a.back()) {
            k.a.push_back(x[i]);
            k.m.push_back(0.0);
            k.ybar.push_back(0.0);
            k.ss.push_back(0.0);
            k.npos.push_back(0.0);
            k.nneg.push_back(0.0);
        }
        const std::size_t g = k.a.size() - 1;
        k.group_of[i] = static_cast<int>(g);
        // Welford update of mean and squared deviations
        k.m[g] += 1.0;
        const double d = y[i] - k.ybar[g];
        k.ybar[g] += d / k.m[g];
        k.ss[g] += d * (y[i] - k.ybar[g]);
        if (y[i] > 0) k.npos[g] += 1.0; else k.nneg[g] += 1.0;
    }
    for (std::size_t g = 0; g + 1 < k.a.size(); ++g) k.h.push_back(k.a[g + 1] - k.a[g]);
    return k;
}

// ---------------------------------------------------------------------------------------
// Banded algebra: v = A z and z-space products.
// ---------------------------------------------------------------------------------------
struct BandedA {
    const std::vector<double>& h;
    int G, p;
    // coefficients of row g of A on z_{g-1}, z_g, z_{g+1} (0 where out of range)
    void row(int g, double& cm, double& c0, double& cp) const {
        cm = (g >= 1) ? 1.0 / h[g - 1] : 0.0;
        c0 = 0.0;
        if (g >= 1) c0 -= 1.0 / h[g - 1];
        if (g <= G - 2) c0 -= 1.0 / h[g];
        cp = (g <= G - 2) ? 1.0 / h[g] : 0.0;
        if (g >= p) c0 = 0.0;          // z_{G-1} == 0
        if (g + 1 >= p) cp = 0.0;
    }
    void apply(const Eigen::VectorXd& z, Eigen::VectorXd& s) const {  // s = A z
        s.resize(G);
        // V_{j+1} = (z_j - z_{j+1}) / h_j, V_0 = V_G = 0, s_g = V_g - V_{g+1}
        double Vg = 0.0;
        for (int g = 0; g < G; ++g) {
            double Vnext = 0.0;
            if (g <= G - 2) {
                const double zg = z[g];
                const double zn = (g + 1 < p) ? z[g + 1] : 0.0;
                Vnext = (zg - zn) / h[g];
            }
            s[g] = Vg - Vnext;
            Vg = Vnext;
        }
    }
    void apply_t(const Eigen::VectorXd& r, Eigen::VectorXd& out) const {  // out = A^T r
        out.setZero(p);
        for (int g = 0; g < G; ++g) {
            double cm, c0, cp;
            row(g, cm, c0, cp);
            if (g >= 1 && g - 1 < p) out[g - 1] += cm * r[g];
            if (g < p) out[g] += c0 * r[g];
            if (g + 1 < p) out[g + 1] += cp * r[g];
        }
    }
};

// z'_j = sum_i v_i (a_i - a_j)_+ evaluated directly from v (suffix recursion), for certificates.
// Writes z_0 .. z_{G-2} into z (z_{G-1} = 0 is not written).
void right_ramp_correlations_into(const std::vector<double>& h, const Eigen::VectorXd& v, double* z) {
    // Both running sums are compensated (Neumaier, with the product's rounding error recovered
    // by fma): z_j is O(beta) while its terms can be far larger, and the certificate and the
    // interior-point slacks are only as good as z is accurate.
    const int G = static_cast<int>(v.size());
    double V = 0.0, cV = 0.0;  // sum_{i > j} v_i, and its compensation
    double Z = 0.0, cZ = 0.0;
    for (int j = G - 2; j >= 0; --j) {
        // (branch-free TwoSum: the same exact rounding errors as Neumaier's ordered Fast2Sum)
        const double x = v[j + 1];
        const double t = V + x;
        const double xv = t - V;
        cV += (V - (t - xv)) + (x - xv);
        V = t;
        const double Vc = V + cV;
        const double p = h[j] * Vc;
        const double pe = std::fma(h[j], Vc, -p);  // exact rounding error of the product
        const double u = Z + p;
        const double pz = u - Z;
        cZ += ((Z - (u - pz)) + (p - pz)) + pe;
        Z = u;
        z[j] = Z + cZ;
    }
}

void right_ramp_correlations(const std::vector<double>& h, const Eigen::VectorXd& v, Eigen::VectorXd& z) {
    const int G = static_cast<int>(v.size());
    z.setZero(G);
    right_ramp_correlations_into(h, v, z.data());
}

// Block-tridiagonal solver with 3x3 blocks (block LU, explicit 3x3 inverses).  Used for the
// augmented Newton system, whose leading principal block submatrices are themselves KKT
// matrices of truncated problems and hence nonsingular.  Block j holds unknowns (z_j, u_j, y_j)
// and couples to block j+1 only through (u_j, u_{j+1}) = t_{j+1} and (y_j, z_{j+1}) = 1.
struct BlockTri {
    // The matrix is symmetric, hence so are the S_j and their inverses (exactly: the cofactor
    // products below commute), so only the upper triangle (6 doubles) of S_j^{-1} is stored and no
    // copy of the matrix is kept: the blocks come from a callback during the factorization.
    // Memory traffic per solve is then 2 x 48 bytes per knot, which is what bounds its speed.
    int p = 0;
    std::vector<std::array<double, 6>> sinv;  // S_j^{-1}: (00, 01, 02, 11, 12, 22)
    std::vector<double> t;                    // t[j] couples u_{j-1} and u_j
    static bool inv3(const std::array<double, 9>& m, std::array<double, 6>& r) {
        const double c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6];
        const double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if (!(std::abs(det) > 0) || !std::isfinite(det)) return false;
        const double id = 1.0 / det;
        r[0] = c00 * id; r[1] = (m[2] * m[7] - m[1] * m[8]) * id; r[2] = (m[1] * m[5] - m[2] * m[4]) * id;
        r[3] = (m[0] * m[8] - m[2] * m[6]) * id; r[4] = (m[2] * m[3] - m[0] * m[5]) * id;
        r[5] = (m[0] * m[4] - m[1] * m[3]) * id;
        return true;
    }
    // block(j, m, tj): the 3x3 diagonal block j (row-major, order z,u,y) and the u-u coupling t_j
    // (j >= 1).  If w != nullptr, the forward sweep of solve() is applied to w on the way (the
    // blocks are still in cache); finish it with solve_backward(w).
    template <class Block>
    bool factor(int p_in, Block&& block, double* w = nullptr) {
        p = p_in;
        t.assign(p, 0.0);
        sinv.resize(p);
        bool ok = true;
        std::array<double, 9> m;
        for (int j = 0; j < p; ++j) {
            block(j, m, t[j]);
            if (j >= 1) {
                const std::array<double, 6>& a = sinv[j - 1];
                const double tj = t[j];
                m[0] -= a[5];           // (z,z) -= a_yy
                m[1] -= tj * a[4];      // (z,u) -= a_yu t
                m[3] -= tj * a[4];      // (u,z) -= t a_uy
                m[4] -= tj * tj * a[3]; // (u,u) -= t^2 a_uu
                if (w) forward_step(j, w);
            }
            if (!inv3(m, sinv[j])) ok = false;
        }
        return ok;
    }
    void forward_step(int j, double* x) const {  // w_j -= C^T S_{j-1}^{-1} w_{j-1}
        const std::array<double, 6>& a = sinv[j - 1];
        const double* w = x + 3 * (j - 1);
        const double qu = a[1] * w[0] + a[3] * w[1] + a[4] * w[2];
        const double qy = a[2] * w[0] + a[4] * w[1] + a[5] * w[2];
        x[3 * j] -= qy;
        x[3 * j + 1] -= t[j] * qu;
    }
    void solve_backward(double* x) const {  // x_j = S_j^{-1} (w_j - C_j x_{j+1})
        double nz = 0, nu = 0;  // z_{j+1}, u_{j+1} of the solution
        for (int j = p - 1; j >= 0; --j) {
            double* w = x + 3 * j;
            const double r0 = w[0], r1 = w[1] - (j + 1 < p ? t[j + 1] * nu : 0.0), r2 = w[2] - (j + 1 < p ? nz : 0.0);
            const std::array<double, 6>& a = sinv[j];
            w[0] = a[0] * r0 + a[1] * r1 + a[2] * r2;
            w[1] = a[1] * r0 + a[3] * r1 + a[4] * r2;
            w[2] = a[2] * r0 + a[4] * r1 + a[5] * r2;
            nz = w[0];
            nu = w[1];
        }
    }
    void solve(double* x) const {  // in place, 3p entries
        for (int j = 1; j < p; ++j) forward_step(j, x);
        solve_backward(x);
    }
};

// ---------------------------------------------------------------------------------------
// Per-knot loss l_g(f) and conjugate l_g^*(s).
// ---------------------------------------------------------------------------------------
struct KnotLoss {
    Kind kind;
    const Knots& k;
    double primal(int g, double f) const {
        switch (kind) {
            case Kind::Squared: { const double r = f - k.ybar[g]; return 0.5 * k.m[g] * r * r + 0.5 * k.ss[g]; }
            case Kind::Logistic: {
                auto sp = [](double u) { return u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u)); };
                return k.npos[g] * sp(-f) + k.nneg[g] * sp(f);
            }
            case Kind::Hinge: return k.npos[g] * std::max(0.0, 1.0 - f) + k.nneg[g] * std::max(0.0, 1.0 + f);
            case Kind::Interp: return (f == k.ybar[g]) ? 0.0 : kInf;
            case Kind::HardMargin: {
                const double y = k.npos[g] > 0 ? 1.0 : -1.0;
                return (y * f >= 1.0) ? 0.0 : kInf;
            }
        }
        return kInf;
    }
    // conjugate, +inf outside its domain
    double conj(int g, double s) const {
        switch (kind) {
            case Kind::Squared: return s * k.ybar[g] + 0.5 * s * s / k.m[g] - 0.5 * k.ss[g];
            case Kind::Logistic: {
                const double P = k.npos[g], N = k.nneg[g];
                const double u = s + P, w = N - s;
                if (u < 0 || w < 0) return kInf;
                auto xlx = [](double t) { return t > 0 ? t * std::log(t) : 0.0; };
                return xlx(u) + xlx(w) - xlx(P + N);
            }
            case Kind::Hinge: {
                const double P = k.npos[g], N = k.nneg[g];
                if (s < -P || s > N) return kInf;
                return std::max(s - 2.0 * N, -s - 2.0 * P);
            }
            case Kind::Interp: return s * k.ybar[g];
            case Kind::HardMargin: {
                const double y = k.npos[g] > 0 ? 1.0 : -1.0;
                return (y * s <= 0) ? y * s : kInf;
            }
        }
        return kInf;
    }
};

// Exact minimization over the intercept c of sum_g l_g(c + f_g).
double best_intercept(const KnotLoss& L, const std::vector<double>& f, double c0) {
    const Knots& k = L.k;
    const int G = static_cast<int>(f.size());
    switch (L.kind) {
        case Kind::Squared: {
            double num = 0, den = 0;
            for (int g = 0; g < G; ++g) { num += k.m[g] * (k.ybar[g] - f[g]); den += k.m[g]; }
            return num / den;
        }
        case Kind::Logistic: {
            auto sig = [](double u) { return u >= 0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u)); };
            auto deriv = [&](double c, double& d1, double& d2) {
                d1 = 0; d2 = 0;
                for (int g = 0; g < G; ++g) {
                    const double q = sig(c + f[g]);
                    d1 += -k.npos[g] * (1.0 - q) + k.nneg[g] * q;
                    d2 += (k.npos[g] + k.nneg[g]) * q * (1.0 - q);
                }
            };
            // bracket the root of the (increasing) derivative, then safeguarded Newton
            double lo = c0 - 1.0, hi = c0 + 1.0, d1, d2;
            for (int it = 0; it < 200; ++it) { deriv(lo, d1, d2); if (d1 <= 0) break; lo -= 2.0 * (hi - lo); }
            for (int it = 0; it < 200; ++it) { deriv(hi, d1, d2); if (d1 >= 0) break; hi += 2.0 * (hi - lo); }
            double c = std::min(std::max(c0, lo), hi);
            for (int it = 0; it < 200; ++it) {
                deriv(c, d1, d2);
                if (d1 > 0) hi = c; else lo = c;
                if (d1 == 0 || hi - lo <= 1e-15 * std::max(1.0, std::abs(c))) break;
                double cn = (d2 > 0) ? c - d1 / d2 : 0.5 * (lo + hi);
                if (!(cn > lo && cn < hi)) cn = 0.5 * (lo + hi);
                if (std::abs(cn - c) <= 1e-16 * std::max(1.0, std::abs(c))) { c = cn; break; }
                c = cn;
            }
            return c;
        }
        case Kind::Hinge: {
            // slope at -inf is -sum npos; crossing c = 1 - f_g adds npos_g, c = -1 - f_g adds nneg_g
            std::vector<std::pair<double, double>> bp;
            bp.reserve(2 * G);
            double slope = 0;
            for (int g = 0; g < G; ++g) {
                if (k.npos[g] > 0) bp.emplace_back(1.0 - f[g], k.npos[g]);
                if (k.nneg[g] > 0) bp.emplace_back(-1.0 - f[g], k.nneg[g]);
                slope -= k.npos[g];
            }
            std::sort(bp.begin(), bp.end());
            for (const auto& b : bp) {
                slope += b.second;
                if (slope >= 0) return b.first;
            }
            return bp.empty() ? 0.0 : bp.back().first;
        }
        case Kind::Interp: return 0.0;  // not used
        case Kind::HardMargin: return 0.0;  // not used
    }
    return 0.0;
}

// Values at the knots of f(x) = sum_j r_j (x - a_j)_+ + sum_j l_j (a_j - x)_+  (O(G), stable)
void ramp_values(const std::vector<double>& h, const std::vector<double>& r, const std::vector<double>& l,
                 std::vector<double>& f) {
    const int G = static_cast<int>(r.size());
    f.assign(G, 0.0);
    double slope = 0, val = 0;
    for (int g = 0; g + 1 < G; ++g) {  // right ramps, left to right
        slope += r[g];
        val += slope * h[g];
        f[g + 1] += val;
    }
    slope = 0; val = 0;
    for (int g = G - 1; g >= 1; --g) {  // left ramps, right to left
        slope += l[g];
        val += slope * h[g - 1];
        f[g - 1] += val;
    }
}

// Canonical minimum-cost representation of the piecewise-linear interpolant of values f at the
// knots (Lemma 2.6 neurons): returns the cost sum|w| (= sum|delta| + end correction).
struct Canonical {
    std::vector<double> kr, wr, kl, wl;
    double intercept = 0, cost = 0;
};

// From the value f0 at a_0, the first slope s0 and the slope changes delta_g at interior knots.
Canonical canonical_from_slopes(const Knots& k, double f0, double s0, const std::vector<double>& delta) {
    Canonical out;
    const int G = static_cast<int>(k.a.size());
    double P = 0, N = 0;
    for (int g = 1; g + 1 < G; ++g) (delta[g] > 0 ? P : N) += delta[g];
    // left-ramp shares t_g in [min(0,d_g), max(0,d_g)] with sum T = clip(-s_0, N, P), greedy
    const double T = std::min(std::max(-s0, N), P);
    std::vector<double> t(G, 0.0);
    double rem = T;
    for (int g = 1; g + 1 < G && rem != 0.0; ++g) {
        if (T > 0 && delta[g] > 0) { t[g] = std::min(delta[g], rem); rem -= t[g]; }
        else if (T < 0 && delta[g] < 0) { t[g] = std::max(delta[g], rem); rem -= t[g]; }
    }
    const double e = s0 + T;
    double c = f0;
    if (e > 0) { out.kr.push_back(k.a[0]); out.wr.push_back(e); }
    for (int g = 1; g + 1 < G; ++g) {
        const double r = delta[g] - t[g];
        if (t[g] != 0.0) { out.kl.push_back(k.a[g]); out.wl.push_back(t[g]); c -= t[g] * (k.a[g] - k.a[0]); }
        if (r != 0.0) { out.kr.push_back(k.a[g]); out.wr.push_back(r); }
        out.cost += std::abs(delta[g]);
    }
    if (e < 0) { out.kl.push_back(k.a[G - 1]); out.wl.push_back(-e); c -= (-e) * (k.a[G - 1] - k.a[0]); }
    out.cost += std::abs(e);
    out.intercept = c;
    return out;
}

// Canonical network of the interpolant of values f at the knots; slope changes at the level of
// rounding noise are treated as zero (the estimator re-evaluates J from the returned network).
Canonical canonical_network(const Knots& k, const std::vector<double>& f) {
    const int G = static_cast<int>(f.size());
    if (G == 1) { Canonical out; out.intercept = f[0]; return out; }
    std::vector<double> s(G - 1), delta(G, 0.0);
    for (int g = 0; g + 1 < G; ++g) s[g] = (f[g + 1] - f[g]) / k.h[g];
    for (int g = 1; g + 1 < G; ++g) {
        delta[g] = s[g] - s[g - 1];
        const double noise = 1e-12 * (std::abs(s[g]) + std::abs(s[g - 1])) +
                             8e-16 * (std::abs(f[g - 1]) + 2 * std::abs(f[g]) + std::abs(f[g + 1])) *
                                 (1.0 / k.h[g - 1] + 1.0 / k.h[g]);
        if (std::abs(delta[g]) <= noise) delta[g] = 0.0;
    }
    return canonical_from_slopes(k, f[0], s[0], delta);
}

// Canonical network of c + sum_j r_j (x - a_j)_+ + sum_j l_j (a_j - x)_+ (same function on the data,
// cost sum|delta| + end correction <= sum|r| + sum|l|); exact zeros of the weights are kept.
Canonical canonical_from_weights(const Knots& k, const std::vector<double>& r, const std::vector<double>& l, double c) {
    const int G = static_cast<int>(k.a.size());
    if (G == 1) { Canonical out; out.intercept = c; return out; }
    double s0 = r[0], f0 = c;
    for (int j = 1; j < G; ++j) { s0 -= l[j]; f0 += l[j] * (k.a[j] - k.a[0]); }
    std::vector<double> delta(G, 0.0);
    for (int g = 1; g + 1 < G; ++g) delta[g] = r[g] + l[g];
    return canonical_from_slopes(k, f0, s0, delta);
}

// The spline through f with its slope changes below thr * max|delta| removed (the values are
// re-integrated from f_0 and the first slope; the caller re-fits the intercept).
std::vector<double> prune_spline(const Knots& k, const std::vector<double>& f, double thr) {
    const int G = static_cast<int>(f.size());
    if (G < 3) return f;
    std::vector<double> s(G - 1), out(G);
    for (int g = 0; g + 1 < G; ++g) s[g] = (f[g + 1] - f[g]) / k.h[g];
    double dmax = 0;
    for (int g = 1; g + 1 < G; ++g) dmax = std::max(dmax, std::abs(s[g] - s[g - 1]));
    double slope = s[0];
    out[0] = f[0];
    for (int g = 0; g + 1 < G; ++g) {
        if (g >= 1) {
            const double d = s[g] - s[g - 1];
            if (std::abs(d) > thr * dmax) slope += d;
        }
        out[g + 1] = out[g] + slope * k.h[g];
    }
    return out;
}

// Make 1^T v = 0 exactly-ish without moving any entry across zero (conjugate domains of the
// classification losses are intervals with an endpoint at 0): shrink the larger-sum side.
void balance_sum(Eigen::VectorXd& v) {
    double P = 0, N = 0;
    for (Eigen::Index i = 0; i < v.size(); ++i) (v[i] > 0 ? P : N) += v[i];
    if (P + N > 0 && P > 0) {
        const double f = -N / P;
        for (Eigen::Index i = 0; i < v.size(); ++i) if (v[i] > 0) v[i] *= f;
    } else if (P + N < 0 && N < 0) {
        const double f = -P / N;
        for (Eigen::Index i = 0; i < v.size(); ++i) if (v[i] < 0) v[i] *= f;
    }
}

// Per-sample fitted values and per-sample dual vector from per-knot values f and dual s = v_g
// (the split of v_g among a knot's samples that attains the knot's conjugate l_g^*(v_g)).
void fill_samples(Kind kind, const Knots& k, const std::vector<double>& f, const Eigen::VectorXd& v,
                  const Eigen::Ref<const Eigen::VectorXd>& y, Spline1DResult& out) {
    const Eigen::Index n = y.size();
    out.fitted.resize(n);
    out.dual.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
        const int g = k.group_of[i];
        out.fitted[i] = f[g];
        const double sg = v[g];
        const bool pos = y[i] > 0;
        switch (kind) {
            case Kind::Squared: out.dual[i] = k.ybar[g] + sg / k.m[g] - y[i]; break;
            case Kind::Logistic: {
                const double N = k.npos[g] + k.nneg[g];
                out.dual[i] = pos ? -(k.nneg[g] - sg) / N : (sg + k.npos[g]) / N;
                break;
            }
            case Kind::Hinge: {
                const double An = std::min(k.nneg[g], k.npos[g] + sg), Ap = An - sg;
                out.dual[i] = pos ? -Ap / k.npos[g] : An / k.nneg[g];
                break;
            }
            default: out.dual[i] = sg / k.m[g];
        }
    }
}


// Make v dual feasible for the 1-D problem: balance 1^T v = 0, then scale so that every ramp
// correlation |K^T v| <= beta (computed directly from v).  Returns the dual value D(v).
double feasible_dual_value(const Knots& k, const KnotLoss& L, double beta, Eigen::VectorXd& v) {
    const int G = static_cast<int>(v.size());
    // 1^T v = 0: absorb the rounding-level imbalance in v_0, which the ramp correlations (suffix
    // recursion) never read; fall back to shrinking one sign class if that leaves l_0^*'s domain
    const double v0 = v[0];
    v[0] = -(v.tail(G - 1).sum());
    if (!std::isfinite(L.conj(0, v[0]))) { v[0] = v0; balance_sum(v); }
    Eigen::VectorXd zc;
    right_ramp_correlations(k.h, v, zc);
    double M = 0;
    for (int j = 0; j < G; ++j) M = std::max({M, std::abs(zc[j]), std::abs(zc[j] - zc[0])});
    if (M > beta) v *= beta / M;
    double D = 0;
    for (int g = 0; g < G; ++g) D -= L.conj(g, v[g]);
    return D;
}

// Active-set polish for the (weighted) squared loss.  Given the kinks (knots with sign[g] = +-1)
// and which term attains R = max(P + |N|, P + s_0, P - s_last) (end_case 0, 1, 2), the optimal f
// is a linear spline on those knots whose values theta solve a tridiagonal system (hat-function
// normal equations with the now linear penalty).  Exact when the active set is right; the
// certificate (dual from the residual) says how right it is.
struct Polished {
    Canonical net;
    std::vector<double> f;
    Eigen::VectorXd v;
    double P = kInf, D = -kInf;
};

Polished polish_once(const Knots& k, const KnotLoss& L, double beta, const std::vector<int>& sign, int end_case,
                     std::vector<double>* delta_out) {
    Polished out;
    const int G = static_cast<int>(k.a.size());
    std::vector<int> t;  // spline knots (indices into k.a)
    t.push_back(0);
    for (int g = 1; g + 1 < G; ++g) if (sign[g] != 0) t.push_back(g);
    t.push_back(G - 1);
    const int K = static_cast<int>(t.size()) - 1;  // number of intervals
    std::vector<double> Dl(K + 1, 0.0), Of(K, 0.0), rhs(K + 1, 0.0), dlt(K);
    for (int i = 0; i < K; ++i) dlt[i] = k.a[t[i + 1]] - k.a[t[i]];
    int i = 0;
    for (int g = 0; g < G; ++g) {
        while (i < K - 1 && g >= t[i + 1]) ++i;
        const double lam = (k.a[g] - k.a[t[i]]) / dlt[i];
        const double w = k.m[g];
        Dl[i] += w * (1 - lam) * (1 - lam);
        Dl[i + 1] += w * lam * lam;
        Of[i] += w * (1 - lam) * lam;
        rhs[i] += w * k.ybar[g] * (1 - lam);
        rhs[i + 1] += w * k.ybar[g] * lam;
    }
    // penalty sum_i d_i * slope_i
    std::vector<double> d(K, 0.0);
    for (int j = 1; j < K; ++j) {
        const int sg = sign[t[j]];
        const double c = end_case == 0 ? sg : (sg > 0 ? 1.0 : 0.0);
        d[j] += c;      // delta_j = slope_j - slope_{j-1}
        d[j - 1] -= c;
    }
    if (end_case == 1) d[0] += 1.0;
    if (end_case == 2) d[K - 1] -= 1.0;
    for (int j = 0; j < K; ++j) {
        rhs[j + 1] -= beta * d[j] / dlt[j];
        rhs[j] += beta * d[j] / dlt[j];
    }
    // Thomas algorithm (symmetric positive definite tridiagonal)
    std::vector<double> c(K + 1, 0.0), th(K + 1, 0.0);
    double piv = Dl[0];
    if (!(piv > 0)) return out;
    th[0] = rhs[0] / piv;
    for (int j = 1; j <= K; ++j) {
        c[j - 1] = Of[j - 1] / piv;
        piv = Dl[j] - Of[j - 1] * c[j - 1];
        if (!(piv > 0)) return out;
        th[j] = (rhs[j] - Of[j - 1] * th[j - 1]) / piv;
    }
    for (int j = K - 1; j >= 0; --j) th[j] -= c[j] * th[j + 1];
    // the network and its exact objective
    std::vector<double> slope(K), delta(G, 0.0);
    for (int j = 0; j < K; ++j) slope[j] = (th[j + 1] - th[j]) / dlt[j];
    for (int j = 1; j < K; ++j) delta[t[j]] = slope[j] - slope[j - 1];
    out.net = canonical_from_slopes(k, th[0], slope[0], delta);
    if (delta_out) *delta_out = delta;
    out.f.assign(G, 0.0);
    i = 0;
    for (int g = 0; g < G; ++g) {
        while (i < K - 1 && g >= t[i + 1]) ++i;
        const double lam = (k.a[g] - k.a[t[i]]) / dlt[i];
        out.f[g] = (1 - lam) * th[i] + lam * th[i + 1];
    }
    out.P = beta * out.net.cost;
    for (int g = 0; g < G; ++g) out.P += L.primal(g, out.f[g]);
    if (std::getenv("FCR_DEBUG")) {
        int wrong = 0; double lin = 0;
        for (int j = 1; j < K; ++j) { if (delta[t[j]] * sign[t[j]] < 0) ++wrong; lin += sign[t[j]] * delta[t[j]]; }
        std::fprintf(stderr, "    polish K %d case %d cost %.6e lin %.6e wrong-sign %d s0 %.3e slast %.3e\n", K, end_case, out.net.cost, lin, wrong, slope[0], slope[K-1]);
    }
    out.v.resize(G);
    for (int g = 0; g < G; ++g) out.v[g] = k.m[g] * (out.f[g] - k.ybar[g]);
    out.D = feasible_dual_value(k, L, beta, out.v);
    return out;
}

// The polish with the sign constraints sign_g * delta_g >= 0 enforced by dropping violating kinks
// and re-solving (a few rounds; each is O(n)).
Polished polish_squared(const Knots& k, const KnotLoss& L, double beta, std::vector<int> sign, int end_case) {
    Polished best;
    std::vector<double> delta;
    for (int round = 0; round < 5; ++round) {
        Polished cur = polish_once(k, L, beta, sign, end_case, &delta);
        if (cur.D > best.D) { best.D = cur.D; best.v = cur.v; }
        if (cur.P < best.P) { best.P = cur.P; best.f = cur.f; best.net = cur.net; }
        if (cur.f.empty()) break;
        int dropped = 0;
        for (std::size_t g = 0; g < sign.size(); ++g)
            if (sign[g] != 0 && sign[g] * delta[g] < 0) { sign[g] = 0; ++dropped; }
        if (dropped == 0) break;
    }
    return best;
}

// ---------------------------------------------------------------------------------------
// The interior-point solver on z (and tau for the hinge epigraph).  Every loss handled here
// gives a QP or an LP in (z, tau) with linear inequality constraints, solved by Mehrotra's
// predictor-corrector method; the Newton matrix (banded augmented system plus an arrow on z_0) is factored
// once per iteration and used for both solves.
// ---------------------------------------------------------------------------------------
class SplineDualIPM {
   public:
    SplineDualIPM(const Knots& k, Kind kind, double beta)
        : k_(k), kind_(kind), beta_(beta), G_(static_cast<int>(k.a.size())), p_(G_ - 1),
          A_{k.h, G_, G_ - 1}, L_{kind, k} {}

    Spline1DResult run(const Spline1DOptions& opt, const Eigen::Ref<const Eigen::VectorXd>& y_in);

   private:
    // constraint families: box on z, "arrow" on z_j - z_0, domain of l^* on s, hinge epigraph
    enum Fam { BU, BL, AU, AL, DU, DL, E1, E2, NFAM };
    const Knots& k_;
    Kind kind_;
    double beta_;
    int G_, p_;
    BandedA A_;
    KnotLoss L_;
    bool hinge() const { return kind_ == Kind::Hinge; }
    bool hard() const { return kind_ == Kind::HardMargin; }
    bool used(int f) const {
        switch (f) {
            case BU: case BL: return true;
            case AU: case AL: return p_ >= 2;
            case DU: return hinge() || hard();
            case DL: case E1: case E2: return hinge();
        }
        return false;
    }
    double ysign(int g) const { return k_.npos[g] > 0 ? 1.0 : -1.0; }

    Eigen::VectorXd z_, tau_, s_;
    Eigen::VectorXd lam_[NFAM], sl_[NFAM];
    int m_ = 0;

    // factorization data
    BlockTri blk_;
    bool factor_ok_ = true;
    std::vector<double> rhs_buf_;
    std::vector<double> col0_, x1_;
    Eigen::VectorXd hs_, hst_, htt_, Dz_, E_;
    Eigen::VectorXd gs_buf_, qt_buf_, qz_buf_;  // solve() work space, reused every iteration
    double den_ = 1.0;

    void slacks(const Eigen::VectorXd& z, const Eigen::VectorXd& s, const Eigen::VectorXd& tau, Eigen::VectorXd* S) const;
    void grad(const Eigen::VectorXd& s, Eigen::VectorXd& gs, double& dummy) const;
    void factor();
    // solve (H + G^T W G) dx = -(grad f0 + G^T rho)
    void solve(const Eigen::VectorXd* rho, Eigen::VectorXd& dz, Eigen::VectorXd& ds, Eigen::VectorXd& dtau);
    void initial_point();
    // one constraint family: slacks h - G x, and G dx
    void slack_fam(int f, const Eigen::VectorXd& z, const Eigen::VectorXd& s, const Eigen::VectorXd& tau,
                   Eigen::VectorXd& S) const;
    void jac_fam(int f, const Eigen::VectorXd& dz, const Eigen::VectorXd& ds, const Eigen::VectorXd& dtau,
                 Eigen::VectorXd& out) const;
    // fn(f) for every used family; on large problems the families are split over two threads
    template <class Fn>
    void par_fam(Fn&& fn) const {
        static constexpr int A[4] = {BU, AU, DU, E1}, B[4] = {BL, AL, DL, E2};
        if (G_ < 20000) {
            for (int f = 0; f < NFAM; ++f) if (used(f)) fn(f);
            return;
        }
        auto other = std::async(std::launch::async, [&] { for (int f : A) if (used(f)) fn(f); });
        for (int f : B) if (used(f)) fn(f);
        other.get();
    }
    // z (first p entries of K_right^T v) from v by the stable suffix recursion: keeps z and v
    // consistent to rounding, which matters when beta is tiny
    void derive_z(const Eigen::VectorXd& v, Eigen::VectorXd& z) const {
        z.resize(p_);  // (no reallocation once sized: the hot loop allocates nothing)
        right_ramp_correlations_into(k_.h, v, z.data());
    }
};

void SplineDualIPM::slacks(const Eigen::VectorXd& z, const Eigen::VectorXd& s, const Eigen::VectorXd& tau,
                           Eigen::VectorXd* S) const {
    S[BU] = beta_ - z.array();
    S[BL] = beta_ + z.array();
    if (used(AU)) {
        S[AU].resize(p_ - 1);
        S[AL].resize(p_ - 1);
        for (int j = 1; j < p_; ++j) {
            S[AU][j - 1] = beta_ - (z[j] - z[0]);
            S[AL][j - 1] = beta_ + (z[j] - z[0]);
        }
    }
    if (hinge()) {
        S[DU].resize(G_); S[DL].resize(G_); S[E1].resize(G_); S[E2].resize(G_);
        for (int g = 0; g < G_; ++g) {
            S[DU][g] = k_.nneg[g] - s[g];
            S[DL][g] = k_.npos[g] + s[g];
            S[E1][g] = tau[g] - (s[g] - 2.0 * k_.nneg[g]);
            S[E2][g] = tau[g] - (-s[g] - 2.0 * k_.npos[g]);
        }
    }
    if (hard()) {
        S[DU].resize(G_);
        for (int g = 0; g < G_; ++g) S[DU][g] = -ysign(g) * s[g];
    }
}

void SplineDualIPM::slack_fam(int f, const Eigen::VectorXd& z, const Eigen::VectorXd& s, const Eigen::VectorXd& tau,
                              Eigen::VectorXd& S) const {
    switch (f) {
        case BU: S = beta_ - z.array(); break;
        case BL: S = beta_ + z.array(); break;
        case AU: S.resize(p_ - 1); for (int j = 1; j < p_; ++j) S[j - 1] = beta_ - (z[j] - z[0]); break;
        case AL: S.resize(p_ - 1); for (int j = 1; j < p_; ++j) S[j - 1] = beta_ + (z[j] - z[0]); break;
        case DU:
            S.resize(G_);
            if (hard()) for (int g = 0; g < G_; ++g) S[g] = -ysign(g) * s[g];
            else for (int g = 0; g < G_; ++g) S[g] = k_.nneg[g] - s[g];
            break;
        case DL: S.resize(G_); for (int g = 0; g < G_; ++g) S[g] = k_.npos[g] + s[g]; break;
        case E1: S.resize(G_); for (int g = 0; g < G_; ++g) S[g] = tau[g] - (s[g] - 2.0 * k_.nneg[g]); break;
        case E2: S.resize(G_); for (int g = 0; g < G_; ++g) S[g] = tau[g] - (-s[g] - 2.0 * k_.npos[g]); break;
    }
}

void SplineDualIPM::jac_fam(int f, const Eigen::VectorXd& dz, const Eigen::VectorXd& ds, const Eigen::VectorXd& dtau,
                            Eigen::VectorXd& out) const {
    switch (f) {
        case BU: out = dz; break;
        case BL: out = -dz; break;
        case AU: out.resize(p_ - 1); for (int j = 1; j < p_; ++j) out[j - 1] = dz[j] - dz[0]; break;
        case AL: out.resize(p_ - 1); for (int j = 1; j < p_; ++j) out[j - 1] = dz[0] - dz[j]; break;
        case DU:
            out.resize(G_);
            if (hard()) for (int g = 0; g < G_; ++g) out[g] = ysign(g) * ds[g];
            else out = ds;
            break;
        case DL: out = -ds; break;
        case E1: out = ds - dtau; break;
        case E2: out = -ds - dtau; break;
    }
}

void SplineDualIPM::grad(const Eigen::VectorXd& s, Eigen::VectorXd& gs, double&) const {
    gs.setZero(G_);
    for (int g = 0; g < G_; ++g) {
        switch (kind_) {
            case Kind::Squared: gs[g] = k_.ybar[g] + s[g] / k_.m[g]; break;
            case Kind::Interp: gs[g] = k_.ybar[g]; break;
            case Kind::HardMargin: gs[g] = ysign(g); break;
            default: break;
        }
    }
}

void SplineDualIPM::factor() {
    // per-knot curvature in s (tau eliminated for the hinge)
    hs_.setZero(G_);
    if (kind_ == Kind::Squared)
        for (int g = 0; g < G_; ++g) hs_[g] = 1.0 / k_.m[g];
    if (hinge()) {
        hst_.resize(G_); htt_.resize(G_);
        for (int g = 0; g < G_; ++g) {
            const double ddu = lam_[DU][g] / sl_[DU][g], ddl = lam_[DL][g] / sl_[DL][g];
            const double de1 = lam_[E1][g] / sl_[E1][g], de2 = lam_[E2][g] / sl_[E2][g];
            hst_[g] = -de1 + de2;
            htt_[g] = de1 + de2;
            hs_[g] = ddu + ddl + de1 + de2 - hst_[g] * hst_[g] / htt_[g];
        }
    }
    if (hard())
        for (int g = 0; g < G_; ++g) hs_[g] += lam_[DU][g] / sl_[DU][g];
    Dz_ = lam_[BU].array() / sl_[BU].array() + lam_[BL].array() / sl_[BL].array();
    E_.setZero(p_);
    if (used(AU))
        for (int j = 1; j < p_; ++j) E_[j] = lam_[AU][j - 1] / sl_[AU][j - 1] + lam_[AL][j - 1] / sl_[AL][j - 1];
    // Newton matrix A^T diag(hs) A + diag(Dz) + arrow, written as the augmented system in
    // (z_1.., u, y) with u = diag(1/h) (z_j - z_{j+1}) (so s = B u, B bidiagonal):
    //   T u + diag(h) y = -B^T g,   diag(h) u - z_j + z_{j+1} = 0,   D z - (y_j - y_{j-1}) = -q_z,
    // T = B^T diag(hs) B.  No 1/h appears, so near-duplicate knots do not ruin the conditioning.
    // Interleaved unknowns: u_j -> 3j, y_j -> 3j+1, z_j -> 3j-1 (j >= 1); z_0 by a Schur complement.
    // block j = (z_j, u_j, y_j); z_0 is handled by a Schur complement, its slot is a dummy
    const int N = 3 * p_;
    col0_.assign(N, 0.0);
    col0_[2] = -1.0;  // (y_0, z_0)
    for (int j = 1; j < p_; ++j) col0_[3 * j] = -E_[j];
    x1_ = col0_;
    // x1 = K^{-1} col0: its forward sweep runs inside the factorization
    factor_ok_ = blk_.factor(p_, [&](int j, std::array<double, 9>& m, double& tj) {
        m.fill(0.0);
        m[0] = (j >= 1) ? Dz_[j] + E_[j] : 1.0;
        m[4] = hs_[j] + hs_[j + 1];
        m[5] = m[7] = k_.h[j];
        if (j >= 1) m[2] = m[6] = -1.0;
        tj = (j >= 1) ? -hs_[j] : 0.0;
    }, x1_.data());
    blk_.solve_backward(x1_.data());
    den_ = Dz_[0];
    for (int j = 1; j < p_; ++j) den_ += E_[j];
    for (int i = 0; i < N; ++i) den_ -= col0_[i] * x1_[i];
}

void SplineDualIPM::solve(const Eigen::VectorXd* rho, Eigen::VectorXd& dz, Eigen::VectorXd& ds, Eigen::VectorXd& dtau) {
    // rhs = -(grad f0 + G^T rho): the s-part (gs) enters through B^T, the z-part directly
    Eigen::VectorXd& gs = gs_buf_;
    double dummy = 0;
    grad(s_, gs, dummy);
    Eigen::VectorXd& qt = qt_buf_;
    if (hinge()) {
        qt.resize(G_);
        for (int g = 0; g < G_; ++g) {
            const double qs = rho[DU][g] - rho[DL][g] + rho[E1][g] - rho[E2][g];
            qt[g] = 1.0 - rho[E1][g] - rho[E2][g];
            gs[g] += qs - hst_[g] / htt_[g] * qt[g];
        }
    }
    if (hard())
        for (int g = 0; g < G_; ++g) gs[g] += ysign(g) * rho[DU][g];
    Eigen::VectorXd& qz = qz_buf_;
    qz = rho[BU] - rho[BL];
    if (used(AU))
        for (int j = 1; j < p_; ++j) {
            const double w = rho[AU][j - 1] - rho[AL][j - 1];
            qz[j] += w;
            qz[0] -= w;
        }
    const int N = 3 * p_;
    std::vector<double>& x2 = rhs_buf_;
    x2.assign(N, 0.0);
    for (int j = 0; j < p_; ++j) x2[3 * j + 1] = -(gs[j + 1] - gs[j]);  // -(B^T gs)_j
    for (int j = 1; j < p_; ++j) x2[3 * j] = -qz[j];
    blk_.solve(x2.data());
    double num = -qz[0];
    for (int i = 0; i < N; ++i) num -= col0_[i] * x2[i];
    dz.resize(p_);
    dz[0] = num / den_;
    for (int i = 0; i < N; ++i) x2[i] -= x1_[i] * dz[0];
    for (int j = 1; j < p_; ++j) dz[j] = x2[3 * j];
    ds.resize(G_);
    for (int g = 0; g < G_; ++g) {
        const double um = (g >= 1) ? x2[3 * (g - 1) + 1] : 0.0;
        const double u0 = (g < p_) ? x2[3 * g + 1] : 0.0;
        ds[g] = um - u0;
    }
    if (hinge()) {
        dtau.resize(G_);
        for (int g = 0; g < G_; ++g) dtau[g] = -(qt[g] + hst_[g] * ds[g]) / htt_[g];
    }
}

void SplineDualIPM::initial_point() {
    z_.setZero(p_);
    if (kind_ == Kind::Hinge || kind_ == Kind::HardMargin) {
        double Np = 0, Nn = 0;
        for (int g = 0; g < G_; ++g) { Np += k_.npos[g]; Nn += k_.nneg[g]; }
        Eigen::VectorXd v(G_);
        for (int g = 0; g < G_; ++g) v[g] = -k_.npos[g] / Np + k_.nneg[g] / Nn;  // 1^T v = 0, signs right
        Eigen::VectorXd zz;
        right_ramp_correlations(k_.h, v, zz);
        double M = 0;
        for (int j = 0; j < p_; ++j) M = std::max({M, std::abs(zz[j]), std::abs(zz[j] - zz[0])});
        double kappa = (kind_ == Kind::HardMargin) ? 1.0 : 0.5 * std::min(Np, Nn);
        if (M > 0) kappa = std::min(kappa, 0.5 * beta_ / M);
        z_ = kappa * zz.head(p_);
    }
    A_.apply(z_, s_);
    if (hinge()) {
        tau_.resize(G_);
        for (int g = 0; g < G_; ++g)
            tau_[g] = std::max(s_[g] - 2.0 * k_.nneg[g], -s_[g] - 2.0 * k_.npos[g]) + 1.0;
    }
}

Spline1DResult SplineDualIPM::run(const Spline1DOptions& opt, const Eigen::Ref<const Eigen::VectorXd>& y_in) {
    Spline1DResult res;
    initial_point();
    slacks(z_, s_, tau_, sl_);
    m_ = 0;
    double scale = 1.0;
    for (int g = 0; g < G_; ++g) scale += (kind_ == Kind::Squared) ? 0.5 * k_.m[g] * k_.ybar[g] * k_.ybar[g] + 0.5 * k_.ss[g] : k_.m[g];
    for (int f = 0; f < NFAM; ++f) {
        if (!used(f)) continue;
        if (!(sl_[f].array() > 0).all()) throw std::runtime_error("internal error: infeasible interior-point start");
        m_ += static_cast<int>(sl_[f].size());
    }
    const double mu0 = scale / std::max(1, m_);
    for (int f = 0; f < NFAM; ++f)
        if (used(f)) lam_[f] = mu0 / sl_[f].array();

    auto complementarity = [&]() {
        double eta = 0;
        for (int f = 0; f < NFAM; ++f) if (used(f)) eta += sl_[f].dot(lam_[f]);
        return eta;
    };

    double best_gap = kInf;
    Spline1DResult best;
    bool have_best = false;
    double c_guess = 0.0;
    const int n = static_cast<int>(y_in.size());

    bool polish_picked = false;  // set by certify: the sparse active-set polish was chosen
    // Certificate: primal network from the multipliers, dual value from v = A z.
    auto certify = [&](Spline1DResult& out, bool full) {
        Eigen::VectorXd v = s_;
        double D = feasible_dual_value(k_, L_, beta_, v);
        if (std::getenv("FCR_DEBUG")) {
            double f0 = 0; for (int g = 0; g < G_; ++g) f0 += L_.conj(g, s_[g]);
            std::fprintf(stderr, "certify: D %.10e -f0 %.10e sum %.3e\n", D, -f0, s_.sum());
        }
        // primal candidates: ramp weights w = lambda_lower - lambda_upper, pruned at several
        // levels (interior-point weights of inactive ramps are small but nonzero); the sparsest
        // candidate whose exactly evaluated J is within a small fraction of the tolerance wins.
        std::vector<double> r0(G_, 0.0), l0(G_, 0.0);
        double wmax = 0;
        for (int j = 0; j < p_; ++j) {
            r0[j] = lam_[BL][j] - lam_[BU][j];
            if (j >= 1) l0[j] = lam_[AL][j - 1] - lam_[AU][j - 1];
            wmax = std::max({wmax, std::abs(r0[j]), std::abs(l0[j])});
        }
        // thr: drop |w| <= thr * max|w|;  sthr > 0: also drop ramps whose dual constraint has
        // slack > sthr * beta (inactive constraints carry zero weight at the optimum).
        auto evaluate = [&](double thr, double sthr, std::vector<double>& f, double& P, Canonical& net) {
            if (kind_ == Kind::Interp) {
                for (int g = 0; g < G_; ++g) f[g] = k_.ybar[g];
            } else {
                std::vector<double> r = r0, l = l0;
                for (int j = 0; j < G_; ++j) {
                    if (std::abs(r[j]) <= thr * wmax) r[j] = 0.0;
                    if (std::abs(l[j]) <= thr * wmax) l[j] = 0.0;
                    if (sthr > 0 && j < p_ && r[j] != 0.0 && (r[j] > 0 ? sl_[BL][j] : sl_[BU][j]) > sthr * beta_) r[j] = 0.0;
                    if (sthr > 0 && j >= 1 && j < p_ && l[j] != 0.0 &&
                        (l[j] > 0 ? sl_[AL][j - 1] : sl_[AU][j - 1]) > sthr * beta_) l[j] = 0.0;
                }
                ramp_values(k_.h, r, l, f);
                if (kind_ == Kind::HardMargin) {
                    double minpos = kInf, maxneg = -kInf;
                    for (int g = 0; g < G_; ++g) {
                        if (k_.npos[g] > 0) minpos = std::min(minpos, f[g]); else maxneg = std::max(maxneg, f[g]);
                    }
                    const double margin = 0.5 * (minpos - maxneg), cst = -0.5 * (minpos + maxneg);
                    if (std::getenv("FCR_DEBUG")) std::fprintf(stderr, "  hard: thr %.1e margin %.6e minpos %.6e maxneg %.6e\n", thr, margin, minpos, maxneg);
                    // margin 1 + 1e-12 so that y f >= 1 survives rounding
                    const double sc = (1.0 + 1e-12) / margin;
                    for (auto& fg : f) fg = margin > 0 ? (fg + cst) * sc : std::numeric_limits<double>::quiet_NaN();
                } else {
                    const double cc = best_intercept(L_, f, c_guess);
                    c_guess = cc;
                    for (auto& fg : f) fg += cc;
                    net = canonical_from_weights(k_, r, l, cc);
                    P = 0;
                    for (int g = 0; g < G_; ++g) P += L_.primal(g, f[g]);
                    P += beta_ * net.cost;
                    return;
                }
            }
            P = kInf;
            if (std::all_of(f.begin(), f.end(), [](double u) { return std::isfinite(u); })) {
                net = canonical_network(k_, f);
                P = 0;
                for (int g = 0; g < G_; ++g) P += L_.primal(g, f[g]);
                P += beta_ * net.cost;
            }
        };
        // candidates: the unpruned network, pruned ones, and (squared loss) active-set polishes,
        // which also offer dual points; the sparsest primal within half the tolerance of the best
        // dual wins, else the best primal
        struct Cand { std::vector<double> f; double P; Canonical net; };
        std::vector<Cand> cands;
        std::size_t n_polish = 0;
        auto add = [&](double thr, double sthr) {
            Cand c; c.f.resize(G_);
            evaluate(thr, sthr, c.f, c.P, c.net);
            if (std::isfinite(c.P)) cands.push_back(std::move(c));
        };
        // the active-set polishes (squared loss) run on other threads while this one prunes
        std::vector<std::future<Polished>> polishes;
        if (kind_ == Kind::Squared && full) {
            for (double th : {1e-3, 1e-6}) {
                std::vector<int> sg(G_, 0);
                for (int j = 1; j < p_; ++j) {
                    if (std::min(sl_[BL][j], sl_[AL][j - 1]) <= th * beta_) sg[j] = 1;
                    else if (std::min(sl_[BU][j], sl_[AU][j - 1]) <= th * beta_) sg[j] = -1;
                }
                const int end_case = sl_[BL][0] <= th * beta_ ? 1 : (sl_[BU][0] <= th * beta_ ? 2 : 0);
                polishes.push_back(std::async(std::launch::async, [this, sg = std::move(sg), end_case]() {
                    return polish_squared(k_, L_, beta_, sg, end_case);
                }));
            }
        }
        add(0.0, 0.0);
        if (kind_ != Kind::Interp && full) {
            add(0.0, 1e-3); add(0.0, 1e-6); add(1e-8, 0.0);
            // slope changes of the unpruned fit that are tiny relative to the largest, removed
            if (!cands.empty() && kind_ != Kind::HardMargin) {
                const std::vector<double> f0 = cands[0].f;
                for (double thr : {1e-3, 1e-6}) {
                    Cand c;
                    c.f = prune_spline(k_, f0, thr);
                    const double cc = best_intercept(L_, c.f, 0.0);
                    for (auto& u : c.f) u += cc;
                    c.net = canonical_network(k_, c.f);
                    c.P = beta_ * c.net.cost;
                    for (int g = 0; g < G_; ++g) c.P += L_.primal(g, c.f[g]);
                    if (std::isfinite(c.P)) cands.push_back(std::move(c));
                }
            }
        }
        for (auto& fut : polishes) {
            Polished pol = fut.get();
            if (pol.D > D) { D = pol.D; v = pol.v; }
            if (std::isfinite(pol.P)) { cands.push_back(Cand{pol.f, pol.P, pol.net}); ++n_polish; }
        }
        auto size = [](const Canonical& c) { return c.wr.size() + c.wl.size(); };
        std::size_t pick = cands.size();
        polish_picked = false;
        for (std::size_t c = 0; c < cands.size(); ++c) {
            const double ok = cands[c].P - D <= 0.5 * opt.tol * std::max(std::abs(cands[c].P), 1e-12 * scale);
            if (ok && (pick == cands.size() || size(cands[c].net) < size(cands[pick].net))) pick = c;
        }
        if (pick == cands.size())
            for (std::size_t c = 0; c < cands.size(); ++c)
                if (pick == cands.size() || cands[c].P < cands[pick].P) pick = c;
        // the polishes are the last candidates; picking one means the optimal face was found
        polish_picked = pick < cands.size() && pick + n_polish >= cands.size();
        if (std::getenv("FCR_DEBUG")) {
            std::fprintf(stderr, "  D %.12e;", D);
            for (auto& c : cands) std::fprintf(stderr, " [P-D %.3e n %zu]", c.P - D, size(c.net));
            std::fprintf(stderr, " pick %zu\n", pick);
        }
        std::vector<double> fb(G_, std::numeric_limits<double>::quiet_NaN());
        double Pb = kInf;
        Canonical nb;
        if (pick < cands.size()) { fb = cands[pick].f; Pb = cands[pick].P; nb = cands[pick].net; }
        out.knots_right = nb.kr; out.w_right = nb.wr; out.knots_left = nb.kl; out.w_left = nb.wl;
        out.intercept = nb.intercept;
        out.primal = Pb;
        out.dual_value = D;
        out.gap = std::isfinite(Pb) ? std::max(0.0, Pb - D) : kInf;
        fill_samples(kind_, k_, fb, v, y_in, out);
        out.knot_dual = v;
        (void)n;
    };

    const double tol = opt.tol;
    Eigen::VectorXd dz, ds, dtau, dza, dsa, dtaua, s_old, taun;
    Eigen::VectorXd rho[NFAM], gdx[NFAM], gdxa[NFAM], dlam[NFAM], dlama[NFAM], zero_rho[NFAM], gdxv[NFAM], dzv;
    double t_cert = 0, t_fac = 0;
    const auto t_start = std::chrono::steady_clock::now();
    for (int f = 0; f < NFAM; ++f) if (used(f)) zero_rho[f].setZero(sl_[f].size());
    int it = 0, extra = 0, last_cert = -10;
    double last_rel_gap = kInf;
    bool stalled = false, best_ok = false;
    for (it = 1; it <= opt.max_iter; ++it) {
        check_interrupt();
        const double mu = complementarity() / m_;
        const auto tf0 = std::chrono::steady_clock::now();
        factor();
        t_fac += std::chrono::duration<double>(std::chrono::steady_clock::now() - tf0).count();
        // ---- predictor (affine scaling): rho = 0 gives dlam = -lam + (lam/sl) G dx
        solve(zero_rho, dza, dsa, dtaua);
        double apf[NFAM], adf[NFAM];
        par_fam([&](int f) {
            jac_fam(f, dza, dsa, dtaua, gdxa[f]);
            const double* sl = sl_[f].data(); const double* lm = lam_[f].data(); const double* gd = gdxa[f].data();
            dlama[f].resize(sl_[f].size());
            double* dl = dlama[f].data();
            double ap = 1.0, ad = 1.0;
            for (Eigen::Index i = 0; i < sl_[f].size(); ++i) {  // slack change is -G dx
                dl[i] = -lm[i] + lm[i] / sl[i] * gd[i];
                if (gd[i] > 0) ap = std::min(ap, sl[i] / gd[i]);
                if (dl[i] < 0) ad = std::min(ad, -lm[i] / dl[i]);
            }
            apf[f] = ap; adf[f] = ad;
        });
        double aa = 1.0;
        for (int f = 0; f < NFAM; ++f) if (used(f)) aa = std::min({aa, apf[f], adf[f]});
        double muf[NFAM];
        par_fam([&](int f) {
            muf[f] = ((sl_[f] - aa * gdxa[f]).array() * (lam_[f] + aa * dlama[f]).array()).sum();
        });
        double mu_aff = 0;
        for (int f = 0; f < NFAM; ++f) if (used(f)) mu_aff += muf[f];
        mu_aff /= m_;
        const double sigma = std::pow(std::max(0.0, std::min(1.0, mu_aff / mu)), 3);
        // ---- corrector: rho_i = (sigma mu - dsl_aff * dlam_aff) / sl
        par_fam([&](int f) { rho[f] = (sigma * mu + gdxa[f].array() * dlama[f].array()) / sl_[f].array(); });
        solve(rho, dz, ds, dtau);
        // the slacks actually move with the z derived from v (see derive_z below)
        derive_z(ds, dzv);
        double stf[NFAM];
        par_fam([&](int f) {
            jac_fam(f, dz, ds, dtau, gdx[f]);
            jac_fam(f, dzv, ds, dtau, gdxv[f]);
            const double* sl = sl_[f].data(); const double* lm = lam_[f].data(); const double* rh = rho[f].data();
            const double* g1 = gdx[f].data(); const double* g2 = gdxv[f].data();
            dlam[f].resize(sl_[f].size());
            double* dl = dlam[f].data();
            double st = 1.0;
            for (Eigen::Index i = 0; i < sl_[f].size(); ++i) {
                dl[i] = -lm[i] + rh[i] + lm[i] / sl[i] * g1[i];
                const double gm = std::max(g1[i], g2[i]);
                if (gm > 0) st = std::min(st, 0.995 * sl[i] / gm);
                if (dl[i] < 0) st = std::min(st, 0.995 * lm[i] / -dl[i]);
            }
            stf[f] = st;
        });
        double step = 1.0;
        for (int f = 0; f < NFAM; ++f) if (used(f)) step = std::min(step, stf[f]);
        if (std::getenv("FCR_DEBUG")) {
            // dual residual r = grad f0 + G^T lam, in z and tau
            Eigen::VectorXd gs; double dd = 0; grad(s_, gs, dd);
            if (hinge()) gs += lam_[DU] - lam_[DL] + lam_[E1] - lam_[E2];
            if (hard()) for (int g = 0; g < G_; ++g) gs[g] += ysign(g) * lam_[DU][g];
            Eigen::VectorXd rz; A_.apply_t(gs, rz); rz += lam_[BU] - lam_[BL];
            if (used(AU)) for (int j = 1; j < p_; ++j) { const double w = lam_[AU][j-1] - lam_[AL][j-1]; rz[j] += w; rz[0] -= w; }
            double rt = hinge() ? (Eigen::VectorXd::Ones(G_) - lam_[E1] - lam_[E2]).norm() : 0.0;
            std::fprintf(stderr, "it %d mu %.3e sigma %.2e step %.3e aff %.3e rz %.3e rt %.3e\n", it, mu, sigma, step, aa, rz.norm(), rt);
        }
        if (!(step > 1e-14)) { stalled = true; break; }
        // take the step; z is re-derived from v, so rounding can cost a sliver of slack: back off
        s_old = s_;
        bool feasible = false;
        for (int tries = 0; tries < 40 && !feasible; ++tries, step *= 0.5) {
            s_ = s_old + step * ds;
            derive_z(s_, z_);  // v = s is the master variable; z = K_right^T v, computed stably
            if (hinge()) taun = tau_ + step * dtau; else taun = tau_;
            bool okf[NFAM];
            par_fam([&](int f) { slack_fam(f, z_, s_, taun, sl_[f]); okf[f] = (sl_[f].array() > 0).all(); });
            feasible = true;
            for (int f = 0; f < NFAM; ++f) if (used(f) && !okf[f]) feasible = false;
            if (feasible) {
                tau_ = taun;
                par_fam([&](int f) { lam_[f] += step * dlam[f]; });
                break;
            }
        }
        if (!feasible) {
            s_ = s_old;
            derive_z(s_, z_);
            slacks(z_, s_, tau_, sl_);
            stalled = true;
            break;
        }
        const double mu_new = complementarity() / m_;
        double f0 = 0;  // current dual objective (cheap): sets when the certificate is worth computing
        for (int g = 0; g < G_; ++g) f0 += L_.conj(g, s_[g]);
        const bool near = mu_new * m_ <= 10.0 * tol * std::max(std::abs(f0), 1e-12 * scale);
        // far from the tolerance, a certificate every other iteration is enough
        const bool skip = near && extra == 0 && last_rel_gap > 1e3 * tol && (it - last_cert) < 2;
        if ((near && !skip) || extra > 0 || it == opt.max_iter || it % 10 == 0) {
            last_cert = it;
            Spline1DResult cur;
            const auto tc0 = std::chrono::steady_clock::now();
            // a quick certificate (unpruned network) first; the full one (pruning, polish) only
            // when it is within reach of the tolerance
            // (after a certified iteration the full one directly: it contains the quick one)
            if (extra == 0) certify(cur, false);
            if (extra > 0 || cur.gap <= 1e2 * tol * std::max(std::abs(cur.primal), 1e-12 * scale)) certify(cur, true);
            t_cert += std::chrono::duration<double>(std::chrono::steady_clock::now() - tc0).count();
            res.history_gap.push_back(cur.gap);
            const double thresh = tol * std::max(std::abs(cur.primal), 1e-12 * scale);
            last_rel_gap = cur.gap / std::max(std::abs(cur.primal), 1e-12 * scale);
            const bool ok = std::isfinite(cur.gap) && cur.gap <= thresh;
            const auto nn = [](const Spline1DResult& r) { return r.w_right.size() + r.w_left.size(); };
            if (!have_best || (ok && !best_ok) || (ok && nn(cur) < nn(best)) || (!ok && !best_ok && cur.gap < best_gap)) {
                best_gap = cur.gap; best = cur; have_best = true; best_ok = ok;
            }
            // once converged, a few more (superlinear) iterations drive the weights of inactive
            // ramps to zero, which lets the pruning find the sparse optimal network
            // a converged result that is sparse (the pruning or the polish found the optimal face)
            // ends the run; otherwise a few more (fast, terminal-phase) iterations sharpen the
            // separation of active and inactive ramps
            if (ok) ++extra;
            // squared loss: stop once the polish (the exact sparse optimum) certifies; other losses
            // (no polish) stop once the result is sparse
            if (ok && (kind_ == Kind::Squared ? polish_picked : 4 * nn(cur) <= static_cast<std::size_t>(G_))) break;
            if (extra >= 6) break;
        }
    }
    if (!have_best || stalled) {
        Spline1DResult cur;
        certify(cur, true);
        res.history_gap.push_back(cur.gap);
        if (cur.gap < best_gap || !have_best) { best = cur; have_best = true; }
    }
    if (std::getenv("FCR_DEBUG"))
        std::fprintf(stderr, "timing: total %.3f factor %.3f certify %.3f\n",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(), t_fac, t_cert);
    auto hist = res.history_gap;
    res = best;
    res.history_gap = hist;
    res.n_iter = std::min(it, opt.max_iter);
    const double thresh = tol * std::max(std::abs(res.primal), 1e-12 * scale);
    res.converged = std::isfinite(res.gap) && res.gap <= thresh;
    res.message = res.converged ? "converged: certified duality gap below tol"
                                : std::string(stalled ? "stalled (numerical limits)" : "maximum iterations reached") +
                                      ": certified duality gap " + std::to_string(res.gap) + " above tol";
    return res;
}

// ---------------------------------------------------------------------------------------
// Logistic loss: proximal Newton in function space.  Newton on the entropic dual converges only
// linearly when many dual entries are tiny (well-classified samples), so each outer step here
// solves the weighted squared-loss problem  min_F 1/2 sum_g H_g (F_g - ytilde_g)^2 + beta R(F)
// (the quadratic model of the loss, Lee-Sun-Saunders proximal Newton) with the interior-point
// solver above, followed by a line search on the true objective J.  The certificate is the dual
// point v = grad L(f), balanced so that 1^T v = 0 and scaled into the dual-feasible set.
// ---------------------------------------------------------------------------------------
Spline1DResult fit_logistic_prox_newton(const Knots& k, double beta, const Spline1DOptions& opt,
                                        const Eigen::Ref<const Eigen::VectorXd>& y) {
    const int G = static_cast<int>(k.a.size());
    KnotLoss L{Kind::Logistic, k};
    std::vector<int> rep(G, -1);
    for (std::size_t i = 0; i < k.group_of.size(); ++i)
        if (rep[k.group_of[i]] < 0) rep[k.group_of[i]] = static_cast<int>(i);
    auto sig = [](double u) { return u >= 0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u)); };
    auto objective = [&](const std::vector<double>& f, double& R) {
        R = canonical_network(k, f).cost;
        double J = beta * R;
        for (int g = 0; g < G; ++g) J += L.primal(g, f[g]);
        return J;
    };
    std::vector<double> f(G, 0.0);
    {
        const double c = best_intercept(L, f, 0.0);
        for (auto& u : f) u = c;
    }
    Spline1DResult best;
    double best_gap = kInf;
    std::vector<double> hist;
    double R = 0;
    double J = objective(f, R);
    int total_iter = 0;
    double last_decrease = kInf;  // model decrease of the previous step: sets the inner accuracy
    Eigen::VectorXd inner_dual;
    std::vector<double> F_last;
    bool no_progress = false;
    int outer_done = 0;
    for (int outer = 0;; ++outer) {
        outer_done = outer;
        // ---- certificate at the current f
        Eigen::VectorXd v(G);
        double Sp = 0, Sn = 0;
        std::vector<double> Ap(G), An(G);
        for (int g = 0; g < G; ++g) {
            Ap[g] = k.npos[g] * sig(-f[g]);
            An[g] = k.nneg[g] * sig(f[g]);
            Sp += Ap[g];
            Sn += An[g];
        }
        const double gp = Sp > Sn ? Sn / Sp : 1.0, gn = Sn > Sp ? Sp / Sn : 1.0;  // 1^T v = 0, domains kept
        for (int g = 0; g < G; ++g) v[g] = gn * An[g] - gp * Ap[g];
        double D = feasible_dual_value(k, L, beta, v);
        // the last subproblem's dual is feasible by construction and tends to grad L(f): use it
        // when it certifies more (it must lie in the logistic conjugate's domain)
        if (inner_dual.size() == G) {
            Eigen::VectorXd w = inner_dual;
            for (int g = 0; g < G; ++g) w[g] = std::min(std::max(w[g], -k.npos[g]), k.nneg[g]);  // conjugate's domain
            const double Dw = feasible_dual_value(k, L, beta, w);
            if (Dw > D) { D = Dw; v = w; }
        }
        const double gap = std::max(0.0, J - D);
        hist.push_back(gap);
        // primal candidates: the iterate f, and the last subproblem's solution F (sparse: it is the
        // interior-point solver's pruned or polished network), with its best intercept
        Canonical net = canonical_network(k, f);
        double Jbest = J;
        std::vector<double> fbest = f;
        if (F_last.size() == static_cast<std::size_t>(G)) {
            std::vector<double> Fc = F_last;
            const double c = best_intercept(L, Fc, 0.0);
            for (auto& u : Fc) u += c;
            double RF;
            const double JF = objective(Fc, RF);
            const Canonical netF = canonical_network(k, Fc);
            const double budget = 0.5 * opt.tol * std::abs(JF);
            if (JF < Jbest || (JF - D <= budget && netF.wr.size() + netF.wl.size() < net.wr.size() + net.wl.size())) {
                Jbest = JF; fbest = Fc; net = netF;
            }
        }
        if (Jbest - D <= 10.0 * opt.tol * std::abs(Jbest)) {
            // sparser candidates: drop the slope changes that are tiny relative to the largest
            for (double thr : {1e-2, 1e-4, 1e-6, 1e-8}) {
                std::vector<double> fp = prune_spline(k, fbest, thr);
                const double c = best_intercept(L, fp, 0.0);
                for (auto& u : fp) u += c;
                double Rp;
                const double Jp = objective(fp, Rp);
                const Canonical netp = canonical_network(k, fp);
                if (Jp - D <= 0.5 * opt.tol * std::abs(Jp) && netp.wr.size() + netp.wl.size() < net.wr.size() + net.wl.size()) {
                    Jbest = Jp; fbest = fp; net = netp;
                    break;
                }
            }
        }
        const double gap_best = std::max(0.0, Jbest - D);
        if (gap_best < best_gap || (gap_best <= opt.tol * std::abs(Jbest) &&
                                    net.wr.size() + net.wl.size() < best.w_right.size() + best.w_left.size())) {
            best_gap = gap_best;
            best = Spline1DResult();
            best.knots_right = net.kr; best.w_right = net.wr; best.knots_left = net.kl; best.w_left = net.wl;
            best.intercept = net.intercept;
            best.primal = Jbest;
            best.dual_value = D;
            best.gap = gap_best;
            fill_samples(Kind::Logistic, k, fbest, v, y, best);
        }

        if (best_gap <= opt.tol * std::abs(best.primal) || outer >= opt.max_iter || no_progress) break;
        check_interrupt();
        // ---- quadratic model and the weighted squared-loss subproblem, solved to an absolute
        // accuracy that is a small fraction of the current certified gap
        Knots kq = k;
        double model0 = beta * R;  // model value at F = f bounds the subproblem's optimum
        for (int g = 0; g < G; ++g) {
            const double q = sig(f[g]);
            const double grad = -k.npos[g] * (1.0 - q) + k.nneg[g] * q;
            const double hess = std::max((k.npos[g] + k.nneg[g]) * q * (1.0 - q), 1e-14 * (k.npos[g] + k.nneg[g]));
            kq.m[g] = hess;
            kq.ybar[g] = f[g] - grad / hess;
            kq.ss[g] = 0.0;
            model0 += 0.5 * grad * grad / hess;
        }
        bool moved = false;
        double frac = 0.1;
        for (int attempt = 0; attempt < 4 && !moved; ++attempt, frac *= 0.01) {
            Spline1DOptions oi = opt;
            oi.tol = std::max(1e-14, std::min(1e-3, frac * std::min(gap, last_decrease) / std::max(model0, 1e-300)));
            oi.max_iter = 200;
            SplineDualIPM inner(kq, Kind::Squared, beta);
            Spline1DResult ri = inner.run(oi, y);
            total_iter += ri.n_iter;
            inner_dual = ri.knot_dual;
            std::vector<double> F(G);
            for (int g = 0; g < G; ++g) F[g] = ri.fitted[rep[g]];
            F_last = F;
            // ---- Armijo line search on J along F - f (a descent direction of the composite J)
            double lin = 0;
            for (int g = 0; g < G; ++g) {
                const double q = sig(f[g]);
                lin += (-k.npos[g] * (1.0 - q) + k.nneg[g] * q) * (F[g] - f[g]);
            }
            const double RF = canonical_network(k, F).cost;
            const double Delta = lin + beta * (RF - R);
            if (!(Delta < 0)) continue;  // subproblem not solved accurately enough: tighten
            double alpha = 1.0;
            std::vector<double> fn(G);
            for (int ls = 0; ls < 40; ++ls) {
                for (int g = 0; g < G; ++g) fn[g] = f[g] + alpha * (F[g] - f[g]);
                const double c = best_intercept(L, fn, 0.0);
                for (auto& u : fn) u += c;
                double Rn;
                const double Jn = objective(fn, Rn);
                if (Jn <= J + 0.25 * alpha * Delta && Jn < J) {
                    if (std::getenv("FCR_DEBUG"))
                        std::fprintf(stderr, "outer %d alpha %.3e J %.12e Delta %.3e inner_it %d inner_gap %.2e\n",
                                     outer, alpha, Jn, Delta, ri.n_iter, ri.gap);
                    last_decrease = -Delta;
                    f = fn; J = Jn; R = Rn; moved = true;
                    break;
                }
                alpha *= 0.5;
            }
        }
        if (!moved) no_progress = true;  // certify once more with the last subproblem's dual, then stop
    }
    best.history_gap = hist;
    best.n_iter = outer_done;  // proximal-Newton steps (max_iter bounds these for the logistic loss)
    (void)total_iter;
    best.converged = std::isfinite(best.gap) && best.gap <= opt.tol * std::abs(best.primal);
    best.message = best.converged ? "converged: certified duality gap below tol"
                                  : "not converged: certified duality gap " + std::to_string(best.gap) + " above tol";
    return best;
}

}  // namespace

Spline1DResult fit_spline_1d(const Eigen::Ref<const Eigen::VectorXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y,
                             const Spline1DOptions& opt) {
    const Eigen::Index n = x.size();
    if (n == 0) throw std::invalid_argument("x is empty");
    if (y.size() != n) throw std::invalid_argument("x and y have different lengths");
    if (!x.allFinite()) throw std::invalid_argument("x contains NaN or inf");
    if (!y.allFinite()) throw std::invalid_argument("y contains NaN or inf");
    if (!(opt.beta >= 0) || !std::isfinite(opt.beta)) throw std::invalid_argument("beta must be a finite number >= 0");
    if (!(opt.tol > 0)) throw std::invalid_argument("tol must be > 0");
    if (opt.max_iter < 1) throw std::invalid_argument("max_iter must be >= 1");
    const bool classif = opt.loss != Loss::Squared;
    if (classif) {
        for (Eigen::Index i = 0; i < n; ++i)
            if (y[i] != 1.0 && y[i] != -1.0) throw std::invalid_argument("y must contain only -1 and +1 for the hinge and logistic losses");
    }
    if (opt.loss == Loss::Logistic && opt.beta == 0) throw std::invalid_argument("beta must be > 0 for the logistic loss");

    Knots k = group_samples(x, y);
    const int G = static_cast<int>(k.a.size());
    Kind kind = Kind::Squared;
    if (opt.loss == Loss::Logistic) kind = Kind::Logistic;
    if (opt.loss == Loss::Hinge) kind = opt.beta == 0 ? Kind::HardMargin : Kind::Hinge;
    if (opt.loss == Loss::Squared && opt.beta == 0) kind = Kind::Interp;
    if (kind == Kind::Interp) {
        double ys = 0;
        for (Eigen::Index i = 0; i < n; ++i) ys = std::max(ys, std::abs(y[i]));
        for (int g = 0; g < G; ++g)
            if (std::sqrt(k.ss[g] / k.m[g]) > 1e-12 * std::max(1.0, ys))
                throw std::invalid_argument("interpolation is infeasible: samples with equal x have different y (use beta > 0)");
    }
    if (kind == Kind::HardMargin) {
        for (int g = 0; g < G; ++g)
            if (k.npos[g] > 0 && k.nneg[g] > 0)
                throw std::invalid_argument("hard-margin problem (hinge, beta = 0) is infeasible: samples with equal x have different labels (use beta > 0)");
    }
    const double beta = (opt.beta == 0) ? 1.0 : opt.beta;  // beta = 0: minimize sum |w| (dual box of radius 1)
    KnotLoss L{kind, k};

    if (G == 1) {  // every ramp is constant on the data: the best constant, exactly
        Spline1DResult r;
        std::vector<double> f(1, 0.0);
        double c = 0;
        if (kind == Kind::Interp) c = k.ybar[0];
        else if (kind == Kind::HardMargin) c = k.npos[0] > 0 ? 1.0 : -1.0;
        else c = best_intercept(L, f, 0.0);
        r.intercept = c;
        r.primal = L.primal(0, c);
        // dual: v = 0 is the only feasible point (1^T v = 0 with one knot); D = -l^*(0) = min l
        r.dual_value = -L.conj(0, 0.0);
        r.gap = std::max(0.0, r.primal - r.dual_value);
        r.fitted = Eigen::VectorXd::Constant(n, c);
        r.dual.resize(n);
        for (Eigen::Index i = 0; i < n; ++i) {
            switch (kind) {
                case Kind::Squared: r.dual[i] = k.ybar[0] - y[i]; break;
                case Kind::Logistic: { const double N = k.npos[0] + k.nneg[0]; r.dual[i] = y[i] > 0 ? -k.nneg[0] / N : k.npos[0] / N; break; }
                case Kind::Hinge: {
                    const double An = std::min(k.nneg[0], k.npos[0]);
                    r.dual[i] = y[i] > 0 ? -An / k.npos[0] : An / k.nneg[0];
                    break;
                }
                default: r.dual[i] = 0.0;
            }
        }
        r.converged = r.gap <= opt.tol * std::max(1.0, std::abs(r.primal));
        r.message = "single distinct x: constant model";
        r.history_gap.push_back(r.gap);
        return r;
    }
    if (kind == Kind::Logistic) return fit_logistic_prox_newton(k, beta, opt, y);
    SplineDualIPM ipm(k, kind, beta);
    Spline1DResult r = ipm.run(opt, y);
    if (opt.beta == 0 && std::isfinite(r.primal)) {
        // beta = 0: J = sum |w| (no loss term); the dual value is y^T v form already
    }
    return r;
}

}  // namespace fcr
