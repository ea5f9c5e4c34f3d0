// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfast/sip/header_id.hpp"
#include "sipfast/sip/message.hpp"
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip {

struct implementation;

/// Receive buffers reserve this many bytes past the data so that decoders may load whole vectors.
/// The parser itself never reads a byte at or past `buffer.size()`: its last block is copied, so a
/// message that ends at the edge of a mapping is safe.
inline constexpr std::size_t padding_bytes = 64;

/// Slots a caller should offer for real traffic; IMS messages carry 30-40 headers.
inline constexpr std::size_t default_header_slots = 96;

struct parse_options {
    /// Stream framing (TCP): a message that is not complete yet gives `incomplete`; a message needs
    /// Content-Length. Datagram framing (UDP, false): the buffer is one message.
    bool stream = false;
    /// Largest start line plus headers plus body accepted.
    std::size_t max_message_bytes = 65535;
    /// Scanner to use; nullptr means the one chosen at start (see isa.hpp).
    const implementation* isa = nullptr;
};

enum class parse_status : std::uint8_t {
    complete,    ///< a message (or keep-alive) of `consumed` bytes was parsed
    incomplete,  ///< stream only: need more bytes; nothing was consumed
    error,       ///< see `error`, `header`, `offset`
};

struct parse_result {
    parse_status status = parse_status::error;
    parse_error error = parse_error::none;
    /// The header the fault is in (missing/duplicate/invalid value), or other for the start line
    /// and framing faults.
    header_id header = header_id::other;
    /// Bytes of the buffer the message takes (stream: where the next message starts).
    std::size_t consumed = 0;
    /// Byte offset of the fault in the buffer, when it is known; else 0.
    std::size_t offset = 0;

    [[nodiscard]] bool ok() const noexcept { return status == parse_status::complete; }
};

/// Parses one SIP message from `buffer`, filling `msg` with views into it and `slots` with its
/// header fields (msg.headers is the used prefix of `slots`). Allocates nothing, throws nothing.
/// `msg` is reset on entry, so after an error or `incomplete` it holds no stale views.
[[nodiscard]] parse_result parse(std::string_view buffer, message& msg, std::span<header> slots,
                                 const parse_options& options = {}) noexcept;

/// parse, then the decoding it leaves to first use (From, To, the first Contact: see on_demand;
/// the media type of Content-Type),
/// whose first fault it gives as parse gives its own: for those who judge a whole message rather
/// than forward it (sipfast-parse, the corpus).
[[nodiscard]] parse_result parse_strict(std::string_view buffer, message& msg, std::span<header> slots,
                                        const parse_options& options = {}) noexcept;

/// Writes the reason phrase answering a request that failed with `r` into `out`, e.g.
/// "Invalid CSeq header: number out of range" or "Missing Call-ID header"; returns the used prefix
/// of `out` (truncated to fit). Only printable ASCII is written.
[[nodiscard]] std::string_view format_reason(const parse_result& r, std::span<char> out) noexcept;

} // namespace sipfast::sip
