// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace sipfast::loadgen {

/// Open-loop pacing: call k (from 0) is due at start + k / rate, whatever became of the calls before
/// it, so a slow responder sees the offered load and not a generator that waits for it (no
/// coordinated omission). Driven by an explicit clock; allocates nothing.
class pacer {
public:
    /// `calls_per_s` (0: none), from `start_ns`, `limit` calls at most (0: no limit) and none due at
    /// or after `end_ns` (0: no end).
    pacer(std::uint64_t calls_per_s, std::uint64_t start_ns, std::uint64_t limit = 0, std::uint64_t end_ns = 0) noexcept
        : rate_(calls_per_s), start_ns_(start_ns), limit_(limit), end_ns_(end_ns) {}

    /// Calls due by `now_ns` and not yet taken; at most `burst` (the rest stay due).
    [[nodiscard]] std::uint64_t due(std::uint64_t now_ns, std::uint64_t burst = ~std::uint64_t{0}) const noexcept {
        const std::uint64_t target = due_by(now_ns);
        const std::uint64_t n = target > taken_ ? target - taken_ : 0;
        return n < burst ? n : burst;
    }
    /// Marks `n` calls as started.
    void take(std::uint64_t n) noexcept { taken_ += n; }
    /// The time call number `k` is due at.
    [[nodiscard]] std::uint64_t due_at(std::uint64_t k) const noexcept {
        if (rate_ == 0) return ~std::uint64_t{0};
        return start_ns_ + (k / rate_) * 1'000'000'000ull + ((k % rate_) * 1'000'000'000ull + rate_ - 1) / rate_;
    }
    /// When the next call not yet taken is due (~0 when none will be).
    [[nodiscard]] std::uint64_t next_due_ns() const noexcept { return done() ? ~std::uint64_t{0} : due_at(taken_); }
    /// Whether every call there will be was taken.
    [[nodiscard]] bool done() const noexcept {
        if (rate_ == 0) return true;
        if (limit_ != 0 && taken_ >= limit_) return true;
        return end_ns_ != 0 && due_at(taken_) >= end_ns_;
    }
    [[nodiscard]] std::uint64_t taken() const noexcept { return taken_; }

private:
    // Calls due by now: k is due when k / rate <= elapsed, so floor(elapsed * rate) + 1 of them;
    // split into whole seconds so the product never overflows (rate < 2^34).
    [[nodiscard]] std::uint64_t due_by(std::uint64_t now_ns) const noexcept {
        if (rate_ == 0 || now_ns < start_ns_) return 0;
        std::uint64_t t = now_ns;
        if (end_ns_ != 0 && t >= end_ns_) t = end_ns_ - 1;
        if (t < start_ns_) return 0;
        const std::uint64_t elapsed = t - start_ns_;
        std::uint64_t n = (elapsed / 1'000'000'000ull) * rate_ + (elapsed % 1'000'000'000ull) * rate_ / 1'000'000'000ull + 1;
        if (limit_ != 0 && n > limit_) n = limit_;
        return n;
    }

    std::uint64_t rate_;
    std::uint64_t start_ns_;
    std::uint64_t limit_;
    std::uint64_t end_ns_;
    std::uint64_t taken_ = 0;
};

} // namespace sipfast::loadgen
