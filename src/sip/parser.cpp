// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/parser.hpp"

#include <algorithm>
#include <array>

#include "decode.hpp"
#include "isa/scan.hpp"
#include "lex.hpp"
#include "span.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/isa.hpp"

namespace sipfast::sip {

namespace {

parse_result fail(parse_error e, std::size_t offset, header_id h = header_id::other) noexcept {
    parse_result r;
    r.status = parse_status::error;
    r.error = e;
    r.header = h;
    r.offset = offset;
    return r;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, "SIP" case-insensitive (RFC 3261 §7.1).
parse_error check_version(std::string_view v) noexcept {
    if (v == "SIP/2.0") return parse_error::none;  // what every message says
    if (v.size() < 7 || !iequals(lex::slice(v, 0, 4), "SIP/")) return parse_error::invalid_request_line;
    const std::string_view num = lex::slice(v, 4);
    const std::size_t dot = num.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 == num.size())
        return parse_error::invalid_request_line;
    for (std::size_t i = 0; i < num.size(); ++i)
        if (i != dot && !lex::is_digit(num[i])) return parse_error::invalid_request_line;
    return num == "2.0" ? parse_error::none : parse_error::unsupported_version;
}

parse_error parse_status_line(std::string_view line, message& msg) noexcept {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return parse_error::invalid_status_line;
    if (const parse_error e = check_version(lex::slice(line, 0, sp)); e != parse_error::none)
        return e == parse_error::unsupported_version ? e : parse_error::invalid_status_line;
    const std::string_view rest = lex::slice(line, sp + 1);
    if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' ')) return parse_error::invalid_status_code;
    unsigned code = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        if (!lex::is_digit(rest[i])) return parse_error::invalid_status_code;
        code = code * 10 + static_cast<unsigned>(rest[i] - '0');
    }
    if (code < 100 || code > 699) return parse_error::invalid_status_code;
    msg.kind = message_kind::response;
    msg.status_code = static_cast<std::uint16_t>(code);
    msg.reason = rest.size() > 4 ? lex::slice(rest, 4) : std::string_view{};
    return parse_error::none;
}

parse_error parse_request_line(std::string_view line, message& msg) noexcept {
    // Request-Line = Method SP Request-URI SP SIP-Version
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return parse_error::invalid_request_line;
    msg.method_text = lex::slice(line, 0, sp1);
    // A known method matched letter for letter, so only other methods need the token check.
    const method known = classify_method(msg.method_text);
    if (known == method::other && !lex::all_of(msg.method_text, lex::c_token, false))
        return parse_error::invalid_method;
    const std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return parse_error::invalid_request_line;
    if (const parse_error e = check_version(lex::slice(line, sp2 + 1)); e != parse_error::none) return e;
    msg.request_uri_text = lex::slice(line, sp1 + 1, sp2 - sp1 - 1);
    if (detail::decode_uri(msg.request_uri_text, msg.request_uri) != parse_error::none)
        return parse_error::invalid_request_uri;
    msg.method = known;
    msg.kind = message_kind::request;
    return parse_error::none;
}

// Decodes the headers every message needs. `once`: no header with this id came before. Returns
// none or the fault. Called only for the ids in decoded_ids below: a new case needs its id there.
parse_error decode_header(const header& h, message& msg, bool once) noexcept {
    switch (h.id) {
    case header_id::via:
        if (!once) return parse_error::none;  // later Vias on demand
        {
            std::string_view rest;
            return detail::decode_via(h.value, msg.top_via, &rest);
        }
    case header_id::call_id:
        if (!once) return parse_error::duplicate_header;
        {
            // Call-ID = word [ "@" word ]
            const std::string_view v = h.value;
            std::size_t i = lex::span<lex::c_word>(v, 0);
            if (i == 0) return parse_error::invalid_call_id;
            if (i < v.size() && v[i] == '@') {
                const std::size_t host = i + 1;
                i = lex::span<lex::c_word>(v, host);
                if (i == host) return parse_error::invalid_call_id;
            }
            if (i != v.size()) return parse_error::invalid_call_id;
            msg.call_id = h.value;
            return parse_error::none;
        }
    case header_id::cseq:
        if (!once) return parse_error::duplicate_header;
        return parse_cseq(h.value, msg.cseq);
    case header_id::from:
        if (!once) return parse_error::duplicate_header;
        msg.from.text = h.value;
        return find_tag(h.value, msg.from.tag);
    case header_id::to:
        if (!once) return parse_error::duplicate_header;
        msg.to.text = h.value;
        return find_tag(h.value, msg.to.tag);
    case header_id::contact:
        if (msg.has_contact) return parse_error::none;
        msg.has_contact = true;
        msg.first_contact.text = h.value;
        return parse_error::none;
    case header_id::route:
        if (msg.has_route) return parse_error::none;
        {
            std::string_view rest;
            msg.has_route = true;
            return detail::decode_name_addr(h.value, msg.top_route, &rest);
        }
    case header_id::max_forwards:
        if (!once) return parse_error::duplicate_header;
        msg.has_max_forwards = true;
        return parse_uint(h.value, 255, msg.max_forwards);
    case header_id::content_length:
        // Twice is refused outright: two lengths are how requests get smuggled on a stream.
        if (!once) return parse_error::duplicate_header;
        msg.has_content_length = true;
        return parse_uint(h.value, 0xffffffffu, msg.content_length);
    case header_id::content_type:  // decoded on demand: content_type()
        return once ? parse_error::none : parse_error::duplicate_header;
    case header_id::expires:
        if (!once) return parse_error::duplicate_header;
        msg.has_expires = true;
        return parse_uint(h.value, 0xffffffffu, msg.expires);
    default:
        return parse_error::none;
    }
}

constexpr header_id mandatory[] = {header_id::via, header_id::from, header_id::to,
                                   header_id::call_id, header_id::cseq};

// The ids decode_header has a case for (every id is below 128). Most headers of a message have
// none; a bit test spares them the switch's indirect jump.
constexpr std::array<std::uint64_t, 2> decoded_ids = [] {
    std::array<std::uint64_t, 2> bits{};
    for (header_id id : {header_id::via, header_id::call_id, header_id::cseq, header_id::from, header_id::to,
                         header_id::contact, header_id::route, header_id::max_forwards, header_id::content_length,
                         header_id::content_type, header_id::expires}) {
        const auto i = static_cast<unsigned>(id);
        bits[i >> 6] |= std::uint64_t{1} << (i & 63);
    }
    return bits;
}();
static_assert(header_id_count <= 128, "decoded_ids and message::present_ hold 128 ids");

} // namespace

parse_result parse(std::string_view buffer, message& msg, std::span<header> slots,
                   const parse_options& options) noexcept {
    msg.clear();
    const char* const buf = buffer.data();
    std::size_t len = buffer.size();

    // Keep-alives (RFC 5626 §4.4.1) and CRLFs before a start line (RFC 3261 §7.5).
    std::size_t skip = 0;
    while (len - skip >= 2 && buf[skip] == '\r' && buf[skip + 1] == '\n') {
        if (options.stream) {
            parse_result r;
            if (len >= 4 && buf[2] == '\r' && buf[3] == '\n') {
                msg.kind = message_kind::keepalive_ping;
                r.consumed = 4;
            } else if (len == 2 || (len == 3 && buf[2] == '\r')) {
                r.status = parse_status::incomplete;  // may be the first half of a ping
                return r;
            } else {
                msg.kind = message_kind::keepalive_pong;
                r.consumed = 2;
            }
            r.status = parse_status::complete;
            return r;
        }
        skip += 2;
    }
    if (skip == len && skip > 0) {
        msg.kind = skip >= 4 ? message_kind::keepalive_ping : message_kind::keepalive_pong;
        parse_result r;
        r.status = parse_status::complete;
        r.consumed = len;
        return r;
    }
    if (len == 0) {
        parse_result r;
        if (options.stream) r.status = parse_status::incomplete;
        else r = fail(parse_error::missing_end_of_headers, 0);
        return r;
    }

    const implementation& impl = options.isa ? *options.isa : active_implementation();
    const std::size_t limit = std::min(len - skip, options.max_message_bytes);
    detail::scan_output so;
    so.slots = slots.data();
    so.capacity = slots.size();
    impl.scan(buf + skip, limit, so);
    if (so.status == detail::scan_status::error) return fail(so.error, skip + so.error_offset);
    if (so.status == detail::scan_status::incomplete) {
        if (len - skip >= options.max_message_bytes) return fail(parse_error::message_too_large, skip);
        if (!options.stream) return fail(parse_error::missing_end_of_headers, len);
        parse_result r;
        r.status = parse_status::incomplete;
        return r;
    }

    const char* const start = buf + skip;
    msg.headers = slots.first(so.count);
    msg.header_bytes = skip + so.headers_end;
    msg.start_line = std::string_view(start, so.start_line_end);

    // Start line.
    const parse_error sl = (msg.start_line.size() >= 4 && iequals(lex::slice(msg.start_line, 0, 4), "SIP/"))
                               ? parse_status_line(msg.start_line, msg)
                               : parse_request_line(msg.start_line, msg);
    if (sl != parse_error::none) {
        msg.kind = message_kind::none;
        return fail(sl, skip);
    }

    // One pass: each header trimmed, classified, marked present and, until the first fault,
    // decoded. After a fault the rest are still classified, so that it leaves them findable (a 400
    // echoes Via, From, To, Call-ID and CSeq).
    parse_result fault;
    bool faulted = false;
    // The bytes at or below ' ' a scanned header can hold are SP, HT and a folded line's CR and LF,
    // all blanks to lex::trim: one compare a side says whether there is anything to trim.
    const auto maybe_blank = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
    for (header& h : msg.headers) {
        // A name never starts with a blank (that line would continue the last header), so
        // trimming it is trimming its end.
        if (!h.name.empty() && maybe_blank(h.name.back())) [[unlikely]] h.name = lex::trim(h.name);
        // The usual "Name: value" has one space before the value, which the scanner skipped, and
        // nothing after it.
        if (const std::string_view v = h.value; !v.empty() && (maybe_blank(v.front()) || maybe_blank(v.back())))
            [[unlikely]] h.value = lex::trim(v);
        h.id = classify_header_name(h.name, static_cast<std::size_t>(buf + len - h.name.data()));
        // The presence bit, before it is set, says whether this is the first header of its kind.
        const auto i = static_cast<unsigned>(h.id);
        const std::uint64_t bit = std::uint64_t{1} << (i & 63);
        const bool once = (msg.present_[i >> 6] & bit) == 0;
        msg.present_[i >> 6] |= bit;
        if (faulted) [[unlikely]] continue;
        // A known name matched letter for letter, so only unknown names need the token check.
        if (h.id == header_id::other && !lex::all_of(h.name, lex::c_token, false)) [[unlikely]] {
            fault = fail(parse_error::invalid_header_name, static_cast<std::size_t>(h.name.data() - buf));
            faulted = true;
        } else if (const parse_error e = (decoded_ids[i >> 6] & bit) != 0 ? decode_header(h, msg, once) : parse_error::none;
                   e != parse_error::none) [[unlikely]] {
            fault = fail(e, static_cast<std::size_t>(h.value.data() - buf), h.id);
            faulted = true;
        }
    }
    if (faulted) return fault;
    for (header_id id : mandatory)
        if (!msg.has(id)) return fail(parse_error::missing_header, skip, id);
    // A known method is its spelling, so the ids compare for the texts; other methods by text.
    if (msg.is_request() && (msg.method != method::other ? msg.cseq.method != msg.method
                                                         : msg.cseq.method_text != msg.method_text))
        return fail(parse_error::cseq_method_mismatch, skip, header_id::cseq);

    // Body (RFC 3261 §18.3).
    parse_result r;
    r.status = parse_status::complete;
    if (msg.has_content_length) {
        const std::size_t need = msg.header_bytes + msg.content_length;
        if (need > options.max_message_bytes + skip)
            return fail(parse_error::message_too_large, skip, header_id::content_length);
        if (need > len) {
            if (!options.stream) return fail(parse_error::body_truncated, len, header_id::content_length);
            msg.clear();
            r.status = parse_status::incomplete;
            return r;
        }
        msg.body = std::string_view(buf + msg.header_bytes, msg.content_length);
        r.consumed = need;
    } else {
        if (options.stream) return fail(parse_error::missing_content_length, skip, header_id::content_length);
        msg.body = std::string_view(buf + msg.header_bytes, len - msg.header_bytes);
        r.consumed = len;
    }
    return r;
}

parse_result parse_strict(std::string_view buffer, message& msg, std::span<header> slots,
                          const parse_options& options) noexcept {
    const parse_result r = parse(buffer, msg, slots, options);
    if (!r.ok() || (!msg.is_request() && !msg.is_response())) return r;
    const auto fault = [&](const auto& value, header_id id) {
        return fail(value.error(), static_cast<std::size_t>(value.text.data() - buffer.data()), id);
    };
    if (!msg.from.get()) return fault(msg.from, header_id::from);
    if (!msg.to.get()) return fault(msg.to, header_id::to);
    if (msg.has_contact && !msg.first_contact.get()) return fault(msg.first_contact, header_id::contact);
    if (const header* h = msg.find(header_id::content_type)) {
        std::string_view type;
        if (const parse_error e = parse_media_type(h->value, type); e != parse_error::none)
            return fail(e, static_cast<std::size_t>(h->value.data() - buffer.data()), header_id::content_type);
    }
    return r;
}

std::string_view format_reason(const parse_result& r, std::span<char> out) noexcept {
    core::text_writer w(out);
    const auto put = [&](std::string_view s) { w.put_clipped(s); };  // a reason too long is cut, not lost
    const std::string_view name = header_name(r.header);
    switch (r.error) {
    case parse_error::missing_header:
        put("Missing ");
        put(name);
        put(" header");
        break;
    case parse_error::duplicate_header:
        put("Duplicate ");
        put(name);
        put(" header");
        break;
    default:
        if (r.header != header_id::other && r.error != parse_error::message_too_large &&
            r.error != parse_error::body_truncated && r.error != parse_error::missing_content_length &&
            r.error != parse_error::cseq_method_mismatch) {
            put("Invalid ");
            put(name);
            put(" header: ");
        }
        put(to_reason_phrase(r.error));
    }
    return w.view();
}

} // namespace sipfast::sip
