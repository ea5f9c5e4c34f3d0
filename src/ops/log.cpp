// SPDX-License-Identifier: Apache-2.0
#include "sipfast/ops/log.hpp"

#include <unistd.h>

#include <array>
#include <cstring>

namespace sipfast::ops {

std::atomic<log_level> logger::level_{log_level::info};

namespace {
std::array<char, 32> program_name{"sipfast"};
constexpr std::string_view level_names[] = {"error", "warn", "info", "debug"};
} // namespace

bool parse_log_level(std::string_view text, log_level& out) noexcept {
    for (std::size_t i = 0; i < std::size(level_names); ++i)
        if (text == level_names[i]) {
            out = static_cast<log_level>(i);
            return true;
        }
    return false;
}

void logger::set_program(std::string_view name) {
    const std::size_t n = std::min(name.size(), program_name.size() - 1);
    std::memcpy(program_name.data(), name.data(), n);
    program_name[n] = '\0';
}

void logger::write(log_level l, std::string_view text) noexcept {
    if (!enabled(l)) return;
    // One write(2) per line, so lines from several threads never interleave.
    std::array<char, 1024> line{};
    std::size_t n = 0;
    const auto put = [&](std::string_view s) {
        const std::size_t k = std::min(s.size(), line.size() - 1 - n);
        std::memcpy(line.data() + n, s.data(), k);
        n += k;
    };
    put(program_name.data());
    put(": ");
    put(level_names[static_cast<std::size_t>(l)]);
    put(": ");
    put(text);
    line[n++] = '\n';
    (void)!::write(STDERR_FILENO, line.data(), n);
}

} // namespace sipfast::ops
