// Dynamically scheduled parallel loops over independent work items (std::thread), shared by
// the batch kernels.  The first exception thrown by a work item is re-thrown in the caller.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace fcr {

// fn(worker, item) for every item in [0, n), dynamically scheduled over n_threads threads
// (worker in [0, n_threads)).  The first exception thrown by fn is re-thrown here.
template <class Fn>
inline void parallel_for(Eigen::Index n, int n_threads, Fn&& fn) {
    if (n <= 0) return;
    const int nt = static_cast<int>(std::min<Eigen::Index>(std::max(1, n_threads), n));
    if (nt == 1) {
        for (Eigen::Index i = 0; i < n; ++i) fn(0, i);
        return;
    }
    std::atomic<Eigen::Index> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&](int worker) {
        try {
            for (;;) {
                if (failed.load(std::memory_order_relaxed)) return;
                const Eigen::Index i = next.fetch_add(1, std::memory_order_relaxed);
                if (i >= n) return;
                fn(worker, i);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            failed.store(true);
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(nt - 1));
    for (int w = 1; w < nt; ++w) threads.emplace_back(work, w);
    work(0);
    for (auto& th : threads) th.join();
    if (error) std::rethrow_exception(error);
}

inline int resolve_threads(int requested, Eigen::Index work_items) {
    int nt = requested;
    if (nt <= 0) {
        const unsigned hc = std::thread::hardware_concurrency();
        nt = hc == 0 ? 1 : static_cast<int>(hc);
    }
    return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(nt, work_items)));
}

}  // namespace fcr
