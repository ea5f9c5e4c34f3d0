// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace sipfast::core {

enum class log_level : std::uint8_t { error = 0, warn, info, debug };

/// Parses "error", "warn", "info", "debug".
[[nodiscard]] bool parse_log_level(std::string_view text, log_level& out) noexcept;

/// One line per event on stderr, "PROGRAM: LEVEL: text" (journald keeps stderr lines as they are).
/// The level can be changed at any time (a reload) from any thread.
class logger {
public:
    static void set_program(std::string_view name);
    static void set_level(log_level l) noexcept { level_.store(l, std::memory_order_relaxed); }
    [[nodiscard]] static log_level level() noexcept { return level_.load(std::memory_order_relaxed); }
    [[nodiscard]] static bool enabled(log_level l) noexcept { return l <= level(); }
    static void write(log_level l, std::string_view text) noexcept;

private:
    static std::atomic<log_level> level_;
};

inline void log_error(std::string_view t) noexcept { logger::write(log_level::error, t); }
inline void log_warn(std::string_view t) noexcept { logger::write(log_level::warn, t); }
inline void log_info(std::string_view t) noexcept { logger::write(log_level::info, t); }
inline void log_debug(std::string_view t) noexcept { logger::write(log_level::debug, t); }

/// Turns a stream of events on a fast path into at most one line per interval: the first event of
/// an interval is logged (with how many were held back since the last line), the rest are counted.
/// One per call site and thread; driven by the caller's clock.
class log_limiter {
public:
    explicit log_limiter(std::uint64_t interval_ns = 1'000'000'000) noexcept : interval_ns_(interval_ns) {}
    /// Whether to write a line for this event now; `suppressed` is how many were held back before it.
    [[nodiscard]] bool allow(std::uint64_t now_ns, std::uint64_t& suppressed) noexcept {
        if (logged_ && now_ns - last_ns_ < interval_ns_) {
            ++held_;
            return false;
        }
        logged_ = true;
        last_ns_ = now_ns;
        suppressed = held_;
        held_ = 0;
        return true;
    }

private:
    std::uint64_t interval_ns_;
    std::uint64_t last_ns_ = 0;
    std::uint64_t held_ = 0;
    bool logged_ = false;
};

} // namespace sipfast::core
