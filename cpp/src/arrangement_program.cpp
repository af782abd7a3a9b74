// Convex program over fixed activation patterns: augmented Lagrangian + FISTA, with a dual
// certificate.  See cpp/include/fastconvexrelu/arrangement_program.hpp for the math.
#include "fastconvexrelu/arrangement_program.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "fastconvexrelu/cone_projection.hpp"
#include "fastconvexrelu/parallel.hpp"

namespace fcr {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Run f(lo, hi) over [0, count) split in n_threads contiguous ranges (calling thread does one).
void parallel_ranges(Index count, int n_threads, bool worth_it, const std::function<void(Index, Index)>& f) {
    const int nt = worth_it ? std::max(1, std::min<int>(n_threads, static_cast<int>(count))) : 1;
    if (nt <= 1) {
        f(0, count);
        return;
    }
    const Index chunk = (count + nt - 1) / nt;
    fcr::parallel_for(nt, nt, [&](int, Index t) {
        const Index lo = t * chunk, hi = std::min(count, lo + chunk);
        if (lo < hi) f(lo, hi);
    });
}

struct Problem {
    MatrixXd Xt;  // n x dp
    MatrixXd D;   // n x P (0/1)
    MatrixXd S;   // n x P (2 D - 1)
    Eigen::Ref<const MatrixXd> Y;
    const LossFunction& loss;
    Index n, d, dp, P, o, m;
    bool bias;
    // fit_c: the intercept c is a variable (fit_intercept, or bias with the all-active pattern,
    // whose unpenalized bias-only blocks are a free constant; see the header).  Otherwise c = 0
    // and the dual point is not centred.
    bool fit_c;
    Index all_active = -1;  // index of an all-active pattern (D_i = I), -1 if none
    double beta;
    int n_threads;
    bool big;  // worth threading

    Problem(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const MatrixXd>& Y_,
            const Eigen::Ref<const MatrixXd>& pat, const LossFunction& l, const ArrangementProgramOptions& opt)
        : Y(Y_), loss(l) {
        n = X.rows();
        d = X.cols();
        bias = opt.bias;
        dp = d + (bias ? 1 : 0);
        P = pat.cols();
        o = Y_.cols();
        m = 2 * P * o;
        beta = opt.beta;
        n_threads = std::max(1, opt.n_threads);
        Xt.resize(n, dp);
        Xt.leftCols(d) = X;
        if (bias) Xt.col(d).setOnes();
        D = pat;
        S = 2.0 * D.array() - 1.0;
        for (Index i = 0; i < P && all_active < 0; ++i)
            if (D.col(i).minCoeff() == 1.0) all_active = i;
        fit_c = opt.fit_intercept || (bias && all_active >= 0);
        big = static_cast<double>(n) * dp * m >= 2e5;
    }
    Index col(Index i, Index k, Index s) const { return (2 * k + s) * P + i; }
};

// Forward: M = Xt * Theta and F = sum_i D_i (M_v - M_w) + 1 c^T.
void forward(const Problem& pb, const MatrixXd& Th, const VectorXd& c, MatrixXd& M, MatrixXd& F) {
    std::vector<MatrixXd> parts(static_cast<std::size_t>(pb.n_threads), MatrixXd::Zero(pb.n, pb.o));
    std::vector<int> used(static_cast<std::size_t>(pb.n_threads), 0);
    const Index chunk_count = pb.P;
    const int nt = pb.big ? std::max(1, std::min<int>(pb.n_threads, static_cast<int>(pb.P))) : 1;
    const Index chunk = (chunk_count + nt - 1) / nt;
    parallel_ranges(pb.P, pb.n_threads, pb.big, [&](Index lo, Index hi) {
        const std::size_t t = static_cast<std::size_t>(lo / std::max<Index>(1, chunk));
        MatrixXd& Fp = parts[t];
        used[t] = 1;
        for (Index k = 0; k < pb.o; ++k)
            for (Index s = 0; s < 2; ++s) {
                const Index c0 = pb.col(lo, k, s);
                M.middleCols(c0, hi - lo).noalias() = pb.Xt * Th.middleCols(c0, hi - lo);
                const double sg = s == 0 ? 1.0 : -1.0;
                for (Index i = lo; i < hi; ++i)
                    Fp.col(k).array() += sg * pb.D.col(i).array() * M.col(pb.col(i, k, s)).array();
            }
    });
    F = c.transpose().replicate(pb.n, 1);
    for (std::size_t t = 0; t < parts.size(); ++t)
        if (used[t]) F += parts[t];
}

// Group shrinkage of the penalized coordinates [:d] of every column (bias row untouched).
void group_shrink(const Problem& pb, MatrixXd& Th, double thr) {
    for (Index c = 0; c < Th.cols(); ++c) {
        const double nr = Th.col(c).head(pb.d).norm();
        if (nr <= thr)
            Th.col(c).head(pb.d).setZero();
        else
            Th.col(c).head(pb.d) *= (1.0 - thr / nr);
    }
}

double penalty(const Problem& pb, const MatrixXd& Th) {
    double s = 0.0;
    for (Index c = 0; c < Th.cols(); ++c) s += Th.col(c).head(pb.d).norm();
    return pb.beta * s;
}

double max_violation(const Problem& pb, const MatrixXd& M) {
    double v = 0.0;
    for (Index k = 0; k < pb.o; ++k)
        for (Index s = 0; s < 2; ++s)
            for (Index i = 0; i < pb.P; ++i) {
                const Index cc = pb.col(i, k, s);
                v = std::max(v, -(pb.S.col(i).array() * M.col(cc).array()).minCoeff());
            }
    return v;
}

struct Certificate {
    MatrixXd dual;
    double dual_value = -kInf;
    double scale = 0.0;
    double max_s = kInf;  // max s_block / beta
    bool ok = false;
    Eigen::VectorXd block_s;  // s_block / beta for every block (m)
    MatrixXd direction;       // dp x m: the maximizing v in K_b of the NNLS (for s_block > beta)
};

// Dual certificate from lam = grad L(F) (see the header).
Certificate certify(const Problem& pb, MatrixXd lam, std::vector<std::vector<Index>>& warm) {
    Certificate cert;
    cert.block_s = Eigen::VectorXd::Constant(pb.m, kInf);
    cert.direction = MatrixXd::Zero(pb.dp, pb.m);
    // 1^T lam_k = 0 is a dual constraint only when c is a variable (or equivalent, see fit_c)
    if (pb.fit_c && !pb.loss.center_columns(lam, pb.Y)) return cert;
    if (!std::isfinite(pb.loss.conjugate(lam, pb.Y))) return cert;
    // Q(:, (i, k)) = Xt^T D_i lam_k
    const double cb = pb.bias ? 100.0 * std::max(1.0, pb.Xt.leftCols(pb.d).rowwise().norm().maxCoeff()) : 1.0;
    VectorXd rownorm2 = pb.Xt.leftCols(pb.d).rowwise().squaredNorm();
    std::vector<double> smax(static_cast<std::size_t>(pb.P), 0.0);
    ConeProjectionOptions copt;
    copt.tol = 1e-12;
    parallel_ranges(pb.P, pb.n_threads, true, [&](Index lo, Index hi) {
        RowMatrixXd A(pb.n, pb.dp);
        VectorXd q(pb.dp);
        for (Index i = lo; i < hi; ++i) {
            A = (pb.Xt.array().colwise() * pb.S.col(i).array()).matrix();
            if (pb.bias) A.col(pb.d) *= cb;
            double sm = 0.0;
            for (Index k = 0; k < pb.o && std::isfinite(sm); ++k) {
                const VectorXd g = pb.Xt.transpose() * (pb.D.col(i).array() * lam.col(k).array()).matrix();
                for (Index s = 0; s < 2; ++s) {
                    const Index cc = pb.col(i, k, s);
                    q = s == 0 ? VectorXd(-g) : g;
                    if (pb.bias) q[pb.d] *= cb;
                    ConeProjectionResult pr;
                    try {
                        pr = cone_projection(A, q, copt, warm[static_cast<std::size_t>(cc)]);
                    } catch (const Interrupted&) {
                        throw;
                    } catch (const std::exception&) {
                        pr = cone_projection(A, q, copt, {});
                    }
                    warm[static_cast<std::size_t>(cc)] = pr.active;
                    cert.direction.col(cc) = pr.u;
                    if (pb.bias) cert.direction(pb.d, cc) *= cb;  // back from the scaled cone
                    VectorXd h = pr.u;  // = q' + A'^T mu = diag(1, cb) (q + G^T mu)
                    if (pb.bias) {
                        h[pb.d] /= cb;
                        // recompute h from mu in unscaled form to limit rounding: h = q + G^T mu
                        VectorXd qq = s == 0 ? VectorXd(-g) : g;
                        VectorXd smu = (pr.lambda.array() * pb.S.col(i).array()).matrix();
                        h = qq + pb.Xt.transpose() * smu;
                        // refine on the passive set: min ||(q + B mu)[:d]|| s.t. (q + B mu)[d] = 0
                        // (KKT system); kept only if mu >= 0, so the bound stays valid
                        const Index np = static_cast<Index>(pr.active.size());
                        if (np > 0) {
                            MatrixXd B(pb.dp, np);
                            for (Index r = 0; r < np; ++r)
                                B.col(r) = pb.S(pr.active[static_cast<std::size_t>(r)], i) *
                                           pb.Xt.row(pr.active[static_cast<std::size_t>(r)]).transpose();
                            MatrixXd Kk = MatrixXd::Zero(np + 1, np + 1);
                            Kk.topLeftCorner(np, np) = B.topRows(pb.d).transpose() * B.topRows(pb.d);
                            Kk.block(np, 0, 1, np) = B.row(pb.d);
                            Kk.block(0, np, np, 1) = B.row(pb.d).transpose();
                            VectorXd rhs(np + 1);
                            rhs.head(np) = -B.topRows(pb.d).transpose() * qq.head(pb.d);
                            rhs[np] = -qq[pb.d];
                            const VectorXd sol = Kk.completeOrthogonalDecomposition().solve(rhs);
                            if (sol.allFinite() && sol.head(np).minCoeff() >= 0.0) {
                                const VectorXd h2 = qq + B * sol.head(np);
                                if (std::abs(h2[pb.d]) <= std::abs(h[pb.d]) && h2.head(pb.d).norm() <= h.head(pb.d).norm() + std::abs(h[pb.d]) * pb.Xt.leftCols(pb.d).rowwise().norm().maxCoeff())
                                    h = h2;
                            }
                        }
                        const double r = h[pb.d];
                        if (r != 0.0) {
                            // add |r| to mu_j on a row with S_ij = -sign(r): h[:d] -> h[:d] - r x_j
                            const double want = r > 0 ? -1.0 : 1.0;
                            VectorXd Xh = pb.Xt.leftCols(pb.d) * h.head(pb.d);
                            double best = kInf;
                            Index jb = -1;
                            for (Index j = 0; j < pb.n; ++j) {
                                if (pb.S(j, i) != want) continue;
                                const double val = r * r * rownorm2[j] - 2.0 * r * Xh[j];
                                if (val < best) {
                                    best = val;
                                    jb = j;
                                }
                            }
                            const double round_tol = 1e-13 * (1.0 + g.cwiseAbs().maxCoeff() + lam.col(k).cwiseAbs().sum());
                            if (jb >= 0) {
                                h.head(pb.d) -= r * pb.Xt.row(jb).head(pb.d).transpose();
                            } else if (std::abs(qq[pb.d]) <= round_tol) {
                                h = qq;  // mu = 0 (valid when the bias component vanishes)
                            } else if (std::abs(r) > round_tol) {
                                // (all-active pattern: r = -+ 1^T lam_k, zero up to rounding after
                                // centering; accepted at that level, otherwise no certificate)
                                sm = kInf;
                                break;
                            }
                        }
                    }
                    sm = std::max(sm, h.head(pb.d).norm());
                    cert.block_s[cc] = h.head(pb.d).norm() / pb.beta;
                }
            }
            smax[static_cast<std::size_t>(i)] = sm;
        }
    });
    double s = 0.0;
    for (double v : smax) s = std::max(s, v);
    cert.max_s = s / pb.beta;
    if (!std::isfinite(s)) return cert;
    double tmax = s <= pb.beta ? 1.0 : pb.beta / s;
    if (pb.loss.kind() == LossKind::Hinge && s > 0.0) {
        // hinge: dom L^* is the box a = -y lam in [0, 1] and -L^*(t lam) = t sum a is linear, so
        // the candidate may also be scaled up, to the first of s t = beta and max a t = 1 (for
        // separable data the optimal dual is tiny, ~ beta, and a direction normalized to
        // max a = 1 would otherwise be capped at t = 1)
        double amax = 0.0;
        for (Index j = 0; j < pb.n; ++j) amax = std::max(amax, -pb.Y(j, 0) * lam(j, 0));
        tmax = pb.beta / s;
        if (amax > 0.0) tmax = std::min(tmax, 1.0 / amax);
    }
    // maximize the concave -L^*(t lam) over t in [0, tmax] (golden section + endpoints)
    auto Dv = [&](double t) { return pb.loss.dual_value(t * lam, pb.Y); };
    double a = 0.0, b = tmax;
    const double gr = 0.5 * (std::sqrt(5.0) - 1.0);
    double x1 = b - gr * (b - a), x2 = a + gr * (b - a), f1 = Dv(x1), f2 = Dv(x2);
    for (int it = 0; it < 80; ++it) {
        if (f1 < f2) {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + gr * (b - a);
            f2 = Dv(x2);
        } else {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - gr * (b - a);
            f1 = Dv(x1);
        }
    }
    double tb = 0.5 * (a + b), fb = Dv(tb);
    for (double t : {0.0, tmax, x1, x2}) {
        const double f = Dv(t);
        if (f > fb) {
            fb = f;
            tb = t;
        }
    }
    cert.scale = tb;
    cert.dual = tb * lam;
    cert.dual_value = fb;
    cert.ok = std::isfinite(fb);
    return cert;
}


// Hinge dual candidate from the stationarity (KKT) conditions of the support blocks.
//
// The ALM multiplier of the hinge split is the envelope gradient, zero wherever y_j F_j exceeds
// 1 by more than |Lh_j| / rho_h.  On (nearly) separable data the optimal dual lam* = -y a* has
// tiny entries (sum a* = optimum, ~beta * norm) on the margin points, so any iterate whose
// margins are slightly above 1 gives Lh = 0 and the certificate -L^*(0) = 0 (gap = primal).
// Here lam = -y a is fitted instead to the stationarity of every support block b = (i, k, s)
// (v_b[:d] != 0, u_b = v_b[:d] / ||v_b[:d]||):
//
//   s_b Xt^T D_i lam + beta (u_b, 0) - Xt^T (S_i mu_b) = 0     (mu_b: cone multipliers),
//
// minimize sum_b ||.||^2 + w (y^T a)^2 (intercept: 1^T lam = 0) over a in [0, 1] on the rows
// with margin y_j F_j <= 1 + tau (a_j = 0 above: complementary slackness), by coordinate
// descent on the Gram matrix K = (Xt Xt^T) o (Dsupp Dsupp^T) o (y y^T) restricted to those rows.
// Any a in [0, 1] is in dom L^*, and certify() centres and scales it, so the candidate only
// affects the quality of the bound, never its validity.
MatrixXd hinge_kkt_candidate(const Problem& pb, const MatrixXd& Th, const MatrixXd& F, const MatrixXd& mu,
                             double tau) {
    if (pb.o != 1) return MatrixXd();
    std::vector<Index> supp;
    for (Index b = 0; b < pb.m; ++b)
        if (Th.col(b).head(pb.d).norm() > 0.0) supp.push_back(b);
    if (supp.empty()) return MatrixXd();
    std::vector<Index> rows;
    for (Index j = 0; j < pb.n; ++j)
        if (pb.Y(j, 0) * F(j, 0) <= 1.0 + tau) rows.push_back(j);
    const Index ns = static_cast<Index>(rows.size()), nb = static_cast<Index>(supp.size());
    // K below is dense ns x ns: skip the candidate (the others remain) for many margin rows
    constexpr Index kMaxRows = 4000;
    if (ns == 0 || ns > kMaxRows) return MatrixXd();
    MatrixXd Xs(ns, pb.dp), Ds(ns, nb), Sg(ns, nb);
    VectorXd ys(ns);
    for (Index r = 0; r < ns; ++r) {
        Xs.row(r) = pb.Xt.row(rows[static_cast<std::size_t>(r)]);
        ys[r] = pb.Y(rows[static_cast<std::size_t>(r)], 0);
    }
    // c_b = beta (u_b, 0) - Xt^T (S_i mu_b); rhs_j = y_j sum_b s_b D_ij Xt_j . c_b
    VectorXd rhs = VectorXd::Zero(ns);
    for (Index t = 0; t < nb; ++t) {
        const Index b = supp[static_cast<std::size_t>(t)], i = b % pb.P;
        const double sg = (b / pb.P) % 2 == 0 ? 1.0 : -1.0;
        VectorXd cb = VectorXd::Zero(pb.dp);
        cb.head(pb.d) = pb.beta * Th.col(b).head(pb.d).normalized();
        cb.noalias() -= pb.Xt.transpose() * (pb.S.col(i).array() * mu.col(b).array()).matrix();
        const VectorXd xc = Xs * cb;
        for (Index r = 0; r < ns; ++r) {
            Ds(r, t) = pb.D(rows[static_cast<std::size_t>(r)], i);
            rhs[r] += sg * ys[r] * Ds(r, t) * xc[r];
        }
    }
    MatrixXd K = (Xs * Xs.transpose()).cwiseProduct(Ds * Ds.transpose());
    K = K.cwiseProduct(ys * ys.transpose());
    if (pb.fit_c) {
        const double w = std::max(1e-300, K.diagonal().mean());
        K.noalias() += w * ys * ys.transpose();
    }
    // box-constrained least squares min a^T K a / 2 - rhs^T a, 0 <= a <= 1: coordinate descent
    VectorXd a = VectorXd::Zero(ns), Ka = VectorXd::Zero(ns);
    for (int sweep = 0; sweep < 300; ++sweep) {
        double moved = 0.0;
        for (Index r = 0; r < ns; ++r) {
            const double kk = K(r, r);
            if (!(kk > 0)) continue;
            const double an = std::clamp(a[r] - (Ka[r] - rhs[r]) / kk, 0.0, 1.0);
            const double da = an - a[r];
            if (da != 0.0) {
                Ka.noalias() += da * K.col(r);
                a[r] = an;
                moved = std::max(moved, std::abs(da));
            }
        }
        if (moved <= 1e-10 * std::max(1e-300, a.cwiseAbs().maxCoeff())) break;
    }
    MatrixXd lam = MatrixXd::Zero(pb.n, 1);
    for (Index r = 0; r < ns; ++r) lam(rows[static_cast<std::size_t>(r)], 0) = -ys[r] * a[r];
    return lam;
}

// Smooth part of the loss and its gradient at F.  For the hinge: Moreau envelope of the
// augmented Lagrangian of F = z (multiplier Lh, penalty rh).
double smooth_loss(const Problem& pb, const MatrixXd& F, const MatrixXd& Lh, double rh, MatrixXd& G,
                   MatrixXd& work) {
    if (pb.loss.smooth()) return pb.loss.value_and_gradient(F, pb.Y, G);
    MatrixXd Z = F + Lh / rh;
    pb.loss.prox(Z, pb.Y, 1.0 / rh, work);  // z* = prox_{hinge / rh}(F + Lh / rh)
    G = rh * (Z - work);
    return pb.loss.value(work, pb.Y) + 0.5 * rh * (Z - work).squaredNorm() - 0.5 * Lh.squaredNorm() / rh;
}

// Backward: R_col = +-D_i .* G_k - S_i .* max(0, mu_col - rho S_i .* My_col) with
// My = (1 + bet) Mx - bet Mxp (linearity of theta -> Xt theta), and grad = Xt^T R.
void backward(const Problem& pb, const MatrixXd& G, const MatrixXd& Mx, const MatrixXd& Mxp, double bet,
              const MatrixXd& mu, double rho, MatrixXd& R, MatrixXd& grad) {
    parallel_ranges(pb.P, pb.n_threads, pb.big, [&](Index lo, Index hi) {
        for (Index k = 0; k < pb.o; ++k)
            for (Index s = 0; s < 2; ++s) {
                const double sg = s == 0 ? 1.0 : -1.0;
                for (Index i = lo; i < hi; ++i) {
                    const Index cc = pb.col(i, k, s);
                    const double* dcol = pb.D.col(i).data();
                    const double* scol = pb.S.col(i).data();
                    const double* mx = Mx.col(cc).data();
                    const double* mxp = Mxp.col(cc).data();
                    const double* mc = mu.col(cc).data();
                    const double* g = G.col(k).data();
                    double* r = R.col(cc).data();
                    for (Index j = 0; j < pb.n; ++j) {
                        const double my = (1.0 + bet) * mx[j] - bet * mxp[j];
                        const double pen = std::max(0.0, mc[j] - rho * scol[j] * my);
                        r[j] = sg * dcol[j] * g[j] - scol[j] * pen;
                    }
                }
                const Index c0 = pb.col(lo, k, s);
                grad.middleCols(c0, hi - lo).noalias() = pb.Xt.transpose() * R.middleCols(c0, hi - lo);
            }
    });
}

// ||A||^2 for the map (v_i, w_i, c) -> sum_i D_i Xt (v_i - w_i) + c 1 (one output), by power
// iteration on A A^T z = 2 sum_i D_i Xt Xt^T D_i z + 1 1^T z (no 1 1^T z term when c = 0).
double op_norm_sq(const Problem& pb) {
    VectorXd z(pb.n);
    for (Index j = 0; j < pb.n; ++j) z[j] = 1.0 + 1e-3 * std::sin(1.0 + 7.0 * static_cast<double>(j));
    z.normalize();
    double lam = 0.0;
    MatrixXd Z(pb.n, pb.P), T(pb.dp, pb.P), U(pb.n, pb.P);
    for (int it = 0; it < 100; ++it) {
        Z = pb.D.array().colwise() * z.array();
        T.noalias() = pb.Xt.transpose() * Z;
        U.noalias() = pb.Xt * T;
        VectorXd w = 2.0 * (pb.D.array() * U.array()).rowwise().sum().matrix();
        if (pb.fit_c) w.array() += z.sum();
        const double nl = w.norm();
        if (nl == 0.0) return 1.0;
        const double prev = lam;
        lam = nl;
        z = w / nl;
        if (it > 5 && std::abs(lam - prev) <= 1e-5 * lam) break;
    }
    return 1.02 * lam;  // safety margin of the power-iteration estimate
}

// ---------------------------------------------------------------------------------------------
// Active-set Newton polish (smooth losses).  On the support S (blocks with v[:d] != 0) and the
// active rows A_b of each cone (rows with (G_b v_b)_j ~ 0), the program is smooth:
//   v_b = N_b xi_b  (N_b: orthonormal basis of ker G_{b, A_b}),
//   phi(xi, c) = L(sum_b +-D_b Xt N_b xi_b + 1 c^T) + beta sum_b ||(N_b xi_b)[:d]||,
// minimized by damped Newton.  Then rows that became violated join A_b, rows whose multiplier
// mu_A = argmin ||G_A^T mu - grad_b|| is negative leave it, blocks whose v[:d] vanished leave
// S, and the round repeats.  The caller keeps the result only if it is cone-feasible and
// improves the objective; optimality over all blocks is then judged by the certificate.
struct PolishOutcome {
    bool ok = false;
    int rounds = 0;
    int newton = 0;
};

// Rows among `cand` (in order) that are linearly independent, at most dp - 1 of them.
std::vector<Index> independent_rows(const Problem& pb, Index i, const std::vector<Index>& cand) {
    std::vector<Index> out;
    MatrixXd Q(pb.dp, 0);
    for (Index j : cand) {
        if (static_cast<Index>(out.size()) >= pb.dp - 1) break;
        VectorXd a = pb.S(j, i) * pb.Xt.row(j).transpose();
        const double na = a.norm();
        if (Q.cols() > 0) a -= Q * (Q.transpose() * a);
        if (a.norm() <= 1e-8 * na) continue;
        Q.conservativeResize(pb.dp, Q.cols() + 1);
        Q.col(Q.cols() - 1) = a.normalized();
        out.push_back(j);
    }
    return out;
}

PolishOutcome polish(const Problem& pb, MatrixXd& Th, VectorXd& c, std::vector<std::vector<Index>>& act_all) {
    PolishOutcome out;
    const Index n = pb.n, d = pb.d, dp = pb.dp, o = pb.o;
    const double beta = pb.beta;
    auto out_of = [&](Index b) { return b / (2 * pb.P); };
    auto pat = [&](Index b) { return b % pb.P; };
    auto sgn = [&](Index b) { return (b / pb.P) % 2 == 0 ? 1.0 : -1.0; };
    // bias-only blocks: the all-active pattern gives a constant (intercept, which is then a
    // variable: fit_c); others must vanish
    for (Index b = 0; b < pb.m; ++b) {
        if (Th.col(b).head(d).norm() > 0.0) continue;
        if (pb.fit_c && pb.bias && Th(d, b) != 0.0 && pb.D.col(pat(b)).minCoeff() == 1.0) c[out_of(b)] += sgn(b) * Th(d, b);
        Th.col(b).setZero();
    }
    std::vector<Index> S;
    std::vector<std::vector<Index>> act;
    for (Index b = 0; b < pb.m; ++b)
        if (Th.col(b).head(d).norm() > 0.0) {
            S.push_back(b);
            act.push_back(act_all[static_cast<std::size_t>(b)]);
        }
    const VectorXd rown = pb.Xt.rowwise().norm();
    double val = kInf;
    for (int it = 0; it < 400; ++it) {
        ++out.newton;
        out.rounds = it + 1;
        // ---- faces: v_b = N_b xi_b, N_b orthonormal basis of ker G_{b, A_b}
        std::vector<MatrixXd> N(S.size()), E(S.size());
        std::vector<Index> off(S.size() + 1, 0);
        for (std::size_t t = 0; t < S.size(); ++t) {
            const Index b = S[t], i = pat(b);
            if (act[t].empty()) {
                N[t] = MatrixXd::Identity(dp, dp);
            } else {
                MatrixXd GA(static_cast<Index>(act[t].size()), dp);
                for (std::size_t r = 0; r < act[t].size(); ++r)
                    GA.row(static_cast<Index>(r)) = pb.S(act[t][r], i) * pb.Xt.row(act[t][r]);
                Eigen::JacobiSVD<MatrixXd> svd(GA, Eigen::ComputeFullV);
                const VectorXd sv = svd.singularValues();
                Index rank = 0;
                for (Index r = 0; r < sv.size(); ++r)
                    if (sv[r] > 1e-10 * sv[0]) ++rank;
                N[t] = svd.matrixV().rightCols(dp - rank);
            }
            E[t] = ((pb.Xt * N[t]).array().colwise() * (sgn(b) * pb.D.col(i).array())).matrix();
            off[t + 1] = off[t] + N[t].cols();
        }
        // unknowns: xi_b of the support blocks, then c (only when the intercept is a variable)
        const Index nc = pb.fit_c ? o : 0;
        const Index nx = off[S.size()], nv = nx + nc;
        if (nv == 0) {  // empty support and no intercept: nothing to optimize
            out.ok = true;
            break;
        }
        VectorXd x(nv);
        for (std::size_t t = 0; t < S.size(); ++t) x.segment(off[t], N[t].cols()) = N[t].transpose() * Th.col(S[t]);
        if (pb.fit_c) x.tail(o) = c;
        auto phi = [&](const VectorXd& xx, MatrixXd& F) {
            if (pb.fit_c)
                F = xx.tail(o).transpose().replicate(n, 1);
            else
                F = MatrixXd::Zero(n, o);
            double pen = 0.0;
            for (std::size_t t = 0; t < S.size(); ++t) {
                const auto xs = xx.segment(off[t], N[t].cols());
                F.col(out_of(S[t])).noalias() += E[t] * xs;
                pen += (N[t].topRows(d) * xs).norm();
            }
            return pb.loss.value(F, pb.Y) + beta * pen;
        };
        MatrixXd F, G, W, Fn;
        val = phi(x, F);
        pb.loss.value_and_gradient(F, pb.Y, G);
        pb.loss.hessian_weights(F, pb.Y, W);
        // ---- gradient and Hessian of phi
        VectorXd g(nv);
        MatrixXd H = MatrixXd::Zero(nv, nv);
        std::vector<MatrixXd> J(static_cast<std::size_t>(o));
        std::vector<std::vector<Index>> idx(static_cast<std::size_t>(o));
        for (Index k = 0; k < o; ++k) {
            Index cols = nc > 0 ? 1 : 0;  // + the intercept column 1
            for (std::size_t t = 0; t < S.size(); ++t)
                if (out_of(S[t]) == k) cols += N[t].cols();
            MatrixXd& Jk = J[static_cast<std::size_t>(k)];
            Jk.resize(n, cols);
            Index p = 0;
            for (std::size_t t = 0; t < S.size(); ++t)
                if (out_of(S[t]) == k) {
                    Jk.middleCols(p, N[t].cols()) = E[t];
                    for (Index q = 0; q < N[t].cols(); ++q) idx[static_cast<std::size_t>(k)].push_back(off[t] + q);
                    p += N[t].cols();
                }
            if (nc > 0) {
                Jk.col(p).setOnes();
                idx[static_cast<std::size_t>(k)].push_back(nx + k);
            }
            const VectorXd gk = Jk.transpose() * G.col(k);
            for (Index q = 0; q < cols; ++q) g[idx[static_cast<std::size_t>(k)][static_cast<std::size_t>(q)]] = gk[q];
        }
        for (Index k = 0; k < o; ++k)
            for (Index l = 0; l < o; ++l) {
                const VectorXd w = W.col(k * o + l);
                if (w.cwiseAbs().maxCoeff() == 0.0) continue;
                const MatrixXd& Jk = J[static_cast<std::size_t>(k)];
                const MatrixXd& Jl = J[static_cast<std::size_t>(l)];
                const MatrixXd Hkl = Jk.transpose() * (Jl.array().colwise() * w.array()).matrix();
                const auto& ik = idx[static_cast<std::size_t>(k)];
                const auto& il = idx[static_cast<std::size_t>(l)];
                for (std::size_t a1 = 0; a1 < ik.size(); ++a1)
                    for (std::size_t a2 = 0; a2 < il.size(); ++a2)
                        H(ik[a1], il[a2]) += Hkl(static_cast<Index>(a1), static_cast<Index>(a2));
            }
        double vmax = 0.0;
        for (std::size_t t = 0; t < S.size(); ++t) vmax = std::max(vmax, Th.col(S[t]).head(d).norm());
        // vanished blocks leave the support
        {
            bool dropped = false;
            std::vector<Index> S2;
            std::vector<std::vector<Index>> act2;
            for (std::size_t t = 0; t < S.size(); ++t) {
                if (Th.col(S[t]).head(d).norm() <= 1e-10 * vmax) {
                    Th.col(S[t]).setZero();
                    dropped = true;
                } else {
                    S2.push_back(S[t]);
                    act2.push_back(act[t]);
                }
            }
            if (dropped) {
                S = S2;
                act = act2;
                continue;
            }
        }
        for (std::size_t t = 0; t < S.size(); ++t) {
            const Index kt = N[t].cols();
            const MatrixXd Nd = N[t].topRows(d);
            const VectorXd y = Nd * x.segment(off[t], kt);
            const double ny = y.norm();
            const VectorXd yh = y / ny;
            g.segment(off[t], kt) += beta * Nd.transpose() * yh;
            const MatrixXd Pm = MatrixXd::Identity(d, d) - yh * yh.transpose();
            H.block(off[t], off[t], kt, kt) += (beta / ny) * Nd.transpose() * Pm * Nd;
        }
        H.diagonal().array() += 1e-12 * std::max(1.0, H.diagonal().cwiseAbs().maxCoeff());
        const VectorXd step = -H.ldlt().solve(g);
        const double slope = g.dot(step);
        const bool face_optimal = !step.allFinite() || !(slope < 0) || -slope <= 1e-26 * std::max(1.0, std::abs(val));
        if (!face_optimal) {
            // ---- ratio test: largest step keeping every inactive row feasible
            double amax = 1.0;
            Index bt = -1, bj = -1;
            std::vector<VectorXd> gv(S.size()), gd(S.size());
            for (std::size_t t = 0; t < S.size(); ++t) {
                const Index i = pat(S[t]);
                const VectorXd dv = N[t] * step.segment(off[t], N[t].cols());
                gv[t] = pb.S.col(i).cwiseProduct(pb.Xt * Th.col(S[t]));
                gd[t] = pb.S.col(i).cwiseProduct(pb.Xt * dv);
                for (Index j = 0; j < n; ++j) {
                    if (gd[t][j] >= -1e-14 * rown[j] * dv.norm()) continue;
                    const double a = std::max(0.0, gv[t][j]) / -gd[t][j];
                    if (a < amax) {
                        amax = a;
                        bt = static_cast<Index>(t);
                        bj = j;
                    }
                }
            }
            if (bt >= 0 && amax <= 1e-12) {  // degenerate: a boundary row blocks at once
                act[static_cast<std::size_t>(bt)].push_back(bj);
                continue;
            }
            double a = amax, vn = kInf;
            const bool local = -slope <= 1e-10 * std::max(1.0, std::abs(val));
            if (local) {
                // quadratic regime: function values cannot resolve the decrease; take the
                // (ratio-limited) Newton step
                vn = phi(x + a * step, Fn);
            } else {
                for (int ls = 0; ls < 60; ++ls, a *= 0.5) {
                    vn = phi(x + a * step, Fn);
                    if (vn <= val + 1e-4 * a * slope) break;
                }
            }
            const bool blocked = bt >= 0 && a == amax;
            const bool accept = local || vn < val;
            if (accept) {
                x += a * step;
                for (std::size_t t = 0; t < S.size(); ++t) Th.col(S[t]) = N[t] * x.segment(off[t], N[t].cols());
                if (pb.fit_c) c = x.tail(o);
                val = vn;
            }
            if (blocked && accept) {
                act[static_cast<std::size_t>(bt)].push_back(bj);
                continue;
            }
            const bool tiny_step = a * step.norm() <= 1e-15 * std::max(1.0, x.norm());
            if (accept && !tiny_step) continue;
            if (!accept) {
                break;  // stalled: out.ok stays false
            }
        }
        // ---- face optimal: multipliers mu_A = argmin ||G_A^T mu - grad_b||; release a negative one
        bool released = false;
        for (std::size_t t = 0; t < S.size(); ++t) {
            if (act[t].empty()) continue;
            const Index b = S[t], i = pat(b), k = out_of(b);
            const double nvb = Th.col(b).head(d).norm();
            VectorXd grad_b = sgn(b) * pb.Xt.transpose() * pb.D.col(i).cwiseProduct(G.col(k));
            grad_b.head(d) += beta * Th.col(b).head(d) / nvb;
            MatrixXd GAt(dp, static_cast<Index>(act[t].size()));
            for (std::size_t r = 0; r < act[t].size(); ++r)
                GAt.col(static_cast<Index>(r)) = pb.S(act[t][r], i) * pb.Xt.row(act[t][r]).transpose();
            const VectorXd muA = GAt.completeOrthogonalDecomposition().solve(grad_b);
            Index neg;
            const double mn = muA.minCoeff(&neg);
            if (mn < -1e-9 * std::max(1.0, muA.cwiseAbs().maxCoeff())) {
                act[t].erase(act[t].begin() + neg);
                released = true;
            }
        }
        if (!released) {
            out.ok = true;
            break;
        }
    }
    for (auto& a : act_all) a.clear();
    for (std::size_t t = 0; t < S.size(); ++t) act_all[static_cast<std::size_t>(S[t])] = act[t];
    return out;
}

}  // namespace

ArrangementProgramResult solve_arrangement_program(const Eigen::Ref<const MatrixXd>& X,
                                                   const Eigen::Ref<const MatrixXd>& Y,
                                                   const Eigen::Ref<const MatrixXd>& patterns,
                                                   const LossFunction& loss, const ArrangementProgramOptions& opt,
                                                   const ArrangementProgramStart& start) {
    // ---- validation
    if (X.rows() < 1 || X.cols() < 1) throw std::invalid_argument("X must be a non-empty n x d matrix");
    if (Y.rows() != X.rows()) throw std::invalid_argument("Y must have as many rows as X");
    if (patterns.rows() != X.rows() || patterns.cols() < 1)
        throw std::invalid_argument("patterns must be an n x P matrix with P >= 1");
    if (!X.allFinite()) throw std::invalid_argument("X must be finite");
    for (Index i = 0; i < patterns.cols(); ++i)
        for (Index j = 0; j < patterns.rows(); ++j)
            if (patterns(j, i) != 0.0 && patterns(j, i) != 1.0)
                throw std::invalid_argument("patterns must contain only 0 and 1");
    loss.check_targets(Y);
    if (!(std::isfinite(opt.beta) && opt.beta > 0)) throw std::invalid_argument("beta must be a finite number > 0");
    if (!(std::isfinite(opt.tol) && opt.tol > 0)) throw std::invalid_argument("tol must be a finite number > 0");
    if (opt.max_iter < 1) throw std::invalid_argument("max_iter must be >= 1");

    const Problem pb(X, Y, patterns, loss, opt);
    const Index n = pb.n, dp = pb.dp, m = pb.m, o = pb.o;

    // ---- state (warm start)
    MatrixXd Th = MatrixXd::Zero(dp, m);
    VectorXd c = VectorXd::Zero(o);
    MatrixXd mu = MatrixXd::Zero(n, m);
    MatrixXd Lh = MatrixXd::Zero(n, o);
    if (start.theta.size() > 0) {
        if (start.theta.rows() != dp || start.theta.cols() != m || !start.theta.allFinite())
            throw std::invalid_argument("warm start theta must be a finite dp x 2 P o matrix");
        Th = start.theta;
    }
    if (start.intercept.size() > 0) {
        if (start.intercept.size() != o || !start.intercept.allFinite())
            throw std::invalid_argument("warm start intercept must be a finite vector of length o");
        if (pb.fit_c) c = start.intercept;  // c = 0 is fixed otherwise

    }
    if (start.mu.size() > 0) {
        if (start.mu.rows() != n || start.mu.cols() != m || !start.mu.allFinite() || start.mu.minCoeff() < 0)
            throw std::invalid_argument("warm start mu must be a finite non-negative n x 2 P o matrix");
        mu = start.mu;
    }
    if (start.hinge_multiplier.size() > 0) {
        if (start.hinge_multiplier.rows() != n || start.hinge_multiplier.cols() != o ||
            !start.hinge_multiplier.allFinite())
            throw std::invalid_argument("warm start hinge_multiplier must be a finite n x o matrix");
        Lh = start.hinge_multiplier;
    }

    // ---- step sizes
    const double A2 = op_norm_sq(pb);
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(pb.Xt.transpose() * pb.Xt, Eigen::EigenvaluesOnly);
    const double X2 = std::max(1e-300, es.eigenvalues().maxCoeff());
    double rh = start.rho_hinge > 0 ? start.rho_hinge : 1.0;
    const double lip_loss = loss.smooth() ? loss.gradient_lipschitz() : rh;
    double rho = start.rho > 0 ? start.rho : (opt.rho > 0 ? opt.rho : lip_loss * A2 / X2);
    const double rho0 = rho;
    auto lipschitz = [&] { return (loss.smooth() ? loss.gradient_lipschitz() : rh) * A2 + rho * X2; };
    const double yscale = std::max(1.0, Y.cwiseAbs().maxCoeff());
    const double viol_tol = opt.tol * yscale;

    MatrixXd Mx(n, m), Mxp(n, m), R(n, m), grad(dp, m), F(n, o), Fp(n, o), Fy(n, o), G(n, o), work;
    MatrixXd Thp, Thy(dp, m), Thn(dp, m);
    VectorXd cp, cy(o), cn(o);
    std::vector<std::vector<Index>> warm(static_cast<std::size_t>(m)), warm_kkt(static_cast<std::size_t>(m)), act_all;

    ArrangementProgramResult res;
    forward(pb, Th, c, Mx, F);
    smooth_loss(pb, F, Lh, rh, G, work);
    MatrixXd g0(dp, m);
    backward(pb, G, Mx, Mx, 0.0, mu, rho, R, g0);
    const double gscale =
        std::max(1e-300, std::sqrt(g0.squaredNorm() + (pb.fit_c ? G.colwise().sum().squaredNorm() : 0.0)));
    double eps_in = 1e-2 * gscale;
    double prev_viol = kInf, prev_split = kInf, prev_primal = kInf;
    int total = 0, n_polish = 0, last_polish = -1000000;
    Certificate cert, best_cert;
    double primal = kInf, viol = kInf, gap = kInf;
    bool converged = false, stalled = false;
    std::vector<std::pair<int, double>> gap_hist;  // (FISTA iterations, gap) per outer iteration (hinge)
    std::string why = "maximum number of iterations reached";

    const Deadline deadline = thread_deadline();  // max_time of the caller
    for (int outer = 0; total < opt.max_iter; ++outer) {
        if (outer > 0 && deadline.passed()) {  // (outer 0 still certifies the start)
            why = "time limit (max_time) reached";
            break;
        }
        res.n_outer = outer + 1;
        const double L = lipschitz();
        // ---- FISTA on the augmented-Lagrangian subproblem
        Thp = Th;
        cp = c;
        Mxp = Mx;
        Fp = F;
        double tk = 1.0;
        int inner = 0;
        const int inner_cap = 2000;
        while (total < opt.max_iter) {
            check_interrupt();
            if (deadline.passed()) break;  // max_time: the current iterate
            const double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * tk * tk));
            const double bet = (tk - 1.0) / tn;
            tk = tn;
            Thy = Th + bet * (Th - Thp);
            cy = c + bet * (c - cp);
            Fy = (1.0 + bet) * F - bet * Fp;
            smooth_loss(pb, Fy, Lh, rh, G, work);
            backward(pb, G, Mx, Mxp, bet, mu, rho, R, grad);
            Thn = Thy - grad / L;
            group_shrink(pb, Thn, pb.beta / L);
            if (pb.fit_c)
                cn = cy - G.colwise().sum().transpose() / L;  // gradient step on the unpenalized c
            else
                cn.setZero();  // c = 0 fixed
            const double resid = L * std::sqrt((Thn - Thy).squaredNorm() + (cn - cy).squaredNorm());
            // gradient-based adaptive restart (O'Donoghue & Candes 2015)
            const double dir = ((Thy - Thn).cwiseProduct(Thn - Th)).sum() + (cy - cn).dot(cn - c);
            if (dir > 0) tk = 1.0;
            std::swap(Thp, Th);
            std::swap(Th, Thn);
            std::swap(cp, c);
            std::swap(c, cn);
            std::swap(Mxp, Mx);
            std::swap(Fp, F);
            forward(pb, Th, c, Mx, F);
            ++total;
            ++inner;
            if (resid <= eps_in || inner >= inner_cap) break;
        }
        // ---- multiplier updates: mu <- max(0, mu - rho G v); hinge: Lh <- grad of the envelope
        viol = max_violation(pb, Mx);
        for (Index k = 0; k < o; ++k)
            for (Index s = 0; s < 2; ++s)
                for (Index i = 0; i < pb.P; ++i) {
                    const Index cc = pb.col(i, k, s);
                    mu.col(cc) = (mu.col(cc).array() - rho * pb.S.col(i).array() * Mx.col(cc).array()).max(0.0);
                }
        MatrixXd lam;
        double split = 0.0;
        if (loss.smooth()) {
            loss.value_and_gradient(F, Y, lam);
        } else {
            MatrixXd Z = F + Lh / rh;
            loss.prox(Z, Y, 1.0 / rh, work);
            Lh = rh * (Z - work);  // in the hinge subdifferential at z* (so in dom L^*)
            lam = Lh;
            split = (F - work).cwiseAbs().maxCoeff();
        }
        primal = loss.value(F, Y) + penalty(pb, Th);
        const bool settled = std::abs(primal - prev_primal) <= 1e-3 * std::abs(primal) && viol <= 1e-2 * yscale;
        prev_primal = primal;
        bool polished = false;
        Index support = 0;
        for (Index b = 0; b < m; ++b) support += Th.col(b).head(pb.d).norm() > 0 ? 1 : 0;
        // the Newton system has about support * dp unknowns: polish only when it is small
        if (loss.smooth() && settled && support * dp <= 2500 && total - last_polish >= 100) {
            last_polish = total;
            // ---- active-set Newton polish with block additions from the certificate
            MatrixXd Thq = Th;
            VectorXd cq = c;
            {
                // feasible start: project every support block onto its cone (NNLS); its passive
                // set gives the initial active rows
                act_all.assign(static_cast<std::size_t>(m), {});
                ConeProjectionOptions copt;
                RowMatrixXd A(n, dp);
                for (Index b = 0; b < m; ++b) {
                    if (Thq.col(b).head(pb.d).norm() == 0.0) continue;
                    const Index i = b % pb.P;
                    A = (pb.Xt.array().colwise() * pb.S.col(i).array()).matrix();
                    const ConeProjectionResult pr = cone_projection(A, Thq.col(b), copt);
                    Thq.col(b) = pr.u;
                    act_all[static_cast<std::size_t>(b)] = independent_rows(pb, i, pr.active);
                }
            }
            for (int sweep = 0; sweep < 30; ++sweep) {
                const PolishOutcome po = polish(pb, Thq, cq, act_all);
                ++n_polish;
                MatrixXd Mq(n, m), Fq(n, o);
                forward(pb, Thq, cq, Mq, Fq);
                const double vq = max_violation(pb, Mq);
                const double pq = loss.value(Fq, Y) + penalty(pb, Thq);
                if (opt.verbose)
                    std::fprintf(stderr, "[arrangements] polish: ok %d rounds %d newton %d primal %.15g viol %.3e\n",
                                 po.ok ? 1 : 0, po.rounds, po.newton, pq, vq);
                if (!(vq <= viol_tol && pq <= primal + 1e-3 * std::abs(primal))) break;
                Th = Thq;
                c = cq;
                Mx = Mq;
                F = Fq;
                viol = vq;
                primal = pq;
                loss.value_and_gradient(F, Y, lam);
                polished = true;
                cert = certify(pb, lam, warm);
                gap = cert.ok ? primal - cert.dual_value : kInf;
                if (opt.verbose) {
                    double sin = 0, sout = 0;
                    for (Index b = 0; b < m; ++b)
                        (Thq.col(b).head(pb.d).norm() > 0 ? sin : sout) =
                            std::max(Thq.col(b).head(pb.d).norm() > 0 ? sin : sout, cert.block_s[b]);
                    std::fprintf(stderr, "[arrangements]   sweep %d gap %.3e max_s/beta %.12f (support %.12f, others %.12f)\n",
                                 sweep, gap, cert.max_s, sin, sout);
                }
                if (gap <= opt.tol * std::max(primal, 1e-300) || !cert.ok) break;
                // add the blocks whose dual constraint is violated, along their best direction
                std::vector<Index> cand;
                for (Index b = 0; b < m; ++b)
                    if (cert.block_s[b] > 1.0 + 1e-10 && Thq.col(b).head(pb.d).norm() == 0.0) cand.push_back(b);
                if (cand.empty()) break;
                std::sort(cand.begin(), cand.end(), [&](Index a1, Index a2) { return cert.block_s[a1] > cert.block_s[a2]; });
                if (cand.size() > 10) cand.resize(10);
                for (Index b : cand) {
                    VectorXd dir = cert.direction.col(b);
                    const double nd = dir.head(pb.d).norm();
                    if (!(nd > 0)) continue;
                    dir /= nd;
                    const Index i = b % pb.P, k = b / (2 * pb.P), sg = (b / pb.P) % 2;
                    const VectorXd e = (sg == 0 ? 1.0 : -1.0) * pb.D.col(i).cwiseProduct(pb.Xt * dir);
                    const double curv = loss.gradient_lipschitz() * e.squaredNorm();
                    const double eps = curv > 0 ? (cert.block_s[b] - 1.0) * pb.beta / curv : 0.0;
                    if (!(eps > 0)) continue;
                    Thq.col(b) = eps * dir;
                    Fq.col(k) += eps * e;
                    std::vector<Index> rows = warm[static_cast<std::size_t>(b)];
                    act_all[static_cast<std::size_t>(b)] = independent_rows(pb, i, rows);
                }
            }
        }
        if (!loss.smooth() || (!polished && outer % 5 == 4)) {
            cert = certify(pb, lam, warm);
            gap = cert.ok ? primal - cert.dual_value : kInf;
        }
        if (!loss.smooth()) {
            // hinge: the multiplier Lh vanishes at margins > 1 (see hinge_kkt_candidate); also
            // certify the stationarity candidates and the subgradient at F, and keep the best
            // dual value seen in any outer iteration (each is a valid lower bound on the
            // optimum of this program, whatever the current primal iterate)
            std::vector<MatrixXd> cands;
            for (double tau : {0.1, 1.0}) cands.push_back(hinge_kkt_candidate(pb, Th, F, mu, tau));
            MatrixXd sub(n, 1);  // subgradient -y a, a = 1 (margin < 1), 1/2 (= 1), 0 (> 1)
            for (Index j = 0; j < n; ++j) {
                const double mj = Y(j, 0) * F(j, 0);
                sub(j, 0) = -Y(j, 0) * (std::abs(mj - 1.0) <= 1e-9 ? 0.5 : (mj < 1.0 ? 1.0 : 0.0));
            }
            cands.push_back(sub);
            for (std::size_t q = 0; q < cands.size(); ++q) {
                if (cands[q].size() == 0) continue;
                Certificate ck = certify(pb, cands[q], warm_kkt);
                if (opt.verbose)
                    std::fprintf(stderr, "[arrangements]   dual candidate %d: dual %.15g (multiplier %.15g) max_s/beta %.6f\n",
                                 static_cast<int>(q), ck.dual_value, cert.dual_value, ck.max_s);
                if (ck.ok && (!cert.ok || ck.dual_value > cert.dual_value)) cert = std::move(ck);
            }
            if (cert.ok && (!best_cert.ok || cert.dual_value > best_cert.dual_value)) best_cert = cert;
            if (best_cert.ok) cert = best_cert;
            gap = cert.ok ? primal - cert.dual_value : kInf;
        }
        if (opt.verbose)
            std::fprintf(stderr,
                         "[arrangements] outer %d  iters %d  primal %.15g  dual %.15g  gap %.3e  viol %.3e  "
                         "max_s/beta %.10f  rho %.3e  L %.3e  split %.3e\n",
                         outer + 1, total, primal, cert.dual_value, gap, viol, cert.max_s, rho, L, split);
        if (gap <= opt.tol * std::max(primal, 1e-300) && viol <= viol_tol) {
            converged = true;
            why = "converged: relative duality gap and cone violation <= tol";
            break;
        }
        if (!loss.smooth()) {
            // hinge stall stop: on (nearly) separable data with a small beta the first-order
            // iterate shrinks towards the optimum very slowly (step 1 / Lip against a penalty
            // beta); when the certified gap has decreased by less than kStallDrop over the last
            // kStallWindow FISTA iterations, stop (not converged) instead of running to max_iter
            gap_hist.emplace_back(total, gap);
            constexpr int kStallWindow = 4000;
            constexpr double kStallDrop = 0.05;
            for (auto it = gap_hist.rbegin(); it != gap_hist.rend(); ++it)
                if (it->first <= total - kStallWindow) {
                    if (std::isfinite(it->second) && gap > (1.0 - kStallDrop) * it->second) {
                        stalled = true;
                        std::ostringstream w;
                        w << "stalled: the duality gap decreased by less than " << 100 * kStallDrop << "% (from "
                          << it->second << " at iteration " << it->first << ") over the last " << total - it->first
                          << " FISTA iterations";
                        why = w.str();
                    }
                    break;
                }
            if (stalled) break;
        }
        // ---- penalty updates
        // a larger cone penalty slows FISTA (Lip grows with rho): at most 16 x the initial value
        if (!polished && viol > viol_tol && viol > 0.25 * prev_viol && rho < 16.0 * rho0) rho *= 2.0;
        prev_viol = viol;
        if (!loss.smooth()) {
            if (split > 0.25 * prev_split && split > viol_tol) rh *= 2.0;
            prev_split = split;
        }
        eps_in = std::max(0.1 * eps_in, 1e-3 * opt.tol * gscale);
    }

    if (!opt.fit_intercept && pb.fit_c) {
        // bias with the all-active pattern i0: c_k is returned as the bias-only part of block
        // (i0, k, +) (c_k > 0) or (i0, k, -) (c_k < 0): Xt (0, |c_k|) = |c_k| 1 >= 0 keeps the cone
        // constraint and D_{i0} Xt (0, |c_k|) = |c_k| 1 leaves F unchanged; the intercept is 0.
        for (Index k = 0; k < o; ++k) {
            if (c[k] > 0.0) Th(pb.d, pb.col(pb.all_active, k, 0)) += c[k];
            if (c[k] < 0.0) Th(pb.d, pb.col(pb.all_active, k, 1)) -= c[k];
        }
        c.setZero();
    }
    res.theta = Th;
    res.intercept = c;
    res.fitted = F;
    res.primal_objective = primal;
    res.max_violation = viol;
    res.mu = mu;
    res.hinge_multiplier = Lh;
    res.rho = rho;
    res.rho_hinge = rh;
    res.n_iter = total;
    res.converged = converged;
    res.dual_scale = cert.scale;
    res.max_dual_constraint = cert.max_s;
    if (cert.ok) {
        res.dual = cert.dual;
        res.dual_objective = cert.dual_value;
        res.gap = primal - cert.dual_value;
    } else {
        res.dual = MatrixXd::Zero(n, o);
        res.dual_objective = -kInf;
        res.gap = kInf;
    }
    std::ostringstream msg;
    msg << why << " (" << total << " FISTA iterations, " << res.n_outer << " outer, " << n_polish
        << " Newton polishes; gap " << res.gap << ", cone violation " << viol << ")";
    res.message = msg.str();
    return res;
}

}  // namespace fcr
