// Interruptible kernels: the hook that lets fcr::check_interrupt() see Python signals, and the
// translation of fcr::Interrupted into the exception raised by the signal handler.
#include "common.hpp"

#include <Python.h>

#include <atomic>
#include <chrono>

#include "fastconvexrelu/parallel.hpp"

namespace py = pybind11;

namespace {

// The exception raised by a signal handler inside the hook, kept (with the GIL held) until
// the unwound kernel reaches the translator.  One at a time: a newer one replaces an older one.
PyObject* g_type = nullptr;
PyObject* g_value = nullptr;
PyObject* g_traceback = nullptr;

void drop_saved_error() {
    Py_CLEAR(g_type);
    Py_CLEAR(g_value);
    Py_CLEAR(g_traceback);
}

// Runs on the thread that entered the kernel, without the GIL (released by fcr_py::nogil).
bool python_signal_hook() {
    if (!Py_IsInitialized()) return false;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return false;
    drop_saved_error();
    PyErr_Fetch(&g_type, &g_value, &g_traceback);  // clears the error indicator
    if (g_type == nullptr) {                         // -1 without an exception: still stop
        Py_INCREF(PyExc_KeyboardInterrupt);
        g_type = PyExc_KeyboardInterrupt;
    }
    return true;
}

}  // namespace

void bind_interrupt(py::module_& m) {
    fcr::set_interrupt_hook(&python_signal_hook);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const fcr::Interrupted&) {
            if (g_type != nullptr) {
                PyErr_Restore(g_type, g_value, g_traceback);  // steals the references
                g_type = g_value = g_traceback = nullptr;
            } else {
                PyErr_SetString(PyExc_KeyboardInterrupt, "interrupted");
            }
        }
    });
    m.def(
        "_set_time_limit",
        [](double seconds) {
            const double previous = fcr::thread_deadline().remaining();
            fcr::set_thread_deadline(fcr::Deadline::after(seconds));
            return previous;
        },
        py::arg("seconds"),
        "Set this thread's soft time limit to `seconds` from now (inf: none) and return the "
        "previous one's remaining seconds (inf: none).  Iterative kernels called from this "
        "thread stop at the end of an iteration once it has passed and return their current "
        "iterate as not converged (the estimators' max_time).");
    m.def(
        "_interrupt_test_loop",
        [](double seconds) {
            // A busy loop that checks for interrupts only through fcr::check_interrupt() and
            // parallel_for (two threads), for the tests of the interrupt machinery.
            const auto t0 = std::chrono::steady_clock::now();
            long long count = 0;
            std::atomic<long long> total{0};
            fcr::parallel_for(2, 2, [&](int, Eigen::Index) {
                volatile double acc = 0.0;
                long long local = 0;
                while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
                    for (int k = 0; k < 1000; ++k) acc = acc + 1e-9 * k;
                    ++local;
                    fcr::check_interrupt();
                }
                total += local;
            });
            count = total.load();
            return count;
        },
        py::arg("seconds"), py::call_guard<fcr_py::nogil>(),
        "Busy loop of `seconds` on two threads that polls for interrupts (tests only); returns "
        "the number of inner blocks run.");
}
