// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/log.hpp"

#include <unistd.h>

#include <array>
#include <cstring>

#include "sipfast/core/text_writer.hpp"

namespace sipfast::core {

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
    text_writer w({line.data(), line.size() - 1});  // a long line is cut, its newline kept
    w.put_clipped(program_name.data()).put_clipped(": ").put_clipped(level_names[static_cast<std::size_t>(l)]);
    w.put_clipped(": ").put_clipped(text);
    line[w.size()] = '\n';
    (void)!::write(STDERR_FILENO, line.data(), w.size() + 1);
}

} // namespace sipfast::core
