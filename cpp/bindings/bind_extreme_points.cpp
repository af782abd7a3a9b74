#include <tuple>

#include "common.hpp"
#include "fastconvexrelu/extreme_points.hpp"

namespace py = pybind11;
using fcr_py::RowMatrixRef;
using fcr_py::VectorRef;

void bind_extreme_points(py::module_& m) {
    m.def(
        "extreme_points_1d",
        [](VectorRef x) {
            fcr::NeuronSet s = fcr::extreme_points_1d(x);
            return std::make_tuple(std::move(s.U), std::move(s.b));
        },
        py::arg("x"), py::call_guard<fcr_py::nogil>(),
        R"doc(All 2n extreme-point neurons of one-dimensional data (Lemma 2.6).

For d = 1 the extreme points of Q_A = {(A u + b 1)_+ : |u| <= 1} along any dual
direction are attained at u = +-1, b = -sign(u) x_i (paper, Lemma 2.6 and
Corollary 3.2): the ramps (x - x_i)_+ and (x_i - x)_+ whose kinks are exactly the
samples. Any optimal network with free biases can therefore be built from them.

Parameters
----------
x : (n,) array_like of float64
    The one-dimensional samples, any order, duplicates allowed. Must be finite and
    non-empty.

Returns
-------
U : (1, 2n) ndarray
    Input weights; ``U[0, :n] = +1`` and ``U[0, n:] = -1``.
b : (2n,) ndarray
    Biases; ``b[:n] = -x`` and ``b[n:] = +x`` (input order), so neuron ``i`` computes
    ``(x - x_i)_+`` and neuron ``n + i`` computes ``(x_i - x)_+``.

Raises
------
ValueError
    If ``x`` is empty or contains NaN or inf.
)doc");

    m.def(
        "extreme_points_rank_one",
        [](RowMatrixRef X, bool bias, double rtol) {
            fcr::NeuronSet s = fcr::extreme_points_rank_one(X, bias, rtol);
            return std::make_tuple(std::move(s.U), std::move(s.b));
        },
        py::arg("X"), py::arg("bias") = true, py::arg("rtol") = 1e-9,
        py::call_guard<fcr_py::nogil>(),
        R"doc(Extreme-point neurons of rank-one data (Corollary 3.4).

If the samples lie on one line, ``X = 1 x0^T + t a^T`` with ``||a||_2 = 1``
(``x0 = 0`` when ``bias=False``), the optimal neurons are ``u = s a`` with
``s = +-1`` and the kink at a sample (paper, Corollary 3.4, which states the
through-origin case ``X = c a^T``: ``u = s a/||a||``, ``b = -s c_i ||a||``).

Parameters
----------
X : (n, d) array_like of float64
    Samples as rows. Must be finite and non-empty.
bias : bool, default True
    True: the line may pass through any point and the network has biases; 2n neurons
    are returned. False: the line passes through the origin and the network has no
    biases; the only extreme points are ``u = +-a``, ``b = 0`` (2 neurons).
rtol : float, default 1e-9
    Tolerance on the relative residual ``||X - 1 x0^T - t a^T||_F / ||X - 1 x0^T||_F``
    of the line fit (see :func:`fit_line`).

Returns
-------
U : (d, 2n) ndarray, or (d, 2) when ``bias=False``
    Unit-norm input weights: columns ``:n`` equal ``a``, columns ``n:`` equal ``-a``.
b : (2n,) ndarray, or (2,) zeros when ``bias=False``
    ``b[i] = -x_i^T a`` and ``b[n + i] = +x_i^T a``, so neuron ``i`` computes
    ``(t - t_i)_+`` and neuron ``n + i`` computes ``(t_i - t)_+`` along the line.

Raises
------
ValueError
    If X is not rank one ("X is not rank one ..."), is empty, or has NaN/inf.
)doc");

    m.def(
        "fit_line",
        [](RowMatrixRef X, bool bias) {
            fcr::LineFit f = fcr::fit_line(X, bias);
            return std::make_tuple(std::move(f.x0), std::move(f.a), std::move(f.t),
                                   f.rel_residual);
        },
        py::arg("X"), py::arg("bias") = true, py::call_guard<fcr_py::nogil>(),
        R"doc(Least-squares line through the rows of X: ``X ~= 1 x0^T + t a^T``.

The direction ``a`` is the unit top eigenvector of the scatter matrix
``(X - 1 x0^T)^T (X - 1 x0^T)`` (cost O(n d^2); the n x n Gram matrix is used
when n < d), with its sign fixed so that its largest-magnitude entry is
positive, and ``t = (X - 1 x0^T) a``. Used to detect rank-one data
(Corollary 3.4).

Parameters
----------
X : (n, d) array_like of float64
    Samples as rows. Must be finite and non-empty.
bias : bool, default True
    True: ``x0`` is the mean sample. False: the line passes through the origin
    (``x0 = 0``).

Returns
-------
x0 : (d,) ndarray
    A point on the line (the mean; zeros when ``bias=False``).
a : (d,) ndarray
    Unit direction (``e_1`` if all samples equal ``x0``).
t : (n,) ndarray
    Coordinates of the samples along the line.
rel_residual : float
    ``||X - 1 x0^T - t a^T||_F / ||X - 1 x0^T||_F`` (0 if the denominator is 0).

Raises
------
ValueError
    If X is empty or has NaN/inf.
)doc");
}
