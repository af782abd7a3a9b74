// Evaluation of a two-layer ReLU network whose hidden neurons are all parallel (the networks
// of the 1-D and rank-one solvers, Lemma 2.6 / Corollary 3.4): with t_i = a^T x_i,
//     f_i = c + sum_j w_j (s_j t_i + b_j)_+ ,   s_j = +-||u_j||,
// in O((n + m) log m) by sorting the kinks -b_j / s_j and prefix sums, instead of O(n m).
#pragma once

#include <Eigen/Core>

namespace fcr {

// f (n) for projections t (n); slope s (m, nonzero), bias b (m), output weights w (m), intercept c.
Eigen::VectorXd ramp_network_1d(const Eigen::Ref<const Eigen::VectorXd>& t,
                                const Eigen::Ref<const Eigen::VectorXd>& s,
                                const Eigen::Ref<const Eigen::VectorXd>& b,
                                const Eigen::Ref<const Eigen::VectorXd>& w, double c);

}  // namespace fcr
