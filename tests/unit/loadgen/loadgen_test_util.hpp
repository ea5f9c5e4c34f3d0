// SPDX-License-Identifier: Apache-2.0
// What the call model tests share: an outbox that records, and answers written from a request.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sipfast/loadgen/outbox.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::loadgen::test {

struct sent {
    std::string text;
    core::net_address to;
    std::uint16_t from_port = 0;
};

/// An outbox whose flushes land in `log`.
struct recorder {
    std::vector<sent> log;
    outbox out{8, &recorder::take, this};

    static void take(void* self, std::span<const datagram> batch) noexcept {
        for (const datagram& d : batch) static_cast<recorder*>(self)->log.push_back({std::string(d.text), d.to, d.from_port});
    }
    /// Flushes and returns what was sent since the last call.
    std::vector<sent> drain() {
        out.flush();
        std::vector<sent> r;
        r.swap(log);
        return r;
    }
};

inline constexpr std::uint64_t ms = 1'000'000;

/// The value of the first header `name` (case-sensitive, as we write them), "" when absent.
inline std::string header(const std::string& msg, std::string_view name) {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const auto at = msg.find(key);
    if (at == std::string::npos) return {};
    const auto end = msg.find("\r\n", at + key.size());
    return msg.substr(at + key.size(), end - at - key.size());
}
inline std::string start_line(const std::string& msg) { return msg.substr(0, msg.find("\r\n")); }

/// A response to `request` as a UAS or proxy would write it: its Vias, From, Call-ID, CSeq, its To
/// with `to_tag`, then `extra` header lines (each ending CRLF) and no body.
inline std::string answer(const std::string& request, int status, std::string_view reason, std::string_view to_tag = {},
                          std::string_view extra = {}) {
    sip::message m;
    std::array<sip::header, 64> slots{};
    const auto r = sip::parse(request, m, slots);
    EXPECT_TRUE(r.ok()) << request;
    std::string out = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    for (const sip::header& h : m.headers) {
        if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
            h.id == sip::header_id::cseq)
            out += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
        if (h.id == sip::header_id::to) {
            out += "To: " + std::string(h.value);
            if (m.to.tag.empty() && !to_tag.empty()) out += ";tag=" + std::string(to_tag);
            out += "\r\n";
        }
    }
    out += std::string(extra) + "Content-Length: 0\r\n\r\n";
    return out;
}

/// Whether `text` parses as one SIP message.
inline bool parses(const std::string& text) {
    sip::message m;
    std::array<sip::header, 96> slots{};
    return sip::parse(text, m, slots).ok();
}

} // namespace sipfast::loadgen::test
