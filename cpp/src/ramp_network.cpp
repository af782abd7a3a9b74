// Fast evaluation of networks with parallel hidden neurons (see ramp_network.hpp).
#include "fastconvexrelu/ramp_network.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace fcr {

Eigen::VectorXd ramp_network_1d(const Eigen::Ref<const Eigen::VectorXd>& t, const Eigen::Ref<const Eigen::VectorXd>& s,
                                const Eigen::Ref<const Eigen::VectorXd>& b, const Eigen::Ref<const Eigen::VectorXd>& w,
                                double c) {
    const Eigen::Index m = s.size();
    if (b.size() != m || w.size() != m) throw std::invalid_argument("s, b and w must have the same length");
    if (!t.allFinite() || !s.allFinite() || !b.allFinite() || !w.allFinite() || !std::isfinite(c))
        throw std::invalid_argument("inputs must be finite");
    // right ramps (s > 0) are active for t > k = -b/s and contribute w s (t - k); left ramps
    // (s < 0) are active for t < k and contribute w |s| (k - t); zero slopes are constants.
    struct Ramp { double k, ws; };
    std::vector<Ramp> right, left;
    double constant = c;
    for (Eigen::Index j = 0; j < m; ++j) {
        if (s[j] > 0) right.push_back({-b[j] / s[j], w[j] * s[j]});
        else if (s[j] < 0) left.push_back({-b[j] / s[j], -w[j] * s[j]});
        else constant += w[j] * std::max(b[j], 0.0);
    }
    auto by_k = [](const Ramp& p, const Ramp& q) { return p.k < q.k; };
    std::sort(right.begin(), right.end(), by_k);
    std::sort(left.begin(), left.end(), by_k);
    // evaluate at the points in increasing order: right ramps enter, left ramps leave
    const Eigen::Index n = t.size();
    std::vector<Eigen::Index> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](Eigen::Index i, Eigen::Index j) { return t[i] < t[j]; });
    double A = 0, B = 0;  // active right ramps: sum ws, sum ws k
    double Cl = 0, Dl = 0;  // active left ramps: sum ws, sum ws k (all with k > t)
    for (const Ramp& r : left) { Cl += r.ws; Dl += r.ws * r.k; }
    std::size_t ir = 0, il = 0;
    Eigen::VectorXd f(n);
    for (Eigen::Index q = 0; q < n; ++q) {
        const Eigen::Index i = order[q];
        const double ti = t[i];
        while (ir < right.size() && right[ir].k < ti) { A += right[ir].ws; B += right[ir].ws * right[ir].k; ++ir; }
        while (il < left.size() && left[il].k <= ti) { Cl -= left[il].ws; Dl -= left[il].ws * left[il].k; ++il; }
        f[i] = constant + (A * ti - B) + (Dl - Cl * ti);
    }
    return f;
}

}  // namespace fcr
