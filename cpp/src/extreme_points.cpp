#include "fastconvexrelu/extreme_points.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fcr {

namespace {

template <typename Derived>
void require_finite_nonempty(const Eigen::DenseBase<Derived>& A, const char* name) {
    if (A.size() == 0) {
        throw std::invalid_argument(std::string(name) + " must be non-empty");
    }
    if (!A.allFinite()) {
        throw std::invalid_argument(std::string(name) + " contains NaN or inf");
    }
}

}  // namespace

NeuronSet extreme_points_1d(const Eigen::Ref<const Eigen::VectorXd>& x) {
    require_finite_nonempty(x, "x");
    const Eigen::Index n = x.size();
    NeuronSet s;
    s.U.resize(1, 2 * n);
    s.U.leftCols(n).setConstant(1.0);
    s.U.rightCols(n).setConstant(-1.0);
    s.b.resize(2 * n);
    s.b.head(n) = (-x).array() + 0.0;  // + 0.0: no negative zeros
    s.b.tail(n) = x.array() + 0.0;
    return s;
}

// (M v)_i computed row by row with the same scalar operations for every row, so that equal
// rows give bit-identical results (a vectorized product may round the rows of its SIMD body and
// of its scalar tail differently, e.g. with and without FMA: duplicated samples would then get
// distinct coordinates and kinks).
static Eigen::VectorXd row_dots(const Eigen::Ref<const Eigen::MatrixXd>& M, const Eigen::VectorXd& v) {
    Eigen::VectorXd out(M.rows());
    for (Eigen::Index i = 0; i < M.rows(); ++i) {
        double s = 0.0;
        for (Eigen::Index j = 0; j < M.cols(); ++j) s += M(i, j) * v(j);
        out(i) = s;
    }
    return out;
}

LineFit fit_line(const Eigen::Ref<const Eigen::MatrixXd>& X, bool bias) {
    require_finite_nonempty(X, "X");
    const Eigen::Index n = X.rows();
    const Eigen::Index d = X.cols();

    LineFit f;
    f.x0 = bias ? Eigen::VectorXd(X.colwise().mean().transpose()) : Eigen::VectorXd::Zero(d);

    // Centred copy, scaled to max |entry| = 1 so that the scatter matrix cannot overflow.
    Eigen::MatrixXd Y = X;
    if (bias) Y.rowwise() -= f.x0.transpose();
    const double scale = Y.cwiseAbs().maxCoeff();
    if (scale == 0.0) {  // all samples coincide with x0: any direction fits exactly
        f.a = Eigen::VectorXd::Unit(d, 0);
        f.t = Eigen::VectorXd::Zero(n);
        f.rel_residual = 0.0;
        return f;
    }
    Y /= scale;

    // Top eigenvector of the scatter matrix Y^T Y (d x d), or via the Gram matrix Y Y^T
    // (n x n) when that is smaller: Y^T w is then the top right singular direction.
    Eigen::VectorXd a;
    if (n >= d) {
        Eigen::MatrixXd S = Eigen::MatrixXd::Zero(d, d);
        S.selfadjointView<Eigen::Lower>().rankUpdate(Y.transpose());
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(S, Eigen::ComputeEigenvectors);
        a = es.eigenvectors().col(d - 1);
    } else {
        Eigen::MatrixXd G = Eigen::MatrixXd::Zero(n, n);
        G.selfadjointView<Eigen::Lower>().rankUpdate(Y);
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(G, Eigen::ComputeEigenvectors);
        a = Y.transpose() * es.eigenvectors().col(n - 1);
    }
    a.normalize();
    Eigen::Index imax = 0;
    a.cwiseAbs().maxCoeff(&imax);
    if (a(imax) < 0.0) a = -a;

    const Eigen::VectorXd ts = row_dots(Y, a);  // scaled coordinates along the line
    double res2 = 0.0;
    for (Eigen::Index j = 0; j < d; ++j) {
        res2 += (Y.col(j) - ts * a(j)).squaredNorm();
    }
    f.rel_residual = std::sqrt(res2) / Y.norm();
    f.a = a;
    f.t = ts * scale;
    return f;
}

NeuronSet extreme_points_rank_one(const Eigen::Ref<const Eigen::MatrixXd>& X, bool bias,
                                  double rtol) {
    if (!(rtol >= 0.0)) {
        throw std::invalid_argument("rtol must be a non-negative number");
    }
    const LineFit f = fit_line(X, bias);
    const Eigen::VectorXd neg_a = (-f.a).array() + 0.0;  // -a without negative zeros
    if (!(f.rel_residual <= rtol)) {
        std::ostringstream msg;
        msg.precision(3);
        msg << "X is not rank one: the samples do not lie on one line"
            << (bias ? "" : " through the origin") << " (relative residual " << f.rel_residual
            << " > rtol = " << rtol << ")";
        throw std::invalid_argument(msg.str());
    }
    const Eigen::Index n = X.rows();
    const Eigen::Index d = X.cols();
    NeuronSet s;
    if (!bias) {
        s.U.resize(d, 2);
        s.U.col(0) = f.a;
        s.U.col(1) = neg_a;
        s.b = Eigen::VectorXd::Zero(2);
        return s;
    }
    // Neuron i has its kink exactly at sample i: b_i = -x_i^T u.
    const Eigen::VectorXd proj = row_dots(X, f.a);
    s.U.resize(d, 2 * n);
    s.U.leftCols(n) = f.a.replicate(1, n);
    s.U.rightCols(n) = neg_a.replicate(1, n);
    s.b.resize(2 * n);
    s.b.head(n) = (-proj).array() + 0.0;
    s.b.tail(n) = proj.array() + 0.0;
    return s;
}

}  // namespace fcr
