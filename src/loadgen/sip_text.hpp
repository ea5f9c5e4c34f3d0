// SPDX-License-Identifier: Apache-2.0
// What both sides of a call write: the SDP bodies, responses built from a request, and the hashes
// and hex the identifiers are made of. Private to src/loadgen.
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::loadgen::detail {

/// The minimal offer and answer: one audio stream, PCMU (what SIPp's built-in scenarios carry).
inline constexpr std::string_view sdp_minimal =
    "v=0\r\n"
    "o=loadgen 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

/// A VoLTE offer's size and shape (the seed INVITEs in tests/corpus/seed are 1.2-1.3 KB): AMR-WB with its modes, telephone events, preconditions
/// (3GPP TS 24.229), bandwidth lines.
inline constexpr std::string_view sdp_ims =
    "v=0\r\n"
    "o=- 1227221052 1227221052 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "b=AS:80\r\n"
    "b=RS:1000\r\n"
    "b=RR:3000\r\n"
    "t=0 0\r\n"
    "m=audio 31000 RTP/AVP 116 107 111\r\n"
    "a=rtpmap:116 AMR-WB/16000/1\r\n"
    "a=fmtp:116 mode-change-capability=2;max-red=0\r\n"
    "a=rtpmap:107 AMR-WB/16000/1\r\n"
    "a=fmtp:107 octet-align=1;mode-change-capability=2;max-red=0\r\n"
    "a=rtpmap:111 telephone-event/16000\r\n"
    "a=fmtp:111 0-15\r\n"
    "a=ptime:20\r\n"
    "a=maxptime:240\r\n"
    "a=sendrecv\r\n"
    "a=curr:qos local none\r\n"
    "a=curr:qos remote none\r\n"
    "a=des:qos mandatory local sendrecv\r\n"
    "a=des:qos optional remote sendrecv\r\n";

/// The headers a VoLTE INVITE carries besides the ones every call has (3GPP TS 24.229).
inline constexpr std::string_view ims_invite_headers =
    "P-Asserted-Identity: <sip:+15550100100@ims.mnc001.mcc001.3gppnetwork.org>\r\n"
    "P-Access-Network-Info: 3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=0010100010019B01\r\n"
    "P-Charging-Vector: icid-value=\"ims.mnc001.mcc001.3gppnetwork.org-1700000000-123456\";orig-ioi=ims.mnc001.mcc001.3gppnetwork.org\r\n"
    "P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"
    "Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n"
    "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, UPDATE, INFO, REFER, NOTIFY, MESSAGE, PRACK\r\n"
    "Supported: 100rel, histinfo, join, norefersub, precondition, replaces, timer, sec-agree\r\n"
    "Session-Expires: 1800\r\n"
    "Min-SE: 90\r\n"
    "User-Agent: sipfast-loadgen\r\n";

/// The wait before resending a non-INVITE request, or a 2xx awaiting its ACK, the `retransmits`-th
/// time: T1 doubling, capped at T2 (RFC 3261 §17.1.2.2 Timer E, §13.3.1.4 Timer G).
[[nodiscard]] inline std::uint64_t doubling_to_t2(std::uint64_t t1_ns, std::uint64_t t2_ns, unsigned retransmits) noexcept {
    const std::uint64_t doubled = t1_ns << (retransmits < 30 ? retransmits : 30);
    return doubled < t2_ns ? doubled : t2_ns;
}

/// FNV-1a, 64 bits: the UAS's key of a Call-ID (never 0, which marks a free entry).
[[nodiscard]] inline std::uint64_t hash_call_id(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h == 0 ? 1 : h;
}

/// The value of exactly `s.size()` lower-case hex digits; false for anything else.
[[nodiscard]] inline bool parse_hex(std::string_view s, std::uint32_t& out) noexcept {
    std::uint32_t v = 0;
    for (const char c : s) {
        unsigned d;
        if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
        else return false;
        v = (v << 4) | d;
    }
    out = v;
    return true;
}

/// A response to `req` (RFC 3261 §8.2.6.2): its Vias, From, Call-ID and CSeq as they came, its To
/// with `to_tag` added when it had none, its Record-Routes when `record_route` (18x and 2xx to an
/// INVITE, §12.1.1), then `contact` (a URI, none when empty) and `sdp` as the body.
inline void write_response(core::text_writer& w, const sip::message& req, int status, std::string_view reason,
                           std::string_view to_tag, bool record_route, std::string_view contact,
                           std::string_view sdp) noexcept {
    w.put("SIP/2.0 ").number(status).put(' ').put(reason).put("\r\n");
    for (const sip::header& h : req.headers) {
        switch (h.id) {
        case sip::header_id::via: w.put("Via: ").put(h.value).put("\r\n"); break;
        case sip::header_id::record_route:
            if (record_route) w.put("Record-Route: ").put(h.value).put("\r\n");
            break;
        case sip::header_id::from: w.put("From: ").put(h.value).put("\r\n"); break;
        case sip::header_id::to:
            w.put("To: ").put(h.value);
            if (req.to.tag.empty() && !to_tag.empty()) w.put(";tag=").put(to_tag);
            w.put("\r\n");
            break;
        case sip::header_id::call_id: w.put("Call-ID: ").put(h.value).put("\r\n"); break;
        case sip::header_id::cseq: w.put("CSeq: ").put(h.value).put("\r\n"); break;
        default: break;
        }
    }
    if (!contact.empty()) w.put("Contact: <").put(contact).put(">\r\n");
    if (!sdp.empty()) w.put("Content-Type: application/sdp\r\n");
    w.put("Content-Length: ").number(sdp.size()).put("\r\n\r\n").put(sdp);
}

} // namespace sipfast::loadgen::detail
