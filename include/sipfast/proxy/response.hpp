// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/config.hpp"
#include "sipfast/sip/message.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::proxy {

/// The To tag of the answers sipfast makes itself: stable per call, so a retransmitted request that
/// is answered again gets the same tag, and the ACK of such an answer is known as ours.
class answer_tag {
public:
    explicit answer_tag(std::string_view call_id) noexcept;
    [[nodiscard]] std::string_view view() const noexcept { return {buf_.data(), buf_.size()}; }

private:
    std::array<char, 10> buf_{};
};

/// What a proxy adds to the top Via of a request that came from `source` (RFC 3261 §18.2.1, RFC
/// 3581 §4): received when the sent-by is not the source address, the port when the client asked
/// with an empty rport (and then received even when they are the same), never a second received.
/// `stream`: the request came over a connection, and both are added when there is no rport, so that
/// an answer coming back finds that connection, whose port the sent-by is not.
struct via_marks {
    /// What the marks take the place of: the name of an empty rport, or nothing at the end of the
    /// Via's text (an insert there).
    std::string_view at;
    bool received = false;
    bool rport = false;

    [[nodiscard]] static via_marks of(const sip::via& v, const net_address& source, bool stream) noexcept;
    [[nodiscard]] bool any() const noexcept { return received || rport; }
    /// Writes the marks as they read at `at`.
    void write(core::text_writer& w, const net_address& source) const noexcept;
};

/// Writes the response a proxy sends itself to request `req` (RFC 3261 §8.2.6, §16.7 step 10): the
/// status line, every Via of the request in order, From, To (with `to_tag` added when the request
/// has none and the status is above 100), Call-ID, CSeq, `extra_lines` (whole header lines, each
/// ending in CRLF) and Content-Length: 0. Uses the header fields as received, so a request that
/// failed to decode past its framing can still be answered 400. Returns the bytes written, or 0
/// when `out` is too small.
/// `skip_first_via` leaves out the first Via header line: a request rebuilt from what the proxy
/// forwarded has the proxy's own Via there. With `source`, where the request came from, the top Via
/// gets received and rport as RFC 3261 §18.2.1 and RFC 3581 §4 say (rport only when asked for).
/// `vias`, when not empty, are whole Via lines written in place of the request's (topology hiding:
/// the ones a request came with, kept by its transaction, when it was forwarded with ours alone).
std::size_t write_response(const sip::message& req, int status, std::string_view reason,
                           std::string_view to_tag, std::string_view extra_lines,
                           std::span<char> out, bool skip_first_via = false,
                           const net_address* source = nullptr, std::string_view vias = {}) noexcept;

/// Writes the answer to a message that failed to parse with `r` (RFC 3261 §21.4.1: 400, 505 or 513
/// with the fault as reason phrase), from the headers that were indexed before the fault. Returns 0
/// when nothing is to be answered (a response, an ACK, no Via to answer along) or `out` is too
/// small; sets `status` to the code written.
std::size_t write_error_response(const sip::message& m, const sip::parse_result& r, std::string_view to_tag,
                                 std::span<char> out, int& status) noexcept;

} // namespace sipfast::proxy
