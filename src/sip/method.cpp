// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/method.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace sipfast::sip {

namespace {
constexpr std::array<std::string_view, 15> names = {
    "", "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "PRACK", "SUBSCRIBE",
    "NOTIFY", "UPDATE", "MESSAGE", "REFER", "PUBLISH",
};

template <class Word>
Word load(const char* p) noexcept {
    Word w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// a[0..n) == b[0..n) for 2 <= n <= 16, as two overlapping words of the widest size that fits:
// the method is compared on every request and again in its CSeq, and a libc memcmp call for a
// few bytes costs more than the compare.
template <class Word>
bool same_words(const char* a, const char* b, std::size_t n) noexcept {
    const std::size_t last = n - sizeof(Word);
    return ((load<Word>(a) ^ load<Word>(b)) | (load<Word>(a + last) ^ load<Word>(b + last))) == 0;
}
bool same_short(const char* a, const char* b, std::size_t n) noexcept {
    if (n >= 8) return same_words<std::uint64_t>(a, b, n);
    if (n >= 4) return same_words<std::uint32_t>(a, b, n);
    return same_words<std::uint16_t>(a, b, n);
}

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
    const std::string_view name = names[static_cast<std::size_t>(m)];
    return name.size() == token.size() && same_short(name.data(), token.data(), token.size()) ? m : method::other;
}

std::string_view method_name(method m) noexcept { return names[static_cast<std::size_t>(m)]; }

} // namespace sipfast::sip
