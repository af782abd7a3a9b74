// Activation patterns of a hyperplane arrangement and the exact per-pattern oracle
// (see arrangement.hpp for the mathematics).
#include "fastconvexrelu/arrangement.hpp"
#include "fastconvexrelu/parallel.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace fcr {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// Packed sign vector (bit i = 1 when row i is positive) used as a hash key.
std::string sign_key(const VectorXd& t) {
    std::string key(static_cast<std::size_t>((t.size() + 7) / 8), '\0');
    for (Index i = 0; i < t.size(); ++i)
        if (t[i] > 0.0) key[static_cast<std::size_t>(i / 8)] |= static_cast<char>(1 << (i % 8));
    return key;
}

// Orthonormal basis (p x (p-1)) of the orthogonal complement of the unit vector rho.
MatrixXd complement_basis(const VectorXd& rho) {
    const Index p = rho.size();
    VectorXd h = rho;
    h[0] += (rho[0] >= 0.0 ? 1.0 : -1.0);
    const MatrixXd H = MatrixXd::Identity(p, p) - (2.0 / h.squaredNorm()) * h * h.transpose();
    return H.rightCols(p - 1);
}

class Enumerator {
  public:
    Enumerator(double tol, long long cap) : tol_(tol), cap_(cap) {}

    // Interior points (columns) of the distinct full-dimensional cells of the central
    // arrangement with (nonzero) normals the rows of B.  cap >= 0: stop with TooManyPatterns
    // after more than cap cells (top level only).
    std::vector<VectorXd> cells(const MatrixXd& B0, long long cap) const {
        const Index m = B0.rows(), p = B0.cols();
        MatrixXd B = B0;
        for (Index i = 0; i < m; ++i) B.row(i) /= B.row(i).norm();
        // rank reduction: the lineality space does not change any sign
        Eigen::JacobiSVD<MatrixXd> svd(B, Eigen::ComputeFullV);
        const VectorXd& s = svd.singularValues();
        Index r = 0;
        for (Index i = 0; i < s.size(); ++i)
            if (s[i] > tol_ * std::max(1.0, s[0])) ++r;
        if (r < p) {
            const MatrixXd Vr = svd.matrixV().leftCols(r);
            std::vector<VectorXd> sub = cells(B * Vr, cap);
            for (auto& z : sub) z = Vr * z;
            return sub;
        }
        if (p == 1) return {VectorXd::Constant(1, 1.0), VectorXd::Constant(1, -1.0)};

        // distinct hyperplanes (rows equal up to sign)
        std::vector<Index> H;
        for (Index i = 0; i < m; ++i) {
            bool dup = false;
            for (Index j : H) {
                const double dt = B.row(i).dot(B.row(j));
                if (std::abs(std::abs(dt) - 1.0) <= tol_ &&
                    (B.row(i) - (dt > 0 ? 1.0 : -1.0) * B.row(j)).norm() <= 4.0 * tol_) {
                    dup = true;
                    break;
                }
            }
            if (!dup) H.push_back(i);
        }
        const Index h = static_cast<Index>(H.size());
        const Index q = p - 1;  // hyperplanes per line
        std::vector<VectorXd> out;
        std::unordered_set<std::string> seen_cells, seen_lines;
        if (h < q) return out;  // cannot happen for an essential arrangement
        std::vector<Index> comb(static_cast<std::size_t>(q));
        for (Index i = 0; i < q; ++i) comb[i] = i;
        MatrixXd S(q, p);
        for (;;) {
            for (Index i = 0; i < q; ++i) S.row(i) = B.row(H[comb[i]]);
            Eigen::JacobiSVD<MatrixXd> ss(S, Eigen::ComputeFullV);
            const VectorXd& sv = ss.singularValues();
            if (sv[q - 1] > tol_ * std::max(1.0, sv[0])) {
                VectorXd rho = ss.matrixV().col(p - 1);
                VectorXd t = B * rho;
                std::vector<Index> Z;
                for (Index i = 0; i < m; ++i)
                    if (std::abs(t[i]) <= tol_) Z.push_back(i);
                std::string key(reinterpret_cast<const char*>(Z.data()), Z.size() * sizeof(Index));
                if (seen_lines.insert(key).second) {
                    if (static_cast<Index>(Z.size()) > q) {  // refine rho on all of Z
                        MatrixXd BZ(Z.size(), p);
                        for (std::size_t a = 0; a < Z.size(); ++a) BZ.row(a) = B.row(Z[a]);
                        Eigen::JacobiSVD<MatrixXd> sz(BZ, Eigen::ComputeFullV);
                        rho = sz.matrixV().col(p - 1);
                        t = B * rho;
                    }
                    add_line(B, rho, t, Z, out, seen_cells, cap);
                }
            }
            // next combination
            Index i = q - 1;
            while (i >= 0 && comb[i] == h - q + i) --i;
            if (i < 0) break;
            ++comb[i];
            for (Index j = i + 1; j < q; ++j) comb[j] = comb[j - 1] + 1;
        }
        return out;
    }

  private:
    void add_line(const MatrixXd& B, const VectorXd& rho, const VectorXd& t,
                  const std::vector<Index>& Z, std::vector<VectorXd>& out,
                  std::unordered_set<std::string>& seen, long long cap) const {
        const Index p = B.cols(), m = B.rows();
        const MatrixXd W = complement_basis(rho);
        MatrixXd L(Z.size(), p - 1);
        for (std::size_t a = 0; a < Z.size(); ++a) L.row(a) = B.row(Z[a]) * W;
        std::vector<VectorXd> local;
        // general position at this line: |Z| = p - 1 independent rows, all sign vectors
        Eigen::FullPivLU<MatrixXd> lu;
        bool closed_form = false;
        if (static_cast<Index>(Z.size()) == p - 1) {
            lu.compute(L);
            closed_form = lu.isInvertible();
        }
        if (closed_form) {
            const Index q = p - 1;
            for (long long mask = 0; mask < (1LL << q); ++mask) {
                VectorXd sgn(q);
                for (Index i = 0; i < q; ++i) sgn[i] = (mask >> i) & 1 ? 1.0 : -1.0;
                local.push_back(lu.solve(sgn));
            }
        } else {
            local = cells(L, -1);
        }
        for (double sg : {1.0, -1.0}) {
            for (const VectorXd& y : local) {
                VectorXd z = W * y;
                z /= z.norm();
                const VectorXd tz = B * z;
                double eps = 0.5;
                for (Index i = 0; i < m; ++i) {
                    if (std::abs(t[i]) <= tol_) continue;
                    const double a = std::abs(tz[i]);
                    if (a > 0.0) eps = std::min(eps, 0.5 * std::abs(t[i]) / a);
                }
                VectorXd w = sg * rho + eps * z;
                const VectorXd tw = B * w;
                if (seen.insert(sign_key(tw)).second) {
                    out.push_back(w);
                    if (cap >= 0 && static_cast<long long>(out.size()) > cap)
                        throw TooManyPatterns("too many cells", static_cast<long long>(out.size()));
                }
            }
        }
    }

    double tol_;
    long long cap_;
};

}  // namespace

ArrangementResult enumerate_patterns(const Eigen::Ref<const RowMatrixXd>& X, bool bias,
                                     long long max_patterns, double tol) {
    const Index n = X.rows(), d = X.cols();
    if (n == 0 || d == 0)
        throw std::invalid_argument("X must be non-empty, got shape (" + std::to_string(n) +
                                    ", " + std::to_string(d) + ")");
    if (!X.allFinite()) throw std::invalid_argument("X contains NaN or inf");
    if (max_patterns < 1) throw std::invalid_argument("max_patterns must be >= 1");
    if (!(tol > 0.0) || !(tol < 1e-2)) throw std::invalid_argument("tol must lie in (0, 1e-2)");
    const Index k = bias ? d + 1 : d;
    MatrixXd A(n, k);
    A.leftCols(d) = X;
    if (bias) A.col(d).setOnes();
    const VectorXd an = A.rowwise().norm();
    std::vector<Index> nz;
    for (Index i = 0; i < n; ++i)
        if (an[i] > 0.0) nz.push_back(i);
    ArrangementResult res;
    if (nz.empty()) {  // X = 0 without bias: only the all-zero pattern
        res.patterns.resize(n, 0);
        res.generators.resize(0, k);
        return res;
    }
    MatrixXd Anz(nz.size(), k);
    for (std::size_t a = 0; a < nz.size(); ++a) Anz.row(a) = A.row(nz[a]);
    {
        Eigen::JacobiSVD<MatrixXd> svd(Anz);
        const VectorXd& s = svd.singularValues();
        for (Index i = 0; i < s.size(); ++i)
            if (s[i] > tol * std::max(1.0, s[0] / Anz.rowwise().norm().maxCoeff())) ++res.rank;
    }
    Enumerator en(tol, max_patterns);
    std::vector<VectorXd> pts;
    try {
        // + 1: the all-zero pattern may be among the cells
        pts = en.cells(Anz, max_patterns + 1);
    } catch (const TooManyPatterns& ex) {
        throw TooManyPatterns("more than max_patterns=" + std::to_string(max_patterns) +
                                  " activation patterns (at least " +
                                  std::to_string(ex.found() - 1) + " found before stopping)",
                              ex.found() - 1);
    }
    std::vector<Index> keep;
    double min_margin = std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < pts.size(); ++p) {
        const VectorXd t = A * pts[p];
        bool any = false;
        const double wn = pts[p].norm();
        for (Index i : nz) {
            any |= t[i] > 0.0;
            min_margin = std::min(min_margin, std::abs(t[i]) / (an[i] * wn));
        }
        if (any) keep.push_back(static_cast<Index>(p));
    }
    if (static_cast<long long>(keep.size()) > max_patterns)
        throw TooManyPatterns("more than max_patterns=" + std::to_string(max_patterns) +
                                  " activation patterns (" + std::to_string(keep.size()) +
                                  " found)",
                              static_cast<long long>(keep.size()));
    const Index P = static_cast<Index>(keep.size());
    res.count = P;
    res.patterns.setZero(n, P);
    res.generators.resize(P, k);
    for (Index p = 0; p < P; ++p) {
        const VectorXd& w = pts[static_cast<std::size_t>(keep[p])];
        res.generators.row(p) = (w / w.norm()).transpose();
        const VectorXd t = A * w;
        for (Index i : nz) res.patterns(i, p) = t[i] > 0.0 ? 1 : 0;
    }
    res.min_margin = std::isfinite(min_margin) ? min_margin : 0.0;
    return res;
}

// ------------------------------------------------------------------------- pattern oracle
PatternOracleResult pattern_oracle(const Eigen::Ref<const RowMatrixXd>& X,
                                   const Eigen::Ref<const Eigen::VectorXd>& v,
                                   const Eigen::Ref<const PatternMatrix>& patterns, bool bias,
                                   const ConeProjectionOptions& opt, int n_threads,
                                   const std::vector<int>& signs) {
    const Index n = X.rows(), d = X.cols();
    if (n == 0 || d == 0) throw std::invalid_argument("X must be non-empty");
    if (!X.allFinite()) throw std::invalid_argument("X contains NaN or inf");
    if (v.size() != n)
        throw std::invalid_argument("v has length " + std::to_string(v.size()) + " but X has " +
                                    std::to_string(n) + " rows");
    if (!v.allFinite()) throw std::invalid_argument("v contains NaN or inf");
    if (patterns.rows() != n)
        throw std::invalid_argument("patterns has " + std::to_string(patterns.rows()) +
                                    " rows but X has " + std::to_string(n));
    if (n_threads < 1) throw std::invalid_argument("n_threads must be >= 1");
    const Index P = patterns.cols();
    if (!signs.empty() && static_cast<Index>(signs.size()) != P)
        throw std::invalid_argument("signs must be empty or have one entry per pattern (" +
                                    std::to_string(P) + "), got " + std::to_string(signs.size()));
    for (int sg : signs)
        if (sg < -1 || sg > 1) throw std::invalid_argument("signs entries must be -1, 0 or 1");
    PatternOracleResult res;
    res.value.setZero(P, 2);
    res.b.setZero(P, 2);
    res.u.assign(2, RowMatrixXd::Zero(P, d));
    res.status.setZero(P, 2);
    res.primal_infeasibility.setZero(P, 2);
    res.gap.setZero(P, 2);
    res.n_iter.setZero(P, 2);
    const double eps = std::numeric_limits<double>::epsilon();

    auto one = [&](Index p, RowMatrixXd& A, VectorXd& e) {
        VectorXd Dv(n);
        double absDv = 0.0;
        for (Index i = 0; i < n; ++i) {
            const bool on = patterns(i, p) != 0;
            e[i] = on ? 1.0 : -1.0;
            A.row(i) = e[i] * X.row(i);
            Dv[i] = on ? v[i] : 0.0;
            absDv += std::abs(Dv[i]);
        }
        const VectorXd g = X.transpose() * Dv;
        double gb = Dv.sum();
        // 1^T D v below its rounding error (e.g. 1^T v = 0 by an intercept) counts as 0
        if (std::abs(gb) <= 4.0 * static_cast<double>(n) * eps * absDv) gb = 0.0;
        const int only = signs.empty() ? 0 : signs[static_cast<std::size_t>(p)];
        for (int col = 0; col < 2; ++col) {
            const double s = col == 0 ? 1.0 : -1.0;
            if (only != 0 && static_cast<double>(only) != s) {
                res.value(p, col) = std::numeric_limits<double>::quiet_NaN();
                res.status(p, col) = 3;
                continue;
            }
            if (bias) {
                AffineConeMaxResult r = affine_cone_max(A, e, s * g, s * gb, opt);
                res.value(p, col) = r.value;
                res.b(p, col) = r.unbounded ? 0.0 : r.b;
                res.u[col].row(p) = r.u.transpose();
                res.status(p, col) = r.unbounded ? 1 : (r.converged ? 0 : 2);
                res.primal_infeasibility(p, col) = r.primal_infeasibility;
                res.gap(p, col) = r.unbounded ? 0.0
                                              : std::abs(r.value - r.primal_value) /
                                                    std::max(1.0, r.value);
                res.n_iter(p, col) = r.n_iter;
            } else {
                const VectorXd cu = s * g;
                ConeProjectionResult r = cone_projection(A, cu, opt);
                const double pn = r.u.norm();
                // max_{Au >= 0, ||u|| <= 1} c^T u = ||P_C(c)|| (Moreau), u = P_C(c)/||P_C(c)||
                if (pn > 1e-14 * cu.norm()) {
                    res.value(p, col) = pn;
                    res.u[col].row(p) = (r.u / pn).transpose();
                }
                res.status(p, col) = r.converged ? 0 : 2;
                res.primal_infeasibility(p, col) =
                    std::max(0.0, -r.min_Au) / std::max(1.0, pn * A.rowwise().norm().maxCoeff());
                res.n_iter(p, col) = r.n_iter;
            }
        }
    };
    const double work = static_cast<double>(P) * static_cast<double>(n) * static_cast<double>(d);
    const int T = work < 65536.0 ? 1 : static_cast<int>(std::min<Index>(n_threads, std::max<Index>(P, 1)));
    parallel_for(T, T, [&](int, Index t) {
        RowMatrixXd A(n, d);
        VectorXd e(n);
        for (Index p = t; p < P; p += T) {
            check_interrupt();
            one(p, A, e);
        }
    });
    return res;
}

}  // namespace fcr
