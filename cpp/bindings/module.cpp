#include "common.hpp"

#ifndef FASTCONVEXRELU_VERSION
#define FASTCONVEXRELU_VERSION "0.0.0+unknown"
#endif

PYBIND11_MODULE(_core, m) {
    m.doc() = "fastconvexrelu._core: C++/Eigen kernels for exact convex training of "
              "two-layer ReLU networks.";
    m.attr("__version__") = FASTCONVEXRELU_VERSION;
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
}
