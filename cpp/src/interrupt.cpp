#include "fastconvexrelu/interrupt.hpp"

#include <atomic>
#include <algorithm>
#include <chrono>
#include <limits>

namespace fcr {

namespace {

std::atomic<InterruptHook> g_hook{nullptr};
std::atomic<bool> g_pending{false};
std::atomic<int> g_scopes{0};  // scopes open in the process (all threads)

thread_local int t_depth = 0;  // InterruptScopes held by this thread
thread_local std::chrono::steady_clock::time_point t_last{};
thread_local Deadline t_deadline{};

constexpr auto kInterval = std::chrono::milliseconds(50);

}  // namespace

const char* Interrupted::what() const noexcept { return "computation interrupted"; }

void set_interrupt_hook(InterruptHook hook) { g_hook.store(hook); }

InterruptScope::InterruptScope() {
    if (t_depth++ == 0) {
        if (g_scopes.fetch_add(1) == 0) g_pending.store(false);
        t_last = std::chrono::steady_clock::now();
    }
}

InterruptScope::~InterruptScope() {
    if (--t_depth == 0) {
        if (g_scopes.fetch_sub(1) == 1) g_pending.store(false);
    }
}

bool interrupt_pending() noexcept { return g_pending.load(std::memory_order_relaxed); }

bool poll_interrupt() noexcept {
    if (g_pending.load(std::memory_order_relaxed)) return true;
    if (t_depth == 0) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - t_last < kInterval) return false;
    t_last = now;
    InterruptHook hook = g_hook.load();
    if (hook == nullptr) return false;
    bool stop = false;
    try {
        stop = hook();
    } catch (...) {
        stop = true;  // a failing hook stops the computation rather than escaping noexcept
    }
    if (stop) g_pending.store(true);
    return stop;
}

void check_interrupt() {
    if (poll_interrupt()) throw Interrupted();
}

namespace {
long long now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

Deadline Deadline::after(double seconds) {
    Deadline d;
    if (!(seconds < 1e9)) return d;  // inf, NaN or absurdly far: no limit
    d.finite_ = true;
    d.ns_ = now_ns() + static_cast<long long>(std::max(seconds, 0.0) * 1e9);
    return d;
}

bool Deadline::passed() const noexcept { return finite_ && now_ns() >= ns_; }

double Deadline::remaining() const noexcept {
    if (!finite_) return std::numeric_limits<double>::infinity();
    return std::max(0.0, static_cast<double>(ns_ - now_ns()) * 1e-9);
}

void set_thread_deadline(const Deadline& d) noexcept { t_deadline = d; }

Deadline thread_deadline() noexcept { return t_deadline; }

}  // namespace fcr
