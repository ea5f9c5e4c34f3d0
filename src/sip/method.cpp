// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/method.hpp"

#include <array>

namespace sipfast::sip {

namespace {
constexpr std::array<std::string_view, 15> names = {
    "", "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "PRACK", "SUBSCRIBE",
    "NOTIFY", "UPDATE", "MESSAGE", "REFER", "PUBLISH",
};
} // namespace

method classify_method(std::string_view token) noexcept {
    if (token.size() < 3 || token.size() > 9) return method::other;
    // The first letter and the length narrow it to one candidate.
    method m = method::other;
    switch (token[0]) {
    case 'I': m = token.size() == 6 ? method::invite : method::info; break;
    case 'A': m = method::ack; break;
    case 'B': m = method::bye; break;
    case 'C': m = method::cancel; break;
    case 'R': m = token.size() == 8 ? method::register_ : method::refer; break;
    case 'O': m = method::options; break;
    case 'P': m = token.size() == 5 ? method::prack : method::publish; break;
    case 'S': m = method::subscribe; break;
    case 'N': m = method::notify; break;
    case 'U': m = method::update; break;
    case 'M': m = method::message; break;
    default: return method::other;
    }
    return names[static_cast<std::size_t>(m)] == token ? m : method::other;
}

std::string_view method_name(method m) noexcept { return names[static_cast<std::size_t>(m)]; }

} // namespace sipfast::sip
