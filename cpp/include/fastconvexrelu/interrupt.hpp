// Cooperative interruption of long kernels (pure C++, no Python).
//
// A host (the Python bindings) installs a process-wide hook that reports whether the user asked
// to stop (e.g. a pending SIGINT).  Long loops call check_interrupt(): on the thread that
// entered the kernel (the one holding an InterruptScope) it calls the hook at most every
// ~50 ms (a steady_clock test otherwise); on any thread it throws fcr::Interrupted once the
// hook has said yes.  Worker threads never call the hook: they only read an atomic flag that
// the entering thread sets, so a pool stops at its next check and parallel_for re-throws the
// first exception after joining all workers.
#pragma once

#include <exception>

namespace fcr {

// Thrown by check_interrupt() after the hook reported a pending interrupt.
class Interrupted : public std::exception {
public:
    const char* what() const noexcept override;
};

// The hook returns true when the computation should stop.  It is called only from a thread
// that holds an InterruptScope (never concurrently with itself).  nullptr removes it.
using InterruptHook = bool (*)();
void set_interrupt_hook(InterruptHook hook);

// Marks the current thread as the one that entered a kernel for its lifetime: check_interrupt()
// on this thread may call the hook.  The outermost scope clears the pending flag on entry and
// on exit (a stale interrupt never leaks into the next kernel).  Nested scopes are allowed.
class InterruptScope {
public:
    InterruptScope();
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;
};

// True once an interrupt was reported during the current kernel (cheap atomic read).
bool interrupt_pending() noexcept;

// On the entering thread: calls the hook if ~50 ms have passed since the last call and records
// its answer.  Elsewhere: no-op.  Returns interrupt_pending().  Never throws.
bool poll_interrupt() noexcept;

// poll_interrupt(), then throws Interrupted if an interrupt is pending.  Cheap enough for
// loops whose iterations cost a microsecond or more.
void check_interrupt();

// A soft time limit (the estimators' `max_time`).  Unlike an interrupt it does not unwind:
// an iterative kernel that sees its deadline passed stops at the end of an iteration and
// returns its current iterate as not converged, exactly as at its iteration limit.  Each
// thread has its own deadline (set by the host around a fit, default: none); a kernel reads
// the caller's with thread_deadline() on entry and hands that value to its worker threads.
class Deadline {
public:
    Deadline() = default;                        // no limit
    static Deadline after(double seconds);       // now + seconds (inf / NaN: no limit)
    bool finite() const noexcept { return finite_; }
    bool passed() const noexcept;                // a steady_clock read when finite
    double remaining() const noexcept;           // seconds (inf without a limit, >= 0)

private:
    long long ns_ = 0;  // steady_clock time since epoch, nanoseconds
    bool finite_ = false;
};

void set_thread_deadline(const Deadline& d) noexcept;
Deadline thread_deadline() noexcept;

}  // namespace fcr
