// Shared declarations and conversion helpers for the fastconvexrelu._core extension module.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>
#include <vector>

#include "fastconvexrelu/interrupt.hpp"

namespace fcr_py {

namespace py = pybind11;

// Row-major matrix: a C-contiguous float64 numpy array binds to Ref<const RowMatrixXd>
// without a copy (other dtypes / layouts are converted by pybind11).
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixRef = Eigen::Ref<const RowMatrixXd>;
using VectorRef = Eigen::Ref<const Eigen::VectorXd>;

// Release the GIL around a kernel call and mark this thread as the one that entered it: the
// kernel's check_interrupt() calls then poll Python's signal handlers (bind_interrupt.cpp), and
// a signal whose handler raises (SIGINT: KeyboardInterrupt) unwinds the kernel with
// fcr::Interrupted, translated back into the handler's exception.  Use instead of
// py::gil_scoped_release, also as py::call_guard<fcr_py::nogil>().
struct nogil {
    fcr::InterruptScope scope;
    py::gil_scoped_release release;
};

// Copy a std::vector<double> into a new 1-D float64 numpy array.
inline py::array_t<double> to_numpy(const std::vector<double>& v) {
    py::array_t<double> out(static_cast<py::ssize_t>(v.size()));
    double* p = out.mutable_data();
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i];
    return out;
}

}  // namespace fcr_py

// One function per binding file; module.cpp calls them all.
void bind_extreme_points(pybind11::module_& m);
void bind_spline_1d(pybind11::module_& m);
void bind_ray_fit(pybind11::module_& m);
void bind_hull_neurons(pybind11::module_& m);
void bind_cone_projection(pybind11::module_& m);
void bind_lasso_master(pybind11::module_& m);
void bind_arrangement(pybind11::module_& m);
void bind_arrangement_program(pybind11::module_& m);
void bind_patch_features(pybind11::module_& m);
void bind_group_lasso(pybind11::module_& m);
void bind_nonconvex_fit(pybind11::module_& m);
void bind_minibatch_fit(pybind11::module_& m);
void bind_dual_oracle(pybind11::module_& m);
void bind_interrupt(pybind11::module_& m);
