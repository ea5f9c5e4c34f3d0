// SPDX-License-Identifier: Apache-2.0
// Parses one input with every supported scanner and reports the first difference. Used by the
// libFuzzer target and by the per-implementation unit test.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <string_view>

#include "sipfast/sip/isa.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::test {

struct isa_run {
    std::array<sip::header, 64> slots{};
    sip::message msg;
    sip::parse_result result;
};

inline std::string describe(std::string_view what, std::string_view a, std::string_view b) {
    std::string s(what);
    s += ": '";
    s += a;
    s += "' vs '";
    s += b;
    s += "'";
    return s;
}

// Views must be equal as positions in the buffer, not only as text.
inline bool same_view(std::string_view a, std::string_view b) {
    return a.data() == b.data() && a.size() == b.size();
}

/// "" when both runs agree, else what differs.
inline std::string compare_runs(const isa_run& a, const isa_run& b) {
    if (a.result.status != b.result.status) return "status";
    if (a.result.error != b.result.error) return describe("error", sip::to_string(a.result.error), sip::to_string(b.result.error));
    if (a.result.header != b.result.header) return "error header";
    if (a.result.consumed != b.result.consumed) return "consumed";
    if (a.result.offset != b.result.offset) return "error offset";
    const sip::message& x = a.msg;
    const sip::message& y = b.msg;
    if (x.kind != y.kind) return "kind";
    if (x.headers.size() != y.headers.size()) return "header count";
    for (std::size_t i = 0; i < x.headers.size(); ++i) {
        if (!same_view(x.headers[i].name, y.headers[i].name)) return describe("header name", x.headers[i].name, y.headers[i].name);
        if (!same_view(x.headers[i].value, y.headers[i].value)) return describe("header value", x.headers[i].value, y.headers[i].value);
        if (x.headers[i].id != y.headers[i].id) return "header id";
    }
    if (!same_view(x.start_line, y.start_line)) return "start line";
    if (!same_view(x.request_uri.text, y.request_uri.text)) return "request uri";
    if (x.status_code != y.status_code) return "status code";
    if (!same_view(x.top_via.branch, y.top_via.branch)) return "via branch";
    if (!same_view(x.top_via.host, y.top_via.host)) return "via host";
    if (!same_view(x.call_id, y.call_id)) return "call-id";
    if (x.cseq.number != y.cseq.number) return "cseq";
    if (!same_view(x.from.tag, y.from.tag) || !same_view(x.to.tag, y.to.tag)) return "tags";
    if (!same_view(x.body, y.body)) return "body";
    if (x.header_bytes != y.header_bytes) return "header bytes";
    return {};
}

/// Parses `input` with every supported implementation in the given framing; returns "" when all
/// agree with scalar, else "<isa>: <difference>".
inline std::string compare_isas(std::string_view input, bool stream) {
    static isa_run reference, other;
    sip::parse_options opt;
    opt.stream = stream;
    opt.isa = sip::find_implementation("scalar");
    reference.result = sip::parse(input, reference.msg, reference.slots, opt);
    // The tag parse finds without decoding (find_tag) is the one the full decode finds.
    if (reference.result.ok())
        for (const sip::party* p : {&reference.msg.from, &reference.msg.to})
            if (const sip::name_addr* d = p->get(); d != nullptr && !same_view(d->tag, p->tag))
                return describe("scalar: tag found at parse against decoded", p->tag, d->tag);
    for (const sip::implementation* impl : sip::implementations()) {
        if (!impl->supported() || impl->name == "scalar") continue;
        opt.isa = impl;
        other.result = sip::parse(input, other.msg, other.slots, opt);
        std::string diff = compare_runs(reference, other);
        if (!diff.empty()) return std::string(impl->name) + ": " + diff;
    }
    return {};
}

} // namespace sipfast::test
