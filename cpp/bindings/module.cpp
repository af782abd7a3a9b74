#include "common.hpp"

#ifndef FASTCONVEXRELU_VERSION
#define FASTCONVEXRELU_VERSION "0.0.0+unknown"
#endif
// _core (baseline instruction set) or _core_avx2 (the same sources built with AVX2 + FMA)
#ifndef FASTCONVEXRELU_MODULE_NAME
#define FASTCONVEXRELU_MODULE_NAME _core
#endif
#ifndef FASTCONVEXRELU_SIMD
#define FASTCONVEXRELU_SIMD "baseline"
#endif

PYBIND11_MODULE(FASTCONVEXRELU_MODULE_NAME, m) {
    m.doc() = "fastconvexrelu._core: C++/Eigen kernels for exact convex training of "
              "two-layer ReLU networks.";
    m.attr("__version__") = FASTCONVEXRELU_VERSION;
    m.attr("__simd__") = FASTCONVEXRELU_SIMD;
    bind_interrupt(m);
    bind_extreme_points(m);
    bind_spline_1d(m);
    bind_ray_fit(m);
    bind_hull_neurons(m);
    bind_cone_projection(m);
    bind_lasso_master(m);
    bind_arrangement(m);
    bind_arrangement_program(m);
    bind_patch_features(m);
    bind_group_lasso(m);
    bind_nonconvex_fit(m);
    bind_minibatch_fit(m);
    bind_dual_oracle(m);
}
