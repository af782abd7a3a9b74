// Minimal use of the fastconvexrelu C++ core, without Python.
//
// Data of the paper's Proposition 3.1 example: x = [-2, -1, 0, 1, 2], y = [1, -1, 1, 1, -1].
// 1) The 2n extreme-point neurons (Lemma 2.6): ramps with kinks exactly at the samples.
// 2) The exact minimum-norm interpolant (beta = 0) with free biases, whose optimal
//    objective (the l1 norm of the output weights of the unit-norm neurons) is 8.
#include <cmath>
#include <cstdio>
#include <exception>

#include <Eigen/Core>

#include "fastconvexrelu/extreme_points.hpp"
#include "fastconvexrelu/spline_1d.hpp"

int main() {
    try {
        Eigen::VectorXd x(5), y(5);
        x << -2, -1, 0, 1, 2;
        y << 1, -1, 1, 1, -1;
        const Eigen::Index n = x.size();

        // --- extreme points -------------------------------------------------------------
        const fcr::NeuronSet ep = fcr::extreme_points_1d(x);
        if (ep.U.rows() != 1 || ep.U.cols() != 2 * n || ep.b.size() != 2 * n) {
            std::fprintf(stderr, "extreme_points_1d: wrong shapes\n");
            return 1;
        }
        std::printf("extreme-point neurons (u, b), kink at -b/u:\n");
        for (Eigen::Index j = 0; j < 2 * n; ++j) {
            const Eigen::Index i = j % n;
            const double at_kink = ep.U(0, j) * x(i) + ep.b(j);
            std::printf("  %2ld: u = %+g, b = %+g   (u x_%ld + b = %g)\n", static_cast<long>(j),
                        ep.U(0, j), ep.b(j), static_cast<long>(i), at_kink);
            if (at_kink != 0.0) {
                std::fprintf(stderr, "neuron %ld does not have its kink at x_%ld\n",
                             static_cast<long>(j), static_cast<long>(i));
                return 1;
            }
        }

        // --- exact training: minimum-norm interpolation (beta = 0) -----------------------
        fcr::Spline1DOptions opt;
        opt.beta = 0.0;
        opt.loss = fcr::Loss::Squared;
        const fcr::Spline1DResult res = fcr::fit_spline_1d(x, y, opt);

        std::printf("fit_spline_1d (beta = 0): objective = %.10f, dual = %.10f, gap = %.3e, "
                    "iterations = %d, converged = %s\n",
                    res.primal, res.dual_value, res.gap, res.n_iter,
                    res.converged ? "yes" : "no");
        std::printf("  f(x_i) =");
        for (Eigen::Index i = 0; i < n; ++i) std::printf(" %+.6f", res.fitted(i));
        std::printf("\n");

        const double expected = 8.0;
        if (!(std::abs(res.primal - expected) <= 1e-6)) {
            std::fprintf(stderr, "FAIL: objective %.12g != %.12g\n", res.primal, expected);
            return 1;
        }
        if (!((res.fitted - y).cwiseAbs().maxCoeff() <= 1e-6)) {
            std::fprintf(stderr, "FAIL: the network does not interpolate the data\n");
            return 1;
        }
        std::printf("OK: optimal objective %.6f == %.6f\n", res.primal, expected);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "FAIL: %s\n", e.what());
        return 1;
    }
}
