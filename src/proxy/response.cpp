// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/response.hpp"

#include <algorithm>
#include <array>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

namespace {

bool has_tag(std::string_view to_value) noexcept {
    // The To header may not have decoded (that is why we may be answering); look for the parameter.
    for (std::size_t i = 0; i + 4 <= to_value.size(); ++i)
        if (to_value[i] == ';') {
            std::size_t j = i + 1;
            while (j < to_value.size() && (to_value[j] == ' ' || to_value[j] == '\t')) ++j;
            if (to_value.size() - j >= 3 && sip::iequals(to_value.substr(j, 3), "tag")) return true;
        }
    return false;
}

} // namespace

answer_tag::answer_tag(std::string_view call_id) noexcept {
    core::text_writer(buf_).hex(core::call_id_hash(call_id) >> 24, buf_.size());  // the hash's top ten digits
}

via_marks via_marks::of(const sip::via& v, const net_address& source, bool stream) noexcept {
    const bool fill = v.rport == sip::rport_state::empty;
    const bool both = fill || (stream && v.rport == sip::rport_state::absent);
    via_marks m;
    m.at = fill ? v.params.find("rport").name : std::string_view(v.text.data() + v.text.size(), 0);
    m.received = v.received.empty() && (both || !same_ip(v.host, source));
    m.rport = both;
    return m;
}

void via_marks::write(core::text_writer& w, const net_address& source) const noexcept {
    std::string_view sep = at.empty() ? ";" : "";  // an rport being filled in has its ';' already
    if (received) {
        std::array<char, 48> ip{};
        w.put(sep).put("received=").put(format_host(source, ip));
        sep = ";";
    }
    if (rport) w.put(sep).put("rport=").number(source.port);
}

std::size_t write_response(const sip::message& req, int status, std::string_view reason,
                           std::string_view to_tag, std::string_view extra_lines, std::span<char> out,
                           bool skip_first_via, const net_address* source, std::string_view vias) noexcept {
    core::text_writer w(out);
    w.put("SIP/2.0 ").number(status, 3).put(' ');
    // A reason phrase is text on one line: anything else from a fault description is dropped.
    for (char c : reason)
        if (c >= 0x20 && c != 0x7f) w.put(c);
    w.put("\r\n");
    bool skip = skip_first_via;
    w.put(vias);
    for (const sip::header& h : req.headers) {
        if (h.id != sip::header_id::via || !vias.empty()) continue;
        if (skip) {
            skip = false;
            continue;
        }
        w.put("Via: ");
        const sip::via& top = req.top_via;
        const bool is_top = h.value.data() <= top.text.data() && top.text.data() < h.value.data() + h.value.size();
        if (source != nullptr && is_top && !top.text.empty()) {
            // Not `stream`: this answer is sent back the way the request came, not routed by the marks.
            const via_marks marks = via_marks::of(top, *source, false);
            const auto from = static_cast<std::size_t>(marks.at.data() - h.value.data());
            w.put(h.value.substr(0, from));
            marks.write(w, *source);
            w.put(h.value.substr(from + marks.at.size()));
        } else {
            w.put(h.value);
        }
        w.put("\r\n");
    }
    const auto copy = [&](sip::header_id id, std::string_view name) {
        if (const sip::header* h = req.find(id)) {
            w.put(name);
            w.put(h->value);
            if (id == sip::header_id::to && status > 100 && !to_tag.empty() && !has_tag(h->value)) {
                w.put(";tag=");
                w.put(to_tag);
            }
            w.put("\r\n");
        }
    };
    copy(sip::header_id::from, "From: ");
    copy(sip::header_id::to, "To: ");
    copy(sip::header_id::call_id, "Call-ID: ");
    copy(sip::header_id::cseq, "CSeq: ");
    w.put(extra_lines);
    w.put("Content-Length: 0\r\n\r\n");
    return w.ok() ? w.size() : 0;
}

std::size_t write_error_response(const sip::message& m, const sip::parse_result& r, std::string_view to_tag,
                                 std::span<char> out, int& status) noexcept {
    // A request that failed past its framing still has its headers indexed: answer it with the
    // fault as reason phrase (never an ACK, never without a Via to answer along).
    const std::string_view line = m.start_line;
    const bool request = !line.empty() && !sip::iequals(line.substr(0, std::min<std::size_t>(4, line.size())), "SIP/");
    if (!request || line.substr(0, 4) == "ACK " || m.find(sip::header_id::via) == nullptr) return 0;
    std::array<char, 128> reason{};
    status = sip::to_status_code(r.error);
    return write_response(m, status, sip::format_reason(r, reason), to_tag, {}, out);
}

} // namespace sipfast::proxy
