// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/source_limiter.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <random>

namespace sipfast::core {

namespace {
constexpr std::size_t window = 8;
constexpr std::uint64_t ns_per_s = 1'000'000'000;
} // namespace

struct source_limiter::entry {
    std::uint64_t prefix = 0;  // the IPv4 address, or an IPv6 address's first 64 bits
    std::uint64_t tat_messages = 0;
    std::uint64_t tat_bytes = 0;
    std::uint64_t banned_until = 0;
    std::uint8_t family = 0;  // 0: never used

    [[nodiscard]] bool idle(std::uint64_t now) const noexcept {
        return family == 0 || (tat_messages <= now && tat_bytes <= now && banned_until <= now);
    }
    // How far an entry is from being free: what eviction takes least of.
    [[nodiscard]] std::uint64_t weight(std::uint64_t now) const noexcept {
        constexpr std::uint64_t banned_bias = std::uint64_t{1} << 63;
        return banned_until > now ? banned_bias | (banned_until >> 1) : std::max(tat_messages, tat_bytes) >> 1;
    }
};

source_limiter::source_limiter(std::size_t sources, const source_limits& limits)
    : seed_([] {
          std::random_device source;  // getrandom(2)
          return (std::uint64_t{source()} << 32) | source();
      }()),
      mask_(std::bit_ceil(std::max(sources, window)) - 1), table_(std::make_unique<entry[]>(mask_ + 1)) {
    set_limits(limits);
}

source_limiter::~source_limiter() = default;

void source_limiter::set_limits(const source_limits& limits) noexcept {
    limits_ = limits;
    message_cost_ns_ = limits.messages_per_s != 0 ? ns_per_s / limits.messages_per_s : 0;
    message_tolerance_ns_ = message_cost_ns_ * std::max<std::uint64_t>(limits.message_burst, 1);
    byte_cost_ns_x1024_ = limits.bytes_per_s != 0 ? (ns_per_s << 10) / limits.bytes_per_s : 0;
    byte_tolerance_ns_ = (byte_cost_ns_x1024_ * std::max<std::uint64_t>(limits.byte_burst, 1)) >> 10;
}

source_limiter::entry* source_limiter::find(const net_address& a, std::uint64_t now) noexcept {
    std::uint64_t prefix = 0;
    std::memcpy(&prefix, a.ip.data(), a.family == 4 ? 4 : 8);
    const std::uint64_t h = XXH3_64bits_withSeed(&prefix, sizeof prefix, seed_ ^ a.family);
    const std::size_t first = static_cast<std::size_t>(h) & mask_ & ~(window - 1);
    entry* free = nullptr;
    entry* victim = nullptr;
    for (std::size_t i = 0; i < window; ++i) {
        entry& e = table_[first + i];
        if (e.family == a.family && e.prefix == prefix) return &e;
        if (free == nullptr && e.idle(now)) free = &e;
        if (victim == nullptr || e.weight(now) < victim->weight(now)) victim = &e;
    }
    entry* e = free != nullptr ? free : victim;
    *e = entry{prefix, now, now, 0, a.family};
    return e;
}

source_verdict source_limiter::admit(const net_address& from, std::size_t bytes, std::uint64_t now) noexcept {
    if (!limits_.enabled() || !from.valid()) return source_verdict::pass;
    entry& e = *find(from, now);
    if (e.banned_until > now) return source_verdict::banned;
    const std::uint64_t tat_m = std::max(e.tat_messages, now) + message_cost_ns_;
    const std::uint64_t tat_b = std::max(e.tat_bytes, now) + ((byte_cost_ns_x1024_ * bytes) >> 10);
    if ((message_cost_ns_ != 0 && tat_m - now > message_tolerance_ns_) ||
        (byte_cost_ns_x1024_ != 0 && tat_b - now > byte_tolerance_ns_)) {
        if (limits_.ban_ns != 0) e.banned_until = now + limits_.ban_ns;
        return source_verdict::over_rate;
    }
    // A ban that ran out leaves the source with a fresh budget.
    e.banned_until = 0;
    e.tat_messages = tat_m;
    e.tat_bytes = tat_b;
    return source_verdict::pass;
}

bool source_limiter::charge_answer(const net_address& to, std::size_t bytes, std::uint64_t now) noexcept {
    if (!limits_.enabled() || !to.valid()) return true;
    entry& e = *find(to, now);
    if (e.banned_until > now) return false;
    if (byte_cost_ns_x1024_ == 0) {  // only messages are counted: an answer is one
        const std::uint64_t tat = std::max(e.tat_messages, now) + message_cost_ns_;
        if (tat - now > message_tolerance_ns_) return false;
        e.tat_messages = tat;
        return true;
    }
    const std::uint64_t tat = std::max(e.tat_bytes, now) + ((byte_cost_ns_x1024_ * bytes) >> 10);
    if (tat - now > byte_tolerance_ns_) return false;
    e.tat_bytes = tat;
    return true;
}

} // namespace sipfast::core
