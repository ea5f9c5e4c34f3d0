// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfast/sip/cseq.hpp"
#include "sipfast/sip/header_id.hpp"
#include "sipfast/sip/method.hpp"
#include "sipfast/sip/name_addr.hpp"
#include "sipfast/sip/on_demand.hpp"
#include "sipfast/sip/uri.hpp"
#include "sipfast/sip/via.hpp"

namespace sipfast::sip {

/// One header field as it stands in the buffer: name as written, value trimmed of surrounding
/// whitespace (a folded value keeps its inner CRLF and whitespace, which every decoder reads as LWS).
struct header {
    std::string_view name;
    std::string_view value;
    header_id id = header_id::other;
};

enum class message_kind : std::uint8_t {
    none = 0,
    request,
    response,
    keepalive_ping,  ///< CRLFCRLF (RFC 5626 §4.4.1): answer with CRLF
    keepalive_pong,  ///< a lone CRLF
};

/// A parsed message. Every view points into the caller's buffer, which must outlive it; `headers`
/// points into the caller's slots. Decoded fields are those the proxy reads on every message; From,
/// To and the first Contact are decoded on first use (on_demand), the rest are indexed in `headers`
/// and decoded on demand with the same functions (parse_via, ...).
struct message {
    message_kind kind = message_kind::none;

    std::string_view start_line;
    // Request line.
    sip::method method = sip::method::other;
    std::string_view method_text;
    std::string_view request_uri_text;
    uri request_uri;
    // Status line.
    std::uint16_t status_code = 0;
    std::string_view reason;

    std::span<header> headers;  ///< in order of appearance

    via top_via;                ///< first value of the first Via
    std::string_view call_id;
    sip::cseq cseq;
    bool has_contact = false;
    bool has_route = false;
    name_addr top_route;        ///< first value of the first Route
    bool has_max_forwards = false;
    std::uint32_t max_forwards = 0;
    bool has_content_length = false;
    std::uint32_t content_length = 0;
    bool has_expires = false;
    std::uint32_t expires = 0;

    std::size_t header_bytes = 0;    ///< start line and header section, with the empty line
    std::string_view body;

    [[nodiscard]] bool is_request() const noexcept { return kind == message_kind::request; }
    [[nodiscard]] bool is_response() const noexcept { return kind == message_kind::response; }
    [[nodiscard]] bool has(header_id id) const noexcept {
        const auto i = static_cast<unsigned>(id);
        return (present_[i >> 6] >> (i & 63)) & 1;
    }
    /// The first header with this id, or nullptr.
    [[nodiscard]] const header* find(header_id id) const noexcept;
    /// The first header whose name equals `name` case-insensitively (for extension headers).
    [[nodiscard]] const header* find(std::string_view name) const noexcept;
    /// Number of header fields with this id.
    [[nodiscard]] std::size_t count(header_id id) const noexcept;
    /// The media type of Content-Type without its parameters ("application/sdp"), decoded when
    /// asked: the forwarding path never reads it. Empty when absent or malformed.
    [[nodiscard]] std::string_view content_type() const noexcept;

    /// Calls f(std::string_view value) for every comma-separated value of every header with this id,
    /// in order (commas inside quotes and angle brackets do not split). Stops when f returns false.
    template <class F>
    void for_each_value(header_id id, F&& f) const;

    /// Resets to the state of a default-constructed message (called on entry to parse).
    void clear() noexcept;

    std::uint64_t present_[2] = {0, 0};  ///< detail: which header ids occur; not API

    // Last, so that clear() copies what comes before them and leaves their caches unformed.
    party from;                 ///< tag found; address on first use (from.get())
    party to;
    on_demand<contact> first_contact;  ///< first value of the first Contact, on first use
};

/// Reads a Content-Type value: media-type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261
/// §20.15). `type` is the media type without parameters; invalid_token when either part is not a
/// token.
[[nodiscard]] parse_error parse_media_type(std::string_view value, std::string_view& type) noexcept;

/// Splits a header value at its first top-level comma (outside quotes and angle brackets).
/// Returns the first value (trimmed) and advances `rest` past the comma; `rest` is empty after the
/// last value. An unterminated quote or angle bracket makes the whole remainder one value.
[[nodiscard]] std::string_view next_value(std::string_view& rest) noexcept;

/// The rest of `list` after `value`, one of its values already decoded (a view into it): what
/// follows the comma after it, as next_value would leave `rest`; empty when `value` is not in
/// `list` or nothing follows it. Readers of a list whose first value the parser decoded (the top
/// Via, the top Route) go on from there without decoding it again.
[[nodiscard]] std::string_view rest_after(std::string_view list, std::string_view value) noexcept;

template <class F>
void message::for_each_value(header_id id, F&& f) const {
    if (!has(id)) return;  // most ids a caller asks for are not in most messages
    for (const header& h : headers) {
        if (h.id != id) continue;
        std::string_view rest = h.value;
        while (!rest.empty()) {
            const std::string_view v = next_value(rest);
            if (!v.empty() && !f(v)) return;
        }
    }
}

} // namespace sipfast::sip
