// SPDX-License-Identifier: Apache-2.0
// The messages pipeline_fuzz sends: templates of real requests and responses whose fields are
// chosen by the fuzz input from values that matter to the proxy (our address, a branch it made, an
// empty tag, a nonce it issued), with fuzz bytes spliced into one place of the text. Answers and
// follow-ups are built from what the proxy sent, read back with the library's own parser.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "sipfast/auth/digest.hpp"
#include "sipfast/core/net_address.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::fuzz {

/// A message as a start line, header lines and a body; text() adds Content-Length unless told
/// not to.
struct message_text {
    std::string start;
    std::vector<std::string> headers;
    std::string body;
    bool content_length = true;

    void add(std::string_view name, std::string_view value) {
        headers.push_back(std::string(name) + ": " + std::string(value));
    }
    [[nodiscard]] std::string text() const {
        std::string s = start + "\r\n";
        for (const std::string& h : headers) s += h + "\r\n";
        if (content_length) s += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        return s + "\r\n" + body;
    }
};

/// One of `options`. The first is the usual one: an input that has run out of bytes reads zeros
/// (FuzzedDataProvider), so short inputs follow the common path and mutations branch off it.
template <class T>
T one_of(FuzzedDataProvider& in, std::initializer_list<T> options) {
    return options.begin()[in.ConsumeIntegralInRange<std::size_t>(0, options.size() - 1)];
}

/// A short fuzzed string: the fuzz bytes somewhere a template expects a value.
inline std::string fuzz_bytes(FuzzedDataProvider& in) { return in.ConsumeRandomLengthString(64); }

/// Fuzz bytes spliced into the message, one time in four: a header's value replaced, a header
/// added, the body replaced, a line cut short, or Content-Length left out.
inline void splice(FuzzedDataProvider& in, message_text& m) {
    if (in.ConsumeIntegralInRange<int>(0, 3) != 3) return;
    const std::size_t at = m.headers.empty() ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, m.headers.size() - 1);
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
        if (!m.headers.empty()) {
            std::string& h = m.headers[at];
            const std::size_t colon = h.find(':');
            h = h.substr(0, colon == std::string::npos ? 0 : colon + 2) + fuzz_bytes(in);
        }
        break;
    case 1: m.headers.insert(m.headers.begin() + static_cast<std::ptrdiff_t>(at), fuzz_bytes(in)); break;
    case 2: m.body = in.ConsumeRandomLengthString(1024); break;
    case 3:
        if (!m.headers.empty()) {
            std::string& h = m.headers[at];
            h.resize(in.ConsumeIntegralInRange<std::size_t>(0, h.size()));
        }
        break;
    case 4: m.start = m.start.substr(0, in.ConsumeIntegralInRange<std::size_t>(0, m.start.size())) + fuzz_bytes(in); break;
    default: m.content_length = false; break;
    }
}

/// "198.18.0.9:5070", "[2001:db8::9]:5070".
inline std::string host_port(const core::net_address& a) {
    std::array<char, 48> buf{};
    return std::string(core::format_host(a, buf)) + ":" + std::to_string(a.port);
}

/// A message the proxy sent, parsed by the library (views into `text`, which it owns).
struct reading {
    std::string text;
    std::vector<sip::header> slots = std::vector<sip::header>(sip::default_header_slots);
    sip::message msg;
    bool ok = false;

    // Strict: the agents read From, To and Contact, which the parser leaves to first use.
    explicit reading(std::string_view t) : text(t) { ok = sip::parse_strict(text, msg, slots).ok(); }
    reading(const reading&) = delete;
    reading& operator=(const reading&) = delete;

    /// Every header line of the kind `id`, in order, as "Name: value".
    [[nodiscard]] std::vector<std::string> lines(sip::header_id id) const {
        std::vector<std::string> v;
        for (const sip::header& h : msg.headers)
            if (h.id == id) v.push_back(std::string(h.name) + ": " + std::string(h.value));
        return v;
    }
    /// The first value of a header of kind `id`, empty when absent.
    [[nodiscard]] std::string_view value(sip::header_id id) const {
        for (const sip::header& h : msg.headers)
            if (h.id == id) return h.value;
        return {};
    }
};

/// The To (or From) value without its tag parameter.
inline std::string without_tag(std::string_view value) {
    std::string v(value);
    const std::size_t at = v.find(";tag=");
    if (at == std::string::npos) return v;
    const std::size_t end = v.find(';', at + 1);
    return v.erase(at, end == std::string::npos ? std::string::npos : end - at);
}

inline std::string_view transport_name(sip::transport tp) { return tp == sip::transport::tcp ? "TCP" : "UDP"; }

/// Our Via branch (one of a few, so retransmissions and CANCELs match) or a malformed one: empty,
/// without the magic cookie, absent.
inline std::string via_of(FuzzedDataProvider& in, std::string_view sent_by, sip::transport tp) {
    static constexpr std::array<std::string_view, 9> branches{";branch=z9hG4bKa1", ";branch=z9hG4bKa2",
                                                              ";branch=z9hG4bKa3", ";branch=z9hG4bK",
                                                              ";branch=",          "",
                                                              ";branch=1234",      ";branch=z9hG4bKsf0000.t0000000000000000",
                                                              ";branch=z9hG4bKa1;received=203.0.113.77"};
    std::string v = "SIP/2.0/" + std::string(transport_name(tp)) + " ";
    v += one_of<std::string_view>(in, {sent_by, sent_by, "host.invalid", "198.18.0.1:5060"});
    v += branches[in.ConsumeIntegralInRange<std::size_t>(0, branches.size() - 1)];
    if (in.ConsumeBool()) v += ";rport";
    return v;
}

/// A request from `sent_by` (host:port) of one of the methods and targets the proxy treats apart.
inline message_text request_template(FuzzedDataProvider& in, std::string_view sent_by, sip::transport tp) {
    const std::string_view method = one_of<std::string_view>(
        in, {"INVITE", "INVITE", "REGISTER", "REGISTER", "ACK", "CANCEL", "BYE", "OPTIONS", "MESSAGE", "SUBSCRIBE",
             "NOTIFY", "INFO", "UPDATE", "PRACK", "REFER", "PUBLISH", "FOO"});
    const bool reg = method == "REGISTER";
    const std::string_view user = one_of<std::string_view>(in, {"bob", "alice", "carol", "dave", "1012", "+15551234", ""});
    const std::string_view domain =
        one_of<std::string_view>(in, {"example.com", "example.com", "example.org", "trunk.example.net", "203.0.113.7:5080",
                                      "198.18.0.1", "[2001:db8::1]", "127.0.0.1", "198.18.0.40"});
    std::string ruri;
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: ruri = reg ? "sip:" + std::string(domain) : "sip:" + std::string(user) + "@" + std::string(domain); break;
    case 1: ruri = "sips:" + std::string(user) + "@" + std::string(domain); break;
    case 2: ruri = "tel:" + std::string(user.empty() ? "1012" : user); break;
    case 3: ruri = "sip:" + std::string(user) + "@" + std::string(domain) + ";transport=tcp;lr"; break;
    case 4: ruri = fuzz_bytes(in); break;
    default: ruri = "sip:" + std::string(user) + "@" + std::string(domain); break;
    }
    message_text m;
    m.start = std::string(method) + " " + ruri + " SIP/2.0";
    m.add("Via", via_of(in, sent_by, tp));
    if (in.ConsumeIntegralInRange<int>(0, 7) == 7) m.add("Via", "SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKdeep");
    const std::string_view mf = one_of<std::string_view>(in, {"70", "70", "1", "0", "", "abc"});
    if (!mf.empty()) m.add("Max-Forwards", mf);
    const std::string_view route = one_of<std::string_view>(
        in, {"", "", "<sip:198.18.0.1;lr>", "<sip:198.18.0.1:5060;lr>,<sip:203.0.113.9;lr>", "<sip:203.0.113.9;lr>",
             "<sip:198.18.0.1>", "<sip:[2001:db8::1];lr;transport=tcp>", "<sip:198.18.0.1;lr>,<sip:[2001:db8::1];lr>",
             "<sip:198.18.0.1;lr;sfd=0000000000000000>"});
    if (!route.empty()) m.add("Route", route);
    const std::string from_user = std::string(one_of<std::string_view>(in, {"alice", "bob", "dave", "carol"}));
    const std::string from_domain = from_user == "dave" ? "example.org" : "example.com";
    const std::string aor = "<sip:" + (reg ? std::string(user) : from_user) + "@" + (reg ? std::string(domain) : from_domain) + ">";
    const std::string_view from_tag = one_of<std::string_view>(in, {";tag=a1", ";tag=a1", ";tag=", ""});
    m.add("From", (reg ? aor : "Alice <sip:" + from_user + "@" + from_domain + ">") + std::string(from_tag));
    const std::string_view to_tag = one_of<std::string_view>(in, {"", "", ";tag=b1", ";tag=", ";tag=t9"});
    m.add("To", (reg ? aor : "<sip:" + std::string(user) + "@" + std::string(domain) + ">") + std::string(to_tag));
    const std::string call_id = in.ConsumeIntegralInRange<int>(0, 7) == 7
                                    ? fuzz_bytes(in)
                                    : std::string(one_of<std::string_view>(in, {"c1@h", "c2@h", "c3@h", "c4@h"}));
    m.add("Call-ID", call_id);
    const std::uint32_t cseq = one_of<std::uint32_t>(in, {1, 1, 2, 3, 0, 4294967295u});
    m.add("CSeq", std::to_string(cseq) + " " + std::string(method));
    const std::string contact_user = reg ? std::string(user) : from_user;
    switch (in.ConsumeIntegralInRange<int>(0, 6)) {
    case 6: break;
    case 1: m.add("Contact", "*"); break;
    case 2:
        m.add("Contact", "<sip:" + contact_user + "@" + std::string(sent_by) + ";transport=tcp>;expires=0");
        break;
    case 3:
        m.add("Contact", "<sip:" + contact_user + "@" + std::string(sent_by) +
                             ">;q=0.5;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\";reg-id=1");
        break;
    case 4:
        m.add("Contact", "<sip:" + contact_user + "@" + std::string(sent_by) + ">;q=0.9, <sip:" + contact_user +
                             "@198.18.0.21:5064>;q=0.1;expires=30");
        break;
    default: m.add("Contact", "<sip:" + contact_user + "@" + std::string(sent_by) + ">"); break;
    }
    if (reg) {
        const std::string_view e = one_of<std::string_view>(in, {"", "0", "60", "3600", "1"});
        if (!e.empty()) m.add("Expires", e);
    }
    const auto extras = in.ConsumeIntegral<std::uint8_t>();
    if ((extras & 1) != 0) {
        const std::string_view tag = one_of<std::string_view>(in, {"foo", "path", "100rel, bar", "sec-agree"});
        m.add("Proxy-Require", tag);
        if (tag == "sec-agree")
            m.add("Security-Client", "ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4, ipsec-3gpp;alg=hmac-md5-96");
    }
    if ((extras & 2) != 0) {
        m.add("Supported", "path, outbound");
        m.add("Path", "<sip:edge.example.com;lr>");
    }
    if ((extras & 4) != 0) {
        m.add("Content-Type", "application/sdp");
        m.body = "v=0\r\no=- 1 1 IN IP4 198.18.0.9\r\ns=-\r\nc=IN IP4 198.18.0.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    }
    if ((extras & 8) != 0) m.add("Record-Route", "<sip:upstream.example;lr>");
    if ((extras & 16) != 0)
        m.add(one_of<std::string_view>(in, {"Authorization", "Proxy-Authorization"}),
              "Digest username=\"bob\", realm=\"example.com\", nonce=\"00\", uri=\"sip:example.com\", response=\"00\"");
    if ((extras & 32) != 0) {
        m.add("Event", "presence");
        m.add("Subscription-State", "active;expires=60");
    }
    if ((extras & 64) != 0) {
        const std::string_view tag = one_of<std::string_view>(in, {"100rel", "path", "gruu", "sec-agree, 100rel"});
        m.add("Require", tag);
        if (tag != "100rel" && tag != "path" && tag != "gruu")
            m.add("Security-Verify", one_of<std::string_view>(in, {"ipsec-3gpp;alg=hmac-md5-96;sfv=0123456789abcdef",
                                                                   "ipsec-3gpp;sfv=", ";sfv=0123456789abcdef0"}));
    }
    if ((extras & 128) != 0) m.body.append(in.ConsumeIntegralInRange<std::size_t>(0, 3000), 'x');  // past UDP's 1300
    return m;
}

/// A callee's answer to `request` (as the proxy sent it to `callee`): its Vias, From, To (with a
/// tag), Call-ID and CSeq, a status that matters to the response context, and what comes with it.
inline message_text response_template(FuzzedDataProvider& in, std::string_view request, const core::net_address& callee) {
    const reading r(request);
    const int status = in.ConsumeIntegralInRange<int>(0, 15) == 15
                           ? in.ConsumeIntegralInRange<int>(0, 999)
                           : one_of<int>(in, {200, 180, 100, 183, 200, 202, 302, 401, 404, 407, 408, 415, 420, 480, 484,
                                              486, 487, 488, 500, 503, 600, 603});
    message_text m;
    m.start = "SIP/2.0 " + std::to_string(status) + " " + std::string(one_of<std::string_view>(in, {"Answer", "", "OK"}));
    std::vector<std::string> vias = r.lines(sip::header_id::via);
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 7:
        if (!vias.empty()) vias.erase(vias.begin());  // our Via gone: not ours
        break;
    case 6:
        if (vias.size() > 1) vias.resize(1);
        break;
    default: break;
    }
    for (const std::string& v : vias) m.headers.push_back(v);
    for (const std::string& h : r.lines(sip::header_id::from)) m.headers.push_back(h);
    const std::string_view tag = one_of<std::string_view>(in, {";tag=b1", ";tag=b1", ";tag=b2", "", ";tag="});
    std::string to = std::string(r.value(sip::header_id::to));
    if (to.find(";tag=") == std::string::npos) to += tag;
    m.add("To", to);
    for (const std::string& h : r.lines(sip::header_id::call_id)) m.headers.push_back(h);
    for (const std::string& h : r.lines(sip::header_id::cseq)) m.headers.push_back(h);
    const std::string who = host_port(callee);
    if ((status >= 101 && status < 300) || in.ConsumeIntegralInRange<int>(0, 3) == 0) {
        m.add("Contact", "<sip:bob@" + who + ">");
        if (!in.ConsumeBool())
            for (const std::string& h : r.lines(sip::header_id::record_route)) m.headers.push_back(h);
    }
    if (status >= 300 && status < 400) m.add("Contact", "<sip:bob@203.0.113.8>, <sip:bob@198.18.0.21:5064>");
    if (status == 401) m.add("WWW-Authenticate", "Digest realm=\"far.example\", nonce=\"f1\", qop=\"auth\"");
    if (status == 407) m.add("Proxy-Authenticate", "Digest realm=\"far.example\", nonce=\"f2\", algorithm=MD5");
    if (status == 183 && in.ConsumeBool()) {
        m.add("Require", "100rel");
        m.add("RSeq", "1");
    }
    if (status == 503) m.add("Retry-After", "5");
    if (status == 200 && in.ConsumeBool()) {
        m.add("Content-Type", "application/sdp");
        m.body = "v=0\r\no=- 2 2 IN IP4 198.18.0.20\r\ns=-\r\nc=IN IP4 198.18.0.20\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
    }
    return m;
}

/// The caller's next request after `answer` (as the proxy sent it to `caller`): ACK of a 2xx (new
/// branch, through the Record-Route) or of a failure (same branch), BYE and other requests within
/// the dialog, or a CANCEL of the INVITE.
inline message_text caller_follow_up(FuzzedDataProvider& in, std::string_view answer, const core::net_address& caller) {
    const reading r(answer);
    message_text m;
    if (!r.ok) {
        m.start = "ACK sip:bob@example.com SIP/2.0";
        return m;
    }
    const std::string target =
        r.msg.has_contact && !r.msg.first_contact.get()->star ? std::string(r.msg.first_contact.get()->addr.address.text)
                                                      : std::string(r.msg.to.get()->address.text);
    const std::uint32_t n = r.msg.cseq.number;
    const bool success = r.msg.status_code >= 200 && r.msg.status_code < 300;
    const std::string_view what = one_of<std::string_view>(in, {"ACK", "ACK", "BYE", "BYE", "CANCEL", "INFO", "INVITE", "UPDATE"});
    const bool same_transaction = what == "CANCEL" || (what == "ACK" && !success);
    std::vector<std::string> vias = r.lines(sip::header_id::via);
    if (same_transaction && !vias.empty()) {
        m.headers.push_back(vias.front());  // the caller's own Via: the same branch
    } else {
        m.add("Via", "SIP/2.0/UDP " + host_port(caller) + ";branch=z9hG4bKd" + std::to_string(in.ConsumeIntegral<std::uint8_t>()) +
                         ";rport");
    }
    m.start = std::string(what) + " " + (same_transaction ? std::string(r.msg.to.get()->address.text) : target) + " SIP/2.0";
    m.add("Max-Forwards", "70");
    if (!same_transaction) {
        // The route set is the Record-Route in reverse order (RFC 3261 §12.1.2).
        std::vector<std::string_view> routes;
        for (const sip::header& h : r.msg.headers)
            if (h.id == sip::header_id::record_route) routes.insert(routes.begin(), h.value);
        for (std::string_view v : routes) m.add("Route", v);
    }
    for (const std::string& h : r.lines(sip::header_id::from)) m.headers.push_back(h);
    m.add("To", what == "CANCEL" ? without_tag(r.value(sip::header_id::to)) : std::string(r.value(sip::header_id::to)));
    for (const std::string& h : r.lines(sip::header_id::call_id)) m.headers.push_back(h);
    const bool next = what != "ACK" && what != "CANCEL";
    m.add("CSeq", std::to_string(next ? n + 1 : n) + " " + std::string(what));
    if (what == "INVITE") m.add("Contact", "<sip:alice@" + host_port(caller) + ">");
    return m;
}

/// A request answering the first challenge of `answer` (a 401 or 407 the proxy sent to `caller`):
/// the same request again with credentials, for the right user and password or not; false when
/// `answer` is no challenge.
inline bool credentials_for(FuzzedDataProvider& in, std::string_view answer, const core::net_address& caller,
                            message_text& m) {
    const reading r(answer);
    if (!r.ok || (r.msg.status_code != 401 && r.msg.status_code != 407)) return false;
    const bool proxy = r.msg.status_code == 407;
    const std::string_view challenge = r.value(proxy ? sip::header_id::proxy_authenticate : sip::header_id::www_authenticate);
    const auto param = [&](std::string_view name) -> std::string {
        const std::size_t at = challenge.find(name);
        if (at == std::string_view::npos) return {};
        std::size_t from = at + name.size();
        const bool quoted = from < challenge.size() && challenge[from] == '"';
        if (quoted) ++from;
        std::size_t to = from;
        while (to < challenge.size() && challenge[to] != (quoted ? '"' : ',')) ++to;
        return std::string(challenge.substr(from, to - from));
    };
    const std::string realm = param("realm=");
    const std::string nonce = param("nonce=");
    if (nonce.empty()) return false;
    const std::string alg_text = param("algorithm=");
    auth::algorithm alg = alg_text == "SHA-256" ? auth::algorithm::sha256 : auth::algorithm::md5;
    if (in.ConsumeIntegralInRange<int>(0, 7) == 7) alg = alg == auth::algorithm::md5 ? auth::algorithm::sha256 : auth::algorithm::md5;
    const std::string_view method = r.msg.cseq.method_text.empty() ? std::string_view("REGISTER") : r.msg.cseq.method_text;
    const std::string user = std::string(r.msg.from.get()->address.user);
    const std::string_view name = one_of<std::string_view>(in, {user, user, user, "bob", "alice", "mallory"});
    const std::string_view password = name == "bob" ? "secret" : name == "alice" ? "wonder" : "guess";
    const std::string_view typed = in.ConsumeIntegralInRange<int>(0, 7) == 7 ? std::string_view("wrong") : password;
    const std::string uri = method == "REGISTER" ? "sip:" + std::string(r.msg.to.get()->address.host)
                                                 : std::string(r.msg.to.get()->address.text);
    const std::string nc = one_of<std::string>(in, {"00000001", "00000001", "00000002", "0000000g"});
    const bool qop = in.ConsumeIntegralInRange<int>(0, 3) != 3;
    auth::credentials c;
    c.username = name;
    c.realm = realm;
    c.nonce = nonce;
    c.uri = uri;
    c.cnonce = "c0ffee";
    c.qop = qop ? "auth" : "";
    c.nc = qop ? std::string_view(nc) : std::string_view();
    c.alg = alg;
    const auth::hex_digest ha1 = auth::ha1(alg, name, realm, typed);
    const auth::hex_digest response = auth::response_for(c, ha1.view(), method);
    std::string value = "Digest username=\"" + std::string(name) + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                        "\", uri=\"" + uri + "\", response=\"" + std::string(response.view()) +
                        "\", algorithm=" + std::string(auth::algorithm_name(alg));
    if (qop) value += ", cnonce=\"c0ffee\", qop=auth, nc=" + nc;

    m.start = std::string(method) + " " + uri + " SIP/2.0";
    m.add("Via", "SIP/2.0/UDP " + host_port(caller) + ";branch=z9hG4bKc" + std::to_string(in.ConsumeIntegral<std::uint8_t>()) +
                     ";rport");
    m.add("Max-Forwards", "70");
    for (const std::string& h : r.lines(sip::header_id::from)) m.headers.push_back(h);
    m.add("To", without_tag(r.value(sip::header_id::to)));
    for (const std::string& h : r.lines(sip::header_id::call_id)) m.headers.push_back(h);
    m.add("CSeq", std::to_string(r.msg.cseq.number + 1) + " " + std::string(method));
    m.add("Contact", "<sip:" + user + "@" + host_port(caller) + ">");
    if (method == "REGISTER") m.add("Expires", one_of<std::string_view>(in, {"60", "0", "3600"}));
    m.add(proxy ? "Proxy-Authorization" : "Authorization", value);
    return true;
}

/// The CANCEL of `request` (RFC 3261 §9.1: its Request-URI, top Via, From, To, Call-ID and CSeq
/// number); false when it does not parse or is no request.
inline bool cancel_of(std::string_view request, message_text& m) {
    const reading r(request);
    if (!r.ok || !r.msg.is_request()) return false;
    m.start = "CANCEL " + std::string(r.msg.request_uri_text) + " SIP/2.0";
    const std::vector<std::string> vias = r.lines(sip::header_id::via);
    if (!vias.empty()) m.headers.push_back(vias.front());
    m.add("Max-Forwards", "70");
    for (const std::string& h : r.lines(sip::header_id::from)) m.headers.push_back(h);
    for (const std::string& h : r.lines(sip::header_id::to)) m.headers.push_back(h);
    for (const std::string& h : r.lines(sip::header_id::call_id)) m.headers.push_back(h);
    m.add("CSeq", std::to_string(r.msg.cseq.number) + " CANCEL");
    for (const std::string& h : r.lines(sip::header_id::route)) m.headers.push_back(h);
    return true;
}

} // namespace sipfast::fuzz
