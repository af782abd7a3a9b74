// Convex program over fixed activation patterns: augmented Lagrangian + FISTA, with a dual
// certificate.  See cpp/include/fastconvexrelu/arrangement_program.hpp for the math.
#include "fastconvexrelu/arrangement_program.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fastconvexrelu/cone_projection.hpp"

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
    std::vector<std::thread> pool;
    const Index chunk = (count + nt - 1) / nt;
    for (int t = 1; t < nt; ++t) {
        const Index lo = t * chunk, hi = std::min(count, lo + chunk);
        if (lo < hi) pool.emplace_back(f, lo, hi);
    }
    f(0, std::min(count, chunk));
    for (auto& th : pool) th.join();
}

struct Problem {
    MatrixXd Xt;  // n x dp
    MatrixXd D;   // n x P (0/1)
    MatrixXd S;   // n x P (2 D - 1)
    Eigen::Ref<const MatrixXd> Y;
    const LossFunction& loss;
    Index n, d, dp, P, o, m;
    bool bias;
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

// Adjoint: grad = Xt^T R with R_col = a (+-D_i .* E_k) + b (S_i .* W_col) (W may be null).
void adjoint(const Problem& pb, const MatrixXd& E, double a, const MatrixXd* W, double b, MatrixXd& R,
             MatrixXd& out) {
    parallel_ranges(pb.P, pb.n_threads, pb.big, [&](Index lo, Index hi) {
        for (Index k = 0; k < pb.o; ++k)
            for (Index s = 0; s < 2; ++s) {
                const double sg = s == 0 ? a : -a;
                for (Index i = lo; i < hi; ++i) {
                    const Index cc = pb.col(i, k, s);
                    if (W)
                        R.col(cc) = sg * pb.D.col(i).cwiseProduct(E.col(k)) +
                                    b * pb.S.col(i).cwiseProduct(W->col(cc));
                    else
                        R.col(cc) = sg * pb.D.col(i).cwiseProduct(E.col(k));
                }
                const Index c0 = pb.col(lo, k, s);
                out.middleCols(c0, hi - lo).noalias() = pb.Xt.transpose() * R.middleCols(c0, hi - lo);
            }
    });
}

void center(MatrixXd& E) { E.rowwise() -= E.colwise().mean(); }

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
};

// Dual certificate from lam = grad L(F) (see the header).
Certificate certify(const Problem& pb, MatrixXd lam, std::vector<std::vector<Index>>& warm) {
    Certificate cert;
    if (!pb.loss.center_columns(lam, pb.Y)) return cert;
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
                    } catch (const std::exception&) {
                        pr = cone_projection(A, q, copt, {});
                    }
                    warm[static_cast<std::size_t>(cc)] = pr.active;
                    VectorXd h = pr.u;  // = q' + A'^T mu = diag(1, cb) (q + G^T mu)
                    if (pb.bias) {
                        h[pb.d] /= cb;
                        // recompute h from mu in unscaled form to limit rounding: h = q + G^T mu
                        VectorXd qq = s == 0 ? VectorXd(-g) : g;
                        VectorXd smu = (pr.lambda.array() * pb.S.col(i).array()).matrix();
                        h = qq + pb.Xt.transpose() * smu;
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
                            if (jb < 0) {
                                sm = kInf;
                                break;
                            }
                            h.head(pb.d) -= r * pb.Xt.row(jb).head(pb.d).transpose();
                        }
                    }
                    sm = std::max(sm, h.head(pb.d).norm());
                }
            }
            smax[static_cast<std::size_t>(i)] = sm;
        }
    });
    double s = 0.0;
    for (double v : smax) s = std::max(s, v);
    cert.max_s = s / pb.beta;
    if (!std::isfinite(s)) return cert;
    const double tmax = s <= pb.beta ? 1.0 : pb.beta / s;
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

    // ---- state (warm start).  ADMM splits z = F (loss), u = theta (group norm), s_b = G_b theta_b
    // (s >= 0); scaled duals zeta, alpha, gamma; penalties tau * (rz0, ru0, rs0).
    MatrixXd u = MatrixXd::Zero(dp, m);
    VectorXd c = VectorXd::Zero(o);
    MatrixXd gam = MatrixXd::Zero(n, m);   // scaled dual of G theta = s
    MatrixXd alp = MatrixXd::Zero(dp, m);  // scaled dual of theta = u
    MatrixXd zet = MatrixXd::Zero(n, o);   // scaled dual of F = z
    if (start.theta.size() > 0) {
        if (start.theta.rows() != dp || start.theta.cols() != m || !start.theta.allFinite())
            throw std::invalid_argument("warm start theta must be a finite dp x 2 P o matrix");
        u = start.theta;
    }
    if (start.intercept.size() > 0) {
        if (start.intercept.size() != o || !start.intercept.allFinite())
            throw std::invalid_argument("warm start intercept must be a finite vector of length o");
        c = start.intercept;
    }
    if (start.mu.size() > 0 &&
        (start.mu.rows() != n || start.mu.cols() != m || !start.mu.allFinite() || start.mu.minCoeff() < 0))
        throw std::invalid_argument("warm start mu must be a finite non-negative n x 2 P o matrix");
    if (start.hinge_multiplier.size() > 0 &&
        (start.hinge_multiplier.rows() != n || start.hinge_multiplier.cols() != o ||
         !start.hinge_multiplier.allFinite()))
        throw std::invalid_argument("warm start hinge_multiplier (loss multiplier) must be a finite n x o matrix");

    const double lip = loss.smooth() ? loss.gradient_lipschitz() : 1.0;
    const double rz0 = lip, rs0 = lip;
    const double ru0 = lip * std::max(1e-12, pb.Xt.squaredNorm() / static_cast<double>(dp)) * (std::getenv("FCR_RU") ? std::atof(std::getenv("FCR_RU")) : 1.0);
    double tau = start.rho > 0 ? start.rho : (opt.rho > 0 ? opt.rho : 1.0);
    // unscaled multipliers -> scaled duals
    if (start.mu.size() > 0) gam = -start.mu / (tau * rs0);
    if (start.hinge_multiplier.size() > 0) zet = start.hinge_multiplier / (tau * rz0);

    // ---- factorizations of the theta-update (Woodbury): B = I (x) Bb, Bb = ru I + rs Xt^T Xt,
    // A B^{-1} A^T = 2 K .* (D D^T), K = Xt Bb^{-1} Xt^T, Mn = I + rz C (2 K .* D D^T) C.
    const MatrixXd XtX = pb.Xt.transpose() * pb.Xt;
    const MatrixXd DDt = pb.D * pb.D.transpose();
    Eigen::LLT<MatrixXd> Bllt, Mllt;
    double rz = 0, ru = 0, rs = 0;
    auto factorize = [&] {
        rz = tau * rz0;
        ru = tau * ru0;
        rs = tau * rs0;
        MatrixXd Bb = rs * XtX;
        Bb.diagonal().array() += ru;
        Bllt.compute(Bb);
        const MatrixXd K = pb.Xt * Bllt.solve(pb.Xt.transpose());
        MatrixXd Mn = 2.0 * K.cwiseProduct(DDt);
        // C Mn C
        const VectorXd rm = Mn.rowwise().mean();
        const double am = rm.mean();
        Mn.colwise() -= rm;
        Mn.rowwise() -= rm.transpose();
        Mn.array() += am;
        Mn *= rz;
        Mn.diagonal().array() += 1.0;
        Mllt.compute(Mn);
        if (Bllt.info() != Eigen::Success || Mllt.info() != Eigen::Success)
            throw std::runtime_error("arrangement_program: factorization failed");
    };
    factorize();

    MatrixXd th = u, M(n, m), Mu(n, m), R(n, m), rhs(dp, m), corr(dp, m), sv(n, m), F(n, o), AF(n, o), z(n, o),
        Fu(n, o), lam;
    forward(pb, u, c, Mu, F);
    MatrixXd Sfull(n, m);
    for (Index k = 0; k < o; ++k)
        for (Index s2 = 0; s2 < 2; ++s2) Sfull.middleCols(pb.col(0, k, s2), pb.P) = pb.S;
    sv = Mu.cwiseProduct(Sfull).cwiseMax(0.0);
    z = F;

    const double yscale = std::max(1.0, Y.cwiseAbs().maxCoeff());
    const double viol_tol = opt.tol * yscale;
    std::vector<std::vector<Index>> warm(static_cast<std::size_t>(m));
    ArrangementProgramResult res;
    Certificate cert;
    double primal = kInf, viol = kInf, gap = kInf;
    bool converged = false;
    std::string why = "maximum number of iterations reached";
    int it = 0, next_check = 10;
    for (; it < opt.max_iter; ++it) {
        // ---- theta, c update: minimize rz/2 ||A th + 1 c^T - Tz||^2 + ru/2 ||th - Tu||^2
        //                                 + rs/2 sum_b ||G_b th_b - Ts_b||^2
        MatrixXd Tz = z - zet;
        MatrixXd CTz = Tz;
        center(CTz);
        MatrixXd Ts = sv - gam;
        adjoint(pb, CTz, rz, &Ts, rs, R, rhs);  // rz A^T C Tz + rs G^T Ts
        rhs += ru * (u - alp);
        rhs = Bllt.solve(rhs);                 // theta0
        forward(pb, rhs, VectorXd::Zero(o), M, AF);
        center(AF);                            // q = C A theta0
        MatrixXd e = Mllt.solve(AF);
        center(e);
        adjoint(pb, e, 1.0, nullptr, 0.0, R, corr);
        th = rhs - rz * Bllt.solve(corr);
        forward(pb, th, VectorXd::Zero(o), M, AF);
        c = (Tz - AF).colwise().mean().transpose();
        F = AF.rowwise() + c.transpose();
        // ---- z, u, s updates and scaled duals
        MatrixXd zold = z, uold = u, sold = sv;
        loss.prox(F + zet, Y, 1.0 / rz, z);
        u = th + alp;
        group_shrink(pb, u, pb.beta / ru);
        MatrixXd Gth = M.cwiseProduct(Sfull);
        sv = (Gth + gam).cwiseMax(0.0);
        zet += F - z;
        alp += th - u;
        gam += Gth - sv;
        // ---- residuals (Boyd et al. 2011, Sec. 3.3)
        const double rp = std::sqrt((F - z).squaredNorm() + (th - u).squaredNorm() + (Gth - sv).squaredNorm());
        const double rd = std::sqrt(rz * rz * (z - zold).squaredNorm() + ru * ru * (u - uold).squaredNorm() +
                                    rs * rs * (sv - sold).squaredNorm());
        if (it + 1 < next_check && it + 1 < opt.max_iter) {
            // residual balancing every 10 iterations in the first phase
            continue;
        }
        next_check = it + 1 + 10;
        // ---- certificate at the sparse iterate u
        forward(pb, u, c, Mu, Fu);
        viol = max_violation(pb, Mu);
        primal = loss.value(Fu, Y) + penalty(pb, u);
        if (loss.smooth())
            loss.value_and_gradient(Fu, Y, lam);
        else
            lam = rz * zet;  // in the subdifferential of the hinge at z
        cert = certify(pb, lam, warm);
        gap = cert.ok ? primal - cert.dual_value : kInf;
        if (opt.verbose)
            std::fprintf(stderr,
                         "[arrangements] iter %d  primal %.12g  dual %.12g  gap %.3e  viol %.3e  max_s/beta %.8f  "
                         "tau %.3e  rp %.3e  rd %.3e\n",
                         it + 1, primal, cert.dual_value, gap, viol, cert.max_s, tau, rp, rd);
        if (gap <= opt.tol * std::max(primal, 1e-300) && viol <= viol_tol) {
            converged = true;
            why = "converged: relative duality gap and cone violation <= tol";
            ++it;
            break;
        }
        if (!std::getenv("FCR_NOBAL") && (rp > 10.0 * rd || rd > 10.0 * rp)) {
            const double f = rp > rd ? 2.0 : 0.5;
            tau *= f;
            zet /= f;
            alp /= f;
            gam /= f;
            factorize();
        }
    }

    res.theta = u;
    res.intercept = c;
    forward(pb, u, c, Mu, Fu);
    res.fitted = Fu;
    res.primal_objective = primal;
    res.max_violation = viol;
    res.mu = -rs * gam;  // unscaled cone multipliers (>= 0 at convergence)
    res.mu = res.mu.cwiseMax(0.0);
    res.hinge_multiplier = rz * zet;
    res.rho = tau;
    res.rho_hinge = tau;
    res.n_iter = it;
    res.n_outer = it;
    res.converged = converged;
    res.dual_scale = cert.scale;
    res.max_dual_constraint = cert.max_s;
    if (cert.ok) {
        res.dual = cert.dual;
        res.dual_objective = cert.dual_value;
        res.gap = gap;
    } else {
        res.dual = MatrixXd::Zero(n, o);
        res.dual_objective = -kInf;
        res.gap = kInf;
    }
    std::ostringstream msg;
    msg << why << " (" << it << " ADMM iterations; gap " << res.gap << ", cone violation " << viol << ")";
    res.message = msg.str();
    return res;
}

}  // namespace fcr
