// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the parser tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sipfast/sip/isa.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::test {

/// Replaces every "\n" not preceded by "\r" with "\r\n", so tests can be written with plain
/// newlines and still send wire-format messages.
inline std::string crlf(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
        out += s[i];
    }
    return out;
}

/// The implementations the running CPU supports.
inline std::vector<const sip::implementation*> supported_isas() {
    std::vector<const sip::implementation*> v;
    for (const sip::implementation* i : sip::implementations())
        if (i->supported()) v.push_back(i);
    return v;
}

/// A parse that owns its input and slots, so its views stay valid as long as it lives.
struct parsed {
    std::string text;
    std::vector<sip::header> slots = std::vector<sip::header>(sip::default_header_slots);
    sip::message msg;
    sip::parse_result result;

    explicit parsed(std::string_view input, sip::parse_options opt = {}) : text(input) {
        result = sip::parse(text, msg, slots, opt);
    }
    parsed(const parsed&) = delete;
    parsed& operator=(const parsed&) = delete;
};

} // namespace sipfast::test
