// Mini-batch Adam on the weight-decay cross-entropy problem; see minibatch_fit.hpp.
#include "fastconvexrelu/minibatch_fit.hpp"

#include "fastconvexrelu/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

namespace fcr {

namespace {

// Adam moments of one parameter block.
struct AdamState {
    Eigen::ArrayXXf m, v;
    explicit AdamState(Eigen::Index r = 0, Eigen::Index c = 0)
        : m(Eigen::ArrayXXf::Zero(r, c)), v(Eigen::ArrayXXf::Zero(r, c)) {}
};

template <class P, class G>
void adam_step(P& p, const G& g, AdamState& s, float lr, float bc1, float bc2) {
    constexpr float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    s.m = b1 * s.m + (1.0f - b1) * g.array();
    s.v = b2 * s.v + (1.0f - b2) * g.array().square();
    p.array() -= lr * (s.m / bc1) / ((s.v / bc2).sqrt() + eps);
}

MinibatchFitResult fit_one(const Eigen::Ref<const RowMatrixXf>& X, const Eigen::Ref<const Eigen::VectorXi>& labels,
                           const Eigen::Ref<const Eigen::VectorXf>& sw, const Eigen::MatrixXf& U0,
                           const Eigen::VectorXf& b0, const Eigen::MatrixXf& W0, const Eigen::VectorXf& c0,
                           std::uint64_t seed, const MinibatchFitOptions& opt, const Deadline& deadline) {
    const Eigen::Index n = X.rows(), d = X.cols(), m = U0.cols(), o = W0.cols();
    const bool softmax = opt.loss == "softmax";
    const Eigen::Index B = std::min<Eigen::Index>(opt.batch_size, n);
    MinibatchFitResult r;
    r.U = U0;
    r.b = opt.bias ? b0 : Eigen::VectorXf::Zero(m);
    r.W = W0;
    r.c = opt.bias ? c0 : Eigen::VectorXf::Zero(o);
    const float lam = static_cast<float>(opt.beta / static_cast<double>(n));  // penalty / n
    AdamState sU(d, m), sb(m, 1), sW(m, o), sc(o, 1);
    RowMatrixXf Xb(B, d);
    Eigen::MatrixXf Z(B, m), Hbuf(B, m), F(B, o), gU(d, m), gW(m, o);
    Eigen::VectorXf gb(m), gc(o);
    std::vector<Eigen::Index> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), Eigen::Index(0));
    std::mt19937_64 rng(seed);
    const Eigen::Index steps_per_epoch = (n + B - 1) / B;
    const double total = static_cast<double>(steps_per_epoch) * opt.epochs;
    const bool weighted = sw.size() == n;
    long long t = 0;
    bool out_of_time = false;
    for (int ep = 0; ep < opt.epochs && !out_of_time; ++ep) {
        std::shuffle(perm.begin(), perm.end(), rng);
        for (Eigen::Index s0 = 0; s0 < n; s0 += B) {
            check_interrupt();
            if (deadline.passed()) {  // max_time: stop with the current network
                out_of_time = true;
                break;
            }
            const Eigen::Index nb = std::min<Eigen::Index>(B, n - s0);
            for (Eigen::Index k = 0; k < nb; ++k)  // gather the batch rows (contiguous in X)
                std::memcpy(Xb.row(k).data(), X.row(perm[static_cast<std::size_t>(s0 + k)]).data(),
                            sizeof(float) * static_cast<std::size_t>(d));
            auto Xk = Xb.topRows(nb);
            auto Zk = Z.topRows(nb);
            auto Fk = F.topRows(nb);
            Zk.noalias() = Xk * r.U;
            if (opt.bias) Zk.rowwise() += r.b.transpose();
            // F = (Z)_+ W + c; Z keeps the pre-activations for the ReLU derivative
            auto H = Hbuf.topRows(nb);
            H = Zk.cwiseMax(0.0f);
            Fk.noalias() = H * r.W;
            if (opt.bias) Fk.rowwise() += r.c.transpose();
            // dF = s_i * dl/dF_i / nb (in place of F)
            for (Eigen::Index i = 0; i < nb; ++i) {
                const Eigen::Index row = perm[static_cast<std::size_t>(s0 + i)];
                const float wi = (weighted ? sw(row) : 1.0f) / static_cast<float>(nb);
                const int yi = labels(row);
                if (softmax) {
                    const float mx = Fk.row(i).maxCoeff();
                    float z = 0.0f;
                    for (Eigen::Index k = 0; k < o; ++k) {
                        const float e = std::exp(Fk(i, k) - mx);
                        Fk(i, k) = e;
                        z += e;
                    }
                    for (Eigen::Index k = 0; k < o; ++k) Fk(i, k) = wi * (Fk(i, k) / z - (k == yi ? 1.0f : 0.0f));
                } else {  // logistic, y = 2 * label - 1: dl/df = -y sigmoid(-y f)
                    const float yf = (yi == 1 ? 1.0f : -1.0f) * Fk(i, 0);
                    const float sg = yf >= 0 ? std::exp(-yf) / (1.0f + std::exp(-yf)) : 1.0f / (1.0f + std::exp(yf));
                    Fk(i, 0) = wi * (yi == 1 ? -sg : sg);
                }
            }
            gW.noalias() = H.transpose() * Fk;
            gW += lam * r.W;
            if (opt.bias) gc = Fk.colwise().sum().transpose();
            H.noalias() = Fk * r.W.transpose();                  // dH
            H = (Zk.array() > 0.0f).select(H, 0.0f);            // dZ
            gU.noalias() = Xk.transpose() * H;
            gU += lam * r.U;
            if (opt.bias) gb = H.colwise().sum().transpose();
            ++t;
            const double frac = std::min(1.0, static_cast<double>(t - 1) / std::max(1.0, total - 1.0));
            const float lr_t = static_cast<float>(
                opt.lr * (opt.lr_final + (1.0 - opt.lr_final) * 0.5 * (1.0 + std::cos(M_PI * frac))));
            const float bc1 = 1.0f - std::pow(0.9f, static_cast<float>(t));
            const float bc2 = 1.0f - std::pow(0.999f, static_cast<float>(t));
            adam_step(r.U, gU, sU, lr_t, bc1, bc2);
            adam_step(r.W, gW, sW, lr_t, bc1, bc2);
            if (opt.bias) {
                adam_step(r.b, gb, sb, lr_t, bc1, bc2);
                adam_step(r.c, gc, sc, lr_t, bc1, bc2);
            }
        }
    }
    r.n_steps = t;
    return r;
}

}  // namespace

std::vector<MinibatchFitResult> minibatch_fit_batch(const Eigen::Ref<const RowMatrixXf>& X,
                                                    const Eigen::Ref<const Eigen::VectorXi>& labels,
                                                    const Eigen::Ref<const Eigen::VectorXf>& sample_weight,
                                                    const std::vector<Eigen::MatrixXf>& U0,
                                                    const std::vector<Eigen::VectorXf>& b0,
                                                    const std::vector<Eigen::MatrixXf>& W0,
                                                    const std::vector<Eigen::VectorXf>& c0,
                                                    const std::vector<std::uint64_t>& seeds,
                                                    const MinibatchFitOptions& opt) {
    const Eigen::Index n = X.rows(), d = X.cols();
    if (n < 1 || d < 1) throw std::invalid_argument("minibatch_fit: X must have at least one row and one column");
    if (!X.allFinite()) throw std::invalid_argument("minibatch_fit: X must be finite");
    if (labels.size() != n) throw std::invalid_argument("minibatch_fit: labels must have one entry per row of X");
    if (sample_weight.size() != 0 && sample_weight.size() != n)
        throw std::invalid_argument("minibatch_fit: sample_weight must be empty or have one entry per row of X");
    if (sample_weight.size() && (!sample_weight.allFinite() || sample_weight.minCoeff() < 0.0f))
        throw std::invalid_argument("minibatch_fit: sample_weight must be finite and >= 0");
    if (opt.loss != "softmax" && opt.loss != "logistic")
        throw std::invalid_argument("minibatch_fit: loss must be 'softmax' or 'logistic'");
    if (!(opt.beta > 0.0) || !std::isfinite(opt.beta)) throw std::invalid_argument("minibatch_fit: beta must be finite and > 0");
    if (opt.epochs < 1 || opt.batch_size < 1) throw std::invalid_argument("minibatch_fit: epochs and batch_size must be >= 1");
    if (!(opt.lr > 0.0) || !std::isfinite(opt.lr) || !(opt.lr_final >= 0.0 && opt.lr_final <= 1.0))
        throw std::invalid_argument("minibatch_fit: lr must be > 0 and lr_final in [0, 1]");
    const std::size_t k = U0.size();
    if (b0.size() != k || W0.size() != k || c0.size() != k || seeds.size() != k)
        throw std::invalid_argument("minibatch_fit: U0, b0, W0, c0 and seeds must have the same length");
    const int label_min = labels.minCoeff(), label_max = labels.maxCoeff();  // once, O(n)
    for (std::size_t s = 0; s < k; ++s) {
        const Eigen::Index m = U0[s].cols(), o = W0[s].cols();
        if (U0[s].rows() != d || b0[s].size() != m || W0[s].rows() != m || c0[s].size() != o || m < 1)
            throw std::invalid_argument("minibatch_fit: start shapes must be U0 (d, m), b0 (m,), W0 (m, o), c0 (o,), m >= 1");
        if ((opt.loss == "softmax" && o < 2) || (opt.loss == "logistic" && o != 1))
            throw std::invalid_argument("minibatch_fit: softmax needs o >= 2 outputs, logistic exactly 1");
        if (!U0[s].allFinite() || !b0[s].allFinite() || !W0[s].allFinite() || !c0[s].allFinite())
            throw std::invalid_argument("minibatch_fit: starts must be finite");
        const int hi = opt.loss == "softmax" ? static_cast<int>(o) : 2;
        if (label_min < 0 || label_max >= hi)
            throw std::invalid_argument("minibatch_fit: labels out of range (softmax: 0..o-1, logistic: 0/1)");
    }
    std::vector<MinibatchFitResult> out(k);
    const Deadline deadline = thread_deadline();  // the caller's (read on this thread)
    const int nt = resolve_threads(opt.n_threads, static_cast<Eigen::Index>(k));
    parallel_for(static_cast<Eigen::Index>(k), nt, [&](int, Eigen::Index s) {
        const auto i = static_cast<std::size_t>(s);
        out[i] = fit_one(X, labels, sample_weight, U0[i], b0[i], W0[i], c0[i], seeds[i], opt, deadline);
    });
    return out;
}

}  // namespace fcr
