// Dynamically scheduled parallel loops over independent work items (std::thread), shared by
// the batch kernels.  The first exception thrown by a work item is re-thrown in the caller.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "fastconvexrelu/interrupt.hpp"

namespace fcr {

// fn(worker, item) for every item in [0, n), dynamically scheduled over n_threads threads
// (worker in [0, n_threads)).  The first exception thrown by fn is re-thrown here, after all
// workers have stopped.  No item starts once an interrupt is pending (fcr::Interrupted is
// thrown); the calling thread keeps polling the interrupt hook while it waits for the workers.
template <class Fn>
inline void parallel_for(Eigen::Index n, int n_threads, Fn&& fn) {
    if (n <= 0) return;
    const int nt = static_cast<int>(std::min<Eigen::Index>(std::max(1, n_threads), n));
    if (nt == 1) {
        for (Eigen::Index i = 0; i < n; ++i) {
            check_interrupt();
            fn(0, i);
        }
        return;
    }
    std::atomic<Eigen::Index> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex mutex;
    std::condition_variable finished_cv;
    int finished = 0;  // workers (not the caller) done; guarded by mutex
    auto work = [&](int worker) {
        try {
            for (;;) {
                if (failed.load(std::memory_order_relaxed)) break;
                if (worker == 0) poll_interrupt();
                if (interrupt_pending()) throw Interrupted();
                const Eigen::Index i = next.fetch_add(1, std::memory_order_relaxed);
                if (i >= n) break;
                fn(worker, i);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!error) error = std::current_exception();
            failed.store(true);
        }
        if (worker != 0) {
            std::lock_guard<std::mutex> lock(mutex);
            ++finished;
            finished_cv.notify_all();
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(nt - 1));
    for (int w = 1; w < nt; ++w) threads.emplace_back(work, w);
    work(0);
    {
        std::unique_lock<std::mutex> lock(mutex);
        while (finished < nt - 1) {
            finished_cv.wait_for(lock, std::chrono::milliseconds(20));
            if (finished < nt - 1) {
                lock.unlock();
                poll_interrupt();  // the workers see the flag at their next check
                lock.lock();
            }
        }
    }
    for (auto& th : threads) th.join();
    if (error) std::rethrow_exception(error);
    if (interrupt_pending()) throw Interrupted();  // a poll said stop: never swallow it
}

inline int resolve_threads(int requested, Eigen::Index work_items) {
    int nt = requested;
    if (nt <= 0) {
        const unsigned hc = std::thread::hardware_concurrency();
        nt = hc == 0 ? 1 : static_cast<int>(hc);
    }
    return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(nt, work_items)));
}

// A team of n_threads threads (the caller plus n_threads - 1 persistent workers) for many
// short parallel sections: run(f) calls f(t) on every member t in [0, n_threads) and returns
// when all are done.  Waiting threads spin briefly, then sleep on a condition variable (so an
// oversubscribed machine is not flooded with spinning threads); a section costs a few
// microseconds instead of a thread start.  The first exception thrown by f is re-thrown by run.
class SpinTeam {
public:
    explicit SpinTeam(int n_threads) : n_(std::max(1, n_threads)) {
        for (int t = 1; t < n_; ++t) workers_.emplace_back([this, t] { loop(t); });
    }
    SpinTeam(const SpinTeam&) = delete;
    SpinTeam& operator=(const SpinTeam&) = delete;
    ~SpinTeam() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
            generation_.fetch_add(1, std::memory_order_acq_rel);
        }
        wake_workers_.notify_all();
        for (auto& th : workers_) th.join();
    }

    int size() const { return n_; }

    void run(const std::function<void(int)>& f) {
        if (n_ == 1) {
            f(0);
            return;
        }
        task_ = &f;
        error_ = nullptr;
        pending_.store(n_ - 1, std::memory_order_release);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            generation_.fetch_add(1, std::memory_order_acq_rel);
        }
        wake_workers_.notify_all();
        std::exception_ptr mine;
        try {
            f(0);
        } catch (...) {
            mine = std::current_exception();
        }
        if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
            std::unique_lock<std::mutex> lock(mutex_);
            while (!done_.wait_for(lock, std::chrono::milliseconds(20),
                                   [this] { return pending_.load(std::memory_order_acquire) == 0; })) {
                lock.unlock();
                poll_interrupt();  // members that check interrupts see the flag and return early
                lock.lock();
            }
        }
        if (mine) std::rethrow_exception(mine);
        if (error_) std::rethrow_exception(error_);
        if (interrupt_pending()) throw Interrupted();
    }

private:
    template <class Pred>
    static bool spin_until(Pred ready) {
        for (int i = 0; i < kSpins; ++i)
            if (ready()) return true;
        return ready();
    }

    void loop(int t) {
        std::uint64_t seen = 0;
        for (;;) {
            auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
            if (!spin_until(fresh)) {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_workers_.wait(lock, fresh);
            }
            seen = generation_.load(std::memory_order_acquire);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (stop_) return;
            }
            try {
                (*task_)(t);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lock(mutex_);  // no lost wake-up of a sleeping run()
                done_.notify_all();
            }
        }
    }

    static constexpr int kSpins = 200000;  // ~0.1-0.5 ms of polling before sleeping
    int n_;
    std::vector<std::thread> workers_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    bool stop_ = false;  // guarded by mutex_
    const std::function<void(int)>* task_ = nullptr;
    std::exception_ptr error_;
    std::mutex mutex_;
    std::condition_variable wake_workers_, done_;
};

}  // namespace fcr
