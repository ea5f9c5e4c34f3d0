// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/parser.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "isa_compare.hpp"
#include "test_util.hpp"

namespace sipfast::sip {
namespace {

using test::crlf;
using test::parsed;

const std::string invite = crlf(
    "INVITE sip:bob@biloxi.com SIP/2.0\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport\n"
    "Max-Forwards: 70\n"
    "To: Bob <sip:bob@biloxi.com>\n"
    "From: \"Alice\" <sip:alice@atlanta.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:alice@pc33.atlanta.com>\n"
    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
    "Content-Type: application/sdp; charset=utf-8\n"
    "Content-Length: 5\n"
    "\n"
    "v=0\n");

TEST(Parse, DecodesTheHeadersEveryMessageNeeds) {
    parsed p(invite);
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    const message& m = p.msg;
    EXPECT_EQ(p.result.consumed, invite.size());
    EXPECT_EQ(m.kind, message_kind::request);
    EXPECT_EQ(m.method, method::invite);
    EXPECT_EQ(m.request_uri_text, "sip:bob@biloxi.com");
    EXPECT_EQ(m.request_uri.user, "bob");
    EXPECT_EQ(m.top_via.host, "pc33.atlanta.com");
    EXPECT_EQ(m.top_via.branch, "z9hG4bK776asdhds");
    EXPECT_EQ(m.top_via.rport, rport_state::empty);
    EXPECT_EQ(m.max_forwards, 70u);
    EXPECT_EQ(m.to.get()->address.text, "sip:bob@biloxi.com");
    EXPECT_EQ(m.from.tag, "1928301774");
    EXPECT_EQ(m.from.get()->display_name, "\"Alice\"");
    EXPECT_EQ(m.call_id, "a84b4c76e66710@pc33.atlanta.com");
    EXPECT_EQ(m.cseq.number, 314159u);
    EXPECT_EQ(m.cseq.method, method::invite);
    EXPECT_EQ(m.first_contact.get()->addr.address.host, "pc33.atlanta.com");
    EXPECT_EQ(m.top_route.address.text, "sip:p1.example.com;lr");
    EXPECT_EQ(m.content_type(), "application/sdp");
    EXPECT_EQ(m.content_length, 5u);
    EXPECT_EQ(m.body, "v=0\r\n");
    EXPECT_EQ(m.headers.size(), 10u);
    EXPECT_TRUE(m.has(header_id::route));
    EXPECT_FALSE(m.has(header_id::record_route));
}

TEST(Parse, CompactFormsAreTheSameHeaders) {
    parsed p(crlf("BYE sip:bob@192.0.2.4 SIP/2.0\n"
                  "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnashds7\n"
                  "f: <sip:alice@atlanta.com>;tag=88sja8x\n"
                  "t: <sip:bob@biloxi.com>;tag=8321234356\n"
                  "i: a84b4c76e66710\n"
                  "CSeq: 231 BYE\n"
                  "m: <sip:alice@192.0.2.1>\n"
                  "c: text/plain\n"
                  "k: path\n"
                  "l: 0\n\n"));
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.top_via.branch, "z9hG4bKnashds7");
    EXPECT_EQ(p.msg.from.tag, "88sja8x");
    EXPECT_EQ(p.msg.to.tag, "8321234356");
    EXPECT_EQ(p.msg.call_id, "a84b4c76e66710");
    EXPECT_EQ(p.msg.content_type(), "text/plain");
    EXPECT_TRUE(p.msg.has_content_length);
    EXPECT_EQ(p.msg.find(header_id::supported)->value, "path");
    EXPECT_EQ(p.msg.find(header_id::contact)->name, "m");
}

TEST(Parse, HeaderNamesAreCaseInsensitive) {
    parsed p(crlf("OPTIONS sip:p.example.com SIP/2.0\n"
                  "vIA: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                  "FROM: <sip:a@h>;tag=1\n"
                  "to: <sip:p.example.com>\n"
                  "call-id: x\n"
                  "cseq: 1 OPTIONS\n"
                  "cOnTeNt-LeNgTh : 0\n\n"));
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.find(header_id::content_length)->name, "cOnTeNt-LeNgTh");
    EXPECT_EQ(p.msg.method, method::options);
}

TEST(Parse, FoldedHeadersAreOneValue) {
    parsed p(crlf("INVITE sip:b@h SIP/2.0\n"
                  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                  "Subject: I know you're there,\n"
                  "   pick up the phone\n"
                  "\tand talk to me!\n"
                  "From: <sip:a@h>\n"
                  "  ;tag=9\n"
                  "To: <sip:b@h>\n"
                  "Call-ID: x\n"
                  "CSeq: 1\n"
                  "   INVITE\n"
                  "Content-Length: 0\n\n"));
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.headers.size(), 7u);
    EXPECT_EQ(p.msg.find(header_id::subject)->value,
              "I know you're there,\r\n   pick up the phone\r\n\tand talk to me!");
    EXPECT_EQ(p.msg.from.tag, "9");
    EXPECT_EQ(p.msg.cseq.method, method::invite);
}

TEST(Parse, ValuesSplitAtCommasOutsideQuotesAndAnglesAcrossHeaders) {
    parsed p(crlf("SIP/2.0 200 OK\n"
                  "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP p2.example.com;branch=z9hG4bK2\n"
                  "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK3;received=192.0.2.7\n"
                  "From: \"Smith, John\" <sip:a@h>;tag=1\n"
                  "To: <sip:b@h>;tag=2\n"
                  "Call-ID: x\n"
                  "CSeq: 1 INVITE\n"
                  "Contact: \"A, B\" <sip:a@h>, <sip:c@h>\n"
                  "Record-Route: <sip:p1@h;lr>;x=\"1,2\", <sip:p2@h;lr>\n"
                  "Content-Length: 0\n\n"));
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    std::vector<std::string> vias;
    p.msg.for_each_value(header_id::via, [&](std::string_view v) {
        via d;
        EXPECT_EQ(parse_via(v, d), parse_error::none);
        vias.emplace_back(d.host);
        return true;
    });
    EXPECT_EQ(vias, (std::vector<std::string>{"p1.example.com", "p2.example.com", "ua.example.com"}));
    EXPECT_EQ(p.msg.top_via.host, "p1.example.com");
    EXPECT_EQ(p.msg.from.get()->display_name, "\"Smith, John\"");
    std::vector<std::string> contacts;
    p.msg.for_each_value(header_id::contact, [&](std::string_view v) {
        contacts.emplace_back(v);
        return true;
    });
    ASSERT_EQ(contacts.size(), 2u);
    EXPECT_EQ(contacts[0], "\"A, B\" <sip:a@h>");
    std::vector<std::string> routes;
    p.msg.for_each_value(header_id::record_route, [&](std::string_view v) {
        routes.emplace_back(v);
        return true;
    });
    EXPECT_EQ(routes, (std::vector<std::string>{"<sip:p1@h;lr>;x=\"1,2\"", "<sip:p2@h;lr>"}));
    EXPECT_EQ(p.msg.count(header_id::via), 2u);
}

TEST(Parse, Ipv6EverywhereAndEscapedRequestUri) {
    parsed p(crlf("REGISTER sip:%61lice@[2001:db8::1]:5060;transport=tcp SIP/2.0\n"
                  "Via: SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKx;received=[2001:db8::99]\n"
                  "From: <sip:alice@[2001:db8::1]>;tag=a\n"
                  "To: <sip:alice@[2001:db8::1]>\n"
                  "Call-ID: 1@[2001:db8::9]\n"
                  "CSeq: 2 REGISTER\n"
                  "Contact: <sip:alice@[2001:db8::9]:5070>;expires=600\n"
                  "Content-Length: 0\n\n"));
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.request_uri.user, "%61lice");
    EXPECT_EQ(p.msg.request_uri.host, "[2001:db8::1]");
    EXPECT_EQ(p.msg.request_uri.params.find("transport").value, "tcp");
    EXPECT_EQ(p.msg.top_via.host, "[2001:db8::9]");
    EXPECT_EQ(p.msg.top_via.port, 5070);
    EXPECT_EQ(p.msg.top_via.received, "[2001:db8::99]");
    EXPECT_EQ(p.msg.first_contact.get()->expires, 600u);
}

TEST(Parse, UnknownMethodsAndExtensionHeaders) {
    parsed p(crlf("FOOBAR sip:b@h SIP/2.0\n"
                  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                  "From: <sip:a@h>;tag=1\n"
                  "To: <sip:b@h>\n"
                  "Call-ID: x\n"
                  "CSeq: 1 FOOBAR\n"
                  "X-Custom-Thing: some value\n"
                  "Content-Length: 0\n\n"));
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.method, method::other);
    EXPECT_EQ(p.msg.method_text, "FOOBAR");
    ASSERT_NE(p.msg.find("x-custom-thing"), nullptr);
    EXPECT_EQ(p.msg.find("x-custom-thing")->value, "some value");
    EXPECT_EQ(p.msg.find("x-custom-thing")->id, header_id::other);
}

TEST(Parse, StatusLines) {
    const std::string rest = crlf("Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n"
                                  "To: <sip:b@h>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    parsed a("SIP/2.0 180 Ringing now\r\n" + rest);
    ASSERT_TRUE(a.result.ok());
    EXPECT_EQ(a.msg.status_code, 180);
    EXPECT_EQ(a.msg.reason, "Ringing now");
    parsed b("SIP/2.0 200 \r\n" + rest);
    ASSERT_TRUE(b.result.ok());
    EXPECT_EQ(b.msg.reason, "");
    parsed c("sip/2.0 404 Not Found\r\n" + rest);
    ASSERT_TRUE(c.result.ok());
    EXPECT_EQ(c.msg.status_code, 404);
}

TEST(Parse, LineFeedOnlyAndLeadingCrlfAreAccepted) {
    parsed p("\r\n\r\nOPTIONS sip:h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n"
             "To: <sip:h>\nCall-ID: x\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.method, method::options);
    EXPECT_EQ(p.msg.start_line, "OPTIONS sip:h SIP/2.0");
}

TEST(Parse, DatagramBodyWithoutContentLengthIsTheRest) {
    std::string m = invite;
    m.replace(m.find("Content-Length: 5\r\n"), 19, "");
    parsed p(m);
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.body, "v=0\r\n");
    EXPECT_EQ(p.result.consumed, m.size());
}

TEST(Parse, DatagramBytesPastContentLengthAreNotBody) {
    const std::string m = invite + "garbage";
    parsed p(m);
    ASSERT_TRUE(p.result.ok());
    EXPECT_EQ(p.msg.body, "v=0\r\n");
    EXPECT_EQ(p.result.consumed, invite.size());
}

// ---------------------------------------------------------------------------------------------
// Malformed input: one row per fault.

struct bad_case {
    const char* note;
    std::string input;
    parse_error error;
    header_id header;
};

std::string request(std::string_view start, std::string_view headers, std::string_view body = "") {
    return crlf(std::string(start) + "\n" + std::string(headers) + "\n") + std::string(body);
}

const std::string ok_headers =
    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n"
    "CSeq: 1 INVITE\n";

std::vector<bad_case> bad_cases() {
    const std::string s = "INVITE sip:b@h SIP/2.0";
    const std::string h = ok_headers;
    return {
        {"no version", request("INVITE sip:b@h", h + "Content-Length: 0\n"), parse_error::invalid_request_line, header_id::other},
        {"two spaces", request("INVITE  sip:b@h SIP/2.0", h + "Content-Length: 0\n"), parse_error::invalid_request_line, header_id::other},
        {"method not a token", request("INV@TE sip:b@h SIP/2.0", h), parse_error::invalid_method, header_id::other},
        {"version 3.0", request("INVITE sip:b@h SIP/3.0", h), parse_error::unsupported_version, header_id::other},
        {"version junk", request("INVITE sip:b@h HTTP/1.1", h), parse_error::invalid_request_line, header_id::other},
        {"bad request-uri", request("INVITE bogus SIP/2.0", h), parse_error::invalid_request_uri, header_id::other},
        {"status 2000", request("SIP/2.0 2000 OK", h), parse_error::invalid_status_code, header_id::other},
        {"status 099", request("SIP/2.0 099 Odd", h), parse_error::invalid_status_code, header_id::other},
        {"status line alone", request("SIP/2.0", h), parse_error::invalid_status_line, header_id::other},
        {"missing Call-ID", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCSeq: 1 INVITE\n"), parse_error::missing_header, header_id::call_id},
        {"missing Via", request(s, "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::missing_header, header_id::via},
        {"missing CSeq", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n"), parse_error::missing_header, header_id::cseq},
        {"missing From", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::missing_header, header_id::from},
        {"missing To", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::missing_header, header_id::to},
        {"negative Content-Length", request(s, h + "Content-Length: -1\n"), parse_error::invalid_number, header_id::content_length},
        {"huge Content-Length", request(s, h + "Content-Length: 99999999999\n"), parse_error::number_out_of_range, header_id::content_length},
        {"Content-Length past the limit", request(s, h + "Content-Length: 70000\n"), parse_error::message_too_large, header_id::content_length},
        {"two Content-Lengths", request(s, h + "Content-Length: 0\nl: 4\n"), parse_error::duplicate_header, header_id::content_length},
        {"CSeq not a number", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: abc INVITE\n"), parse_error::invalid_number, header_id::cseq},
        {"CSeq without method", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1\n"), parse_error::invalid_number, header_id::cseq},
        {"CSeq 2^31", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 2147483648 INVITE\n"), parse_error::number_out_of_range, header_id::cseq},
        {"CSeq method mismatch", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 BYE\n"), parse_error::cseq_method_mismatch, header_id::cseq},
        // Known methods compare by id, others by their text: each way round, and one byte longer.
        {"CSeq method longer", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITEX\n"), parse_error::cseq_method_mismatch, header_id::cseq},
        {"CSeq method in lower case", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 invite\n"), parse_error::cseq_method_mismatch, header_id::cseq},
        {"CSeq known, method not", request("FOO sip:b@h SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::cseq_method_mismatch, header_id::cseq},
        {"CSeq other method differs", request("FOO sip:b@h SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 FOOX\n"), parse_error::cseq_method_mismatch, header_id::cseq},
        {"unterminated quote", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: \"Alice <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::unterminated_quote, header_id::from},
        {"header without colon", request(s, h + "Content-Length 0\n"), parse_error::header_without_colon, header_id::other},
        {"header name with space", request(s, h + "Bad Name: x\n"), parse_error::invalid_header_name, header_id::other},
        {"empty header name", request(s, h + ": x\n"), parse_error::invalid_header_name, header_id::other},
        {"continuation first", request(s, " folded: x\n" + h), parse_error::continuation_before_header, header_id::other},
        {"NUL byte", request(s, h + std::string("Subject: a\0b\n", 13)), parse_error::nul_byte, header_id::other},
        {"control character", request(s, h + "Subject: a\x01" "b\n"), parse_error::control_character, header_id::other},
        {"DEL", request(s, h + "Subject: a\x7f" "b\n"), parse_error::control_character, header_id::other},
        // A backslash escapes a control character only inside a quoted string (RFC 3261 §25.1).
        {"escaped control outside quotes", request(s, h + "Subject: a\\\x01" "b\n"), parse_error::control_character, header_id::other},
        {"control after the quote closed", request(s, h + "Subject: \"a\" \\\x01" "b\n"), parse_error::control_character, header_id::other},
        {"a quote ends with its line", request(s, h + "Subject: \"a\nX-Next: \\\x01" "b\n"), parse_error::control_character, header_id::other},
        {"CR cannot be escaped", request(s, h + "Subject: \"a\\\r" "b\"\n"), parse_error::bare_cr, header_id::other},
        // insert(pos, 1, char): the C-string overload draws a bogus -Wrestrict from GCC 12 at -O3 (bug 105329).
        {"bare CR", request(s, h).insert(30, 1, '\r'), parse_error::bare_cr, header_id::other},
        {"duplicate Call-ID", request(s, h + "i: y\n"), parse_error::duplicate_header, header_id::call_id},
        {"Max-Forwards junk", request(s, h + "Max-Forwards: many\n"), parse_error::invalid_number, header_id::max_forwards},
        {"Max-Forwards 256", request(s, h + "Max-Forwards: 256\n"), parse_error::number_out_of_range, header_id::max_forwards},
        {"Expires junk", request(s, h + "Expires: soon\n"), parse_error::invalid_number, header_id::expires},
        {"two Content-Types", request(s, h + "Content-Type: text/plain\nc: text/html\n"), parse_error::duplicate_header, header_id::content_type},
        {"Call-ID with space", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: a b\nCSeq: 1 INVITE\n"), parse_error::invalid_call_id, header_id::call_id},
        {"Via junk", request(s, "Via: SIP/2.0 h\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::invalid_sent_protocol, header_id::via},
        {"To unterminated angle", request(s, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h\nCall-ID: x\nCSeq: 1 INVITE\n"), parse_error::unterminated_angle, header_id::to},
        {"body truncated", request(s, h + "Content-Length: 10\n", "abc"), parse_error::body_truncated, header_id::content_length},
        {"no empty line", crlf(s + "\n" + h), parse_error::missing_end_of_headers, header_id::other},
        {"oversized", request(s, h + "X-Pad: " + std::string(70000, 'a') + "\n"), parse_error::message_too_large, header_id::other},
    };
}

// HCOLON = *( SP / HTAB ) ":" SWS (RFC 3261 §25.1): the name loses the blanks before the colon,
// the value those after it and at its end, whatever mix of spaces and tabs they are.
TEST(Parse, BlanksAroundTheColonAndAtTheEndAreNotTheNameOrValue) {
    const struct {
        const char* line;
        const char* name;
        const char* value;
    } cases[] = {
        {"Subject: a b", "Subject", "a b"},   {"Subject:a b", "Subject", "a b"},
        {"Subject :a b ", "Subject", "a b"},  {"Subject\t \t:  \ta b\t", "Subject", "a b"},
        {"Subject:", "Subject", ""},          {"Subject: ", "Subject", ""},
        {"Subject:  \t ", "Subject", ""},     {"Subject: x", "Subject", "x"},
        {"Subject:\tx", "Subject", "x"},      {"X-A \t:  x  y \t ", "X-A", "x  y"},
    };
    for (const auto& c : cases) {
        parsed p(request("INVITE sip:b@h SIP/2.0", ok_headers + c.line + "\n"));
        ASSERT_TRUE(p.result.ok()) << c.line << ": " << to_string(p.result.error);
        const header& h = p.msg.headers.back();
        EXPECT_EQ(h.name, c.name) << c.line;
        EXPECT_EQ(h.value, c.value) << c.line;
    }
}

// A header line's name ends at its first ':', found with one load at the line's start where the
// buffer has room and byte by byte where it has not, or the name is longer than the load. Every
// ISA splits the same, whatever the name's length and wherever the line lies.
TEST(Parse, TheNameEndsAtTheLinesFirstColon) {
    const std::string s = "INVITE sip:b@h SIP/2.0";
    for (const sip::implementation* isa : test::supported_isas()) {
        parse_options opt;
        opt.isa = isa;
        for (std::size_t n = 1; n <= 140; ++n) {
            const std::string name = "X" + std::string(n - 1, 'n');
            // Last in the message (no body), so short names lie in the buffer's last bytes.
            const std::string m = request(s, ok_headers + name + ":: a:b\n");
            parsed p(m, opt);
            ASSERT_TRUE(p.result.ok()) << isa->name << " name of " << n << ": " << to_string(p.result.error);
            const header& h = p.msg.headers.back();
            ASSERT_EQ(h.name, name) << isa->name;
            ASSERT_EQ(h.value, ": a:b") << isa->name;
            // A line without one, before a line with one a few bytes on: no colon in this line.
            const std::string bad = request(s, ok_headers + name + "\nTo: <sip:b@h>\n");
            parsed q(bad, opt);
            ASSERT_EQ(q.result.error, parse_error::header_without_colon) << isa->name << " name of " << n;
            ASSERT_EQ(q.result.offset, bad.find(name + "\r\n")) << isa->name;
        }
    }
}

TEST(ParseMalformed, EachFaultIsNamed) {
    for (const bad_case& c : bad_cases()) {
        for (const sip::implementation* isa : test::supported_isas()) {
            parse_options opt;
            opt.isa = isa;
            parsed p(c.input, opt);
            EXPECT_EQ(p.result.status, parse_status::error) << c.note << " / " << isa->name;
            EXPECT_EQ(p.result.error, c.error) << c.note << " / " << isa->name << ": got " << to_string(p.result.error);
            EXPECT_EQ(p.result.header, c.header) << c.note << " / " << isa->name;
        }
    }
}

// The scanner reads 64 bytes at a time and settles a CR last in a block with the next one: a bare
// CR or a control byte is named, at its offset, wherever it lands before the empty line (the
// message has no quoted-pair to excuse one), and a CR before an LF is a line end anywhere.
TEST(ParseMalformed, AForbiddenByteIsFoundAtEveryOffset) {
    const std::size_t headers_end = invite.find("\r\n\r\n");
    ASSERT_GT(headers_end, 3 * 64u);
    ASSERT_EQ(invite.find('\\'), std::string::npos);
    for (const sip::implementation* isa : test::supported_isas()) {
        parse_options opt;
        opt.isa = isa;
        for (std::size_t at = 0; at < headers_end; ++at) {
            std::string cr = invite;
            cr.insert(at, 1, '\r');
            const std::size_t bare = invite[at] == '\n' ? at - 1 : at;  // in "\r\r\n", the first CR
            parsed p(cr, opt);
            ASSERT_EQ(p.result.status, parse_status::error) << isa->name << " CR at " << at;
            ASSERT_EQ(p.result.error, parse_error::bare_cr) << isa->name << " CR at " << at;
            ASSERT_EQ(p.result.offset, bare) << isa->name << " CR at " << at;
            std::string ctl = invite;
            ctl.insert(at, 1, '\x01');
            parsed q(ctl, opt);
            ASSERT_EQ(q.result.status, parse_status::error) << isa->name << " 0x01 at " << at;
            // Between a CR and its LF, the CR is the first fault.
            ASSERT_EQ(q.result.error, invite[at] == '\n' ? parse_error::bare_cr : parse_error::control_character)
                << isa->name << " 0x01 at " << at;
            ASSERT_EQ(q.result.offset, bare) << isa->name << " 0x01 at " << at;
        }
        // The same bytes in the body are the body's business.
        std::string body = invite;
        body.replace(body.size() - 4, 2, "\r\x01");
        EXPECT_TRUE(parsed(body, opt).result.ok()) << isa->name;
    }
}

TEST(Parse, QuotedPairsMayEscapeControlCharacters) {
    // RFC 3261 §25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F), inside a quoted string.
    const std::string m = request("INVITE sip:b@h SIP/2.0",
                                  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: \"Al\\\x01ice \\\x7f\" <sip:a@h>;tag=1\n"
                                  "To: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\nSubject: \"tab\\\x1b[0m\"\n" +
                                      std::string("X-Nul: \"a\\\0b\"\n", 14));
    for (const sip::implementation* isa : test::supported_isas()) {
        parse_options opt;
        opt.isa = isa;
        parsed p(m, opt);
        ASSERT_TRUE(p.result.ok()) << isa->name << ": " << to_string(p.result.error);
        EXPECT_EQ(p.msg.from.get()->display_name, "\"Al\\\x01ice \\\x7f\"") << isa->name;
        EXPECT_EQ(p.msg.from.get()->address.text, "sip:a@h") << isa->name;
    }
}

// What parse_strict says of `text`: the fault, the header, the byte, and the reason a 400 gives.
void expect_strict_fault(std::string_view text, parse_error error, header_id h, std::size_t offset,
                         std::string_view reason) {
    std::vector<header> slots(default_header_slots);
    message m;
    const parse_result strict = parse_strict(text, m, slots);
    EXPECT_EQ(strict.error, error);
    EXPECT_EQ(strict.header, h);
    EXPECT_EQ(strict.offset, offset);
    std::array<char, 96> phrase{};
    EXPECT_EQ(format_reason(strict, phrase), reason);
}

// From, To and Contact are decoded on first use: parse finds the tags; a URI that does not decode
// is the fault of whoever reads it, and parse_strict (sipfast-parse) reads them all.
TEST(Parse, FromToAndContactAreDecodedOnFirstUse) {
    std::string text = invite;
    text.replace(text.find("<sip:alice@atlanta.com>"), 23, "<sip:alice@>");
    text.replace(text.find("Contact: <sip:alice@pc33.atlanta.com>"), 37, "Contact: <sip:alice@pc33.atlanta.com:99999>");
    parsed p(text);
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.from.tag, "1928301774");
    EXPECT_EQ(p.msg.from.text, "\"Alice\" <sip:alice@>;tag=1928301774");
    EXPECT_EQ(p.msg.from.get(), nullptr);
    EXPECT_EQ(p.msg.from.error(), parse_error::invalid_host);
    ASSERT_NE(p.msg.to.get(), nullptr);
    EXPECT_EQ(p.msg.to.get()->address.host, "biloxi.com");
    EXPECT_EQ(p.msg.to.get(), p.msg.to.get());  // decoded once, kept
    ASSERT_TRUE(p.msg.has_contact);
    EXPECT_EQ(p.msg.first_contact.get(), nullptr);

    expect_strict_fault(text, parse_error::invalid_host, header_id::from, text.find("\"Alice\""),
                        "Invalid From header: malformed host");
    std::vector<header> slots(default_header_slots);
    message m;
    text.replace(text.find("<sip:alice@>"), 12, "<sip:alice@atlanta.com>");
    EXPECT_EQ(parse_strict(text, m, slots).header, header_id::contact);
    EXPECT_EQ(parse_strict(invite, m, slots).status, parse_status::complete);
}

// The forwarding path never reads the body's media type, so a malformed one is forwarded as it came
// and judged only by whoever asks: content_type() finds none, parse_strict names the fault.
TEST(Parse, ContentTypeIsDecodedWhenAsked) {
    std::string text = invite;
    text.replace(text.find("application/sdp"), 15, "application");
    parsed p(text);
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    EXPECT_EQ(p.msg.content_type(), "");
    EXPECT_EQ(p.msg.find(header_id::content_type)->value, "application; charset=utf-8");
    expect_strict_fault(text, parse_error::invalid_token, header_id::content_type, text.find("application; charset"),
                        "Invalid Content-Type header: malformed token");
    std::string_view type;
    EXPECT_EQ(parse_media_type(" text / plain ;charset=x", type), parse_error::none);
    EXPECT_EQ(type, "text / plain");
    EXPECT_EQ(parse_media_type("text/pla in", type), parse_error::invalid_token);
}

// One message object serves every parse: nothing of the last message survives into the next, not
// even a From decoded on demand.
TEST(Parse, AReusedMessageKeepsNothingOfTheLast) {
    std::vector<header> slots(default_header_slots);
    message m;
    const std::string full = request("INVITE sip:b@h SIP/2.0",
                                     ok_headers + "Contact: <sip:a@c>\nRoute: <sip:r@x;lr>\nMax-Forwards: 9\n"
                                                  "Expires: 60\nContent-Type: text/plain\nContent-Length: 2\n",
                                     "hi");
    ASSERT_TRUE(parse(full, m, slots).ok());
    ASSERT_NE(m.from.get(), nullptr);
    ASSERT_NE(m.first_contact.get(), nullptr);
    const std::string bare = request("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK2\nFrom: <sip:z@y>\n"
                                                       "To: <sip:b@h>;tag=9\nCall-ID: y\nCSeq: 2 BYE\n");
    ASSERT_TRUE(parse(bare, m, slots).ok());
    std::vector<header> fresh_slots(default_header_slots);
    test::isa_run fresh;
    ASSERT_TRUE(parse(bare, fresh.msg, fresh_slots).ok());
    EXPECT_EQ(m.method, method::other);
    EXPECT_EQ(m.request_uri.text, "");
    EXPECT_EQ(m.status_code, 200);
    EXPECT_FALSE(m.has_contact);
    EXPECT_EQ(m.first_contact.text, "");
    EXPECT_FALSE(m.has_route);
    EXPECT_EQ(m.top_route.text, "");
    EXPECT_FALSE(m.has_max_forwards);
    EXPECT_FALSE(m.has_expires);
    EXPECT_FALSE(m.has_content_length);
    EXPECT_EQ(m.content_type(), "");
    EXPECT_EQ(m.from.tag, "");
    ASSERT_NE(m.from.get(), nullptr);
    EXPECT_EQ(m.from.get()->address.host, "y");
    EXPECT_EQ(m.to.tag, "9");
    test::isa_run reused;
    reused.msg = m;
    EXPECT_EQ(test::compare_runs(reused, fresh), "");
}

// message::clear() stores zeros over every field before the on-demand caches, which is a default
// message only while each of those fields is zero by default. Built over 0x00 and over 0xff, a byte
// the two agree on is one the constructor set (padding keeps what was there): each must be zero.
TEST(Parse, EveryFieldBeforeTheCachesIsZeroInADefaultMessage) {
    alignas(message) unsigned char zeros[sizeof(message)];
    alignas(message) unsigned char ones[sizeof(message)];
    std::memset(zeros, 0x00, sizeof zeros);
    std::memset(ones, 0xff, sizeof ones);
    message* a = new (zeros) message;
    message* b = new (ones) message;
    const auto prefix = static_cast<std::size_t>(reinterpret_cast<const unsigned char*>(&a->from) - zeros);
    ASSERT_GT(prefix, 600u);  // the decoded fields: request_uri, top_via, top_route and the rest
    std::vector<bool> set(prefix);
    for (std::size_t i = 0; i < prefix; ++i) {
        set[i] = zeros[i] == ones[i];  // else padding
        if (set[i]) {
            EXPECT_EQ(zeros[i], 0) << "byte " << i << " of a default message";
        }
    }
    EXPECT_GT(std::count(set.begin(), set.end(), true), static_cast<std::ptrdiff_t>(prefix / 2));
    // And a message used and cleared is default again in each of those bytes.
    std::vector<header> slots(default_header_slots);
    ASSERT_TRUE(parse(request("INVITE sip:b@h:5 SIP/2.0", ok_headers + "Route: <sip:r@x;lr>\nMax-Forwards: 9\n"),
                      *b, slots).ok());
    ASSERT_TRUE(b->has_route);
    b->clear();
    for (std::size_t i = 0; i < prefix; ++i)
        if (set[i]) {
            EXPECT_EQ(ones[i], 0) << "byte " << i << " after clear()";
        }
    a->~message();
    b->~message();
}

// next_value skips to quotes, angle brackets and commas sixteen bytes at a time: long values, an
// escaped quote inside a display name, and commas inside brackets and quotes stay in their value.
TEST(Parse, ValuesSplitAtTopLevelCommasOnly) {
    const std::string text = request("OPTIONS sip:b@h SIP/2.0",
                                     "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\n"
                                     "Call-ID: x\nCSeq: 1 OPTIONS\n"
                                     "X-List: \"A \\\"q, r\\\" B\" <sip:a@h>,<sip:b,c@h>;p=\"1,2\", "
                                     "a-token-long-enough-to-need-two-vectors-of-sixteen ,last\n");
    parsed p(text);
    ASSERT_TRUE(p.result.ok()) << to_string(p.result.error);
    std::vector<std::string> values;
    for (std::string_view rest = p.msg.find("X-List")->value; !rest.empty();) values.emplace_back(next_value(rest));
    EXPECT_EQ(values, (std::vector<std::string>{"\"A \\\"q, r\\\" B\" <sip:a@h>", "<sip:b,c@h>;p=\"1,2\"",
                                                "a-token-long-enough-to-need-two-vectors-of-sixteen", "last"}));
}

// rest_after goes on from a value decoded out of a list as next_value would have.
TEST(Parse, TheRestAfterADecodedValueIsWhatNextValueLeaves) {
    const std::string_view list = "<sip:a@h>;lr \t\r\n , <sip:b@h>,<sip:c@h>";
    std::string_view rest = list;
    const std::string_view first = next_value(rest);
    EXPECT_EQ(rest_after(list, first), rest);
    EXPECT_EQ(rest_after(list, first), " <sip:b@h>,<sip:c@h>");
    EXPECT_EQ(rest_after(list, list.substr(list.size() - 9)), "") << "the last value";
    EXPECT_EQ(rest_after(list, std::string_view("<sip:a@h>")), "") << "a value from another text";
}

TEST(ParseMalformed, TooManyHeadersForTheSlots) {
    std::vector<header> slots(4);
    message m;
    const parse_result r = parse(invite, m, slots);
    EXPECT_EQ(r.error, parse_error::too_many_headers);
    EXPECT_EQ(to_status_code(r.error), 513);
}

TEST(ParseMalformed, ReasonPhrasesNameTheFault) {
    std::array<char, 128> buf{};
    parsed a(request("INVITE sip:b@h SIP/2.0", ok_headers + "Content-Length: -1\n"));
    EXPECT_EQ(format_reason(a.result, buf), "Invalid Content-Length header: not a number");
    parsed b(request("INVITE sip:b@h SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCSeq: 1 INVITE\n"));
    EXPECT_EQ(format_reason(b.result, buf), "Missing Call-ID header");
    parsed c(request("INVITE sip:b@h SIP/3.0", ok_headers));
    EXPECT_EQ(format_reason(c.result, buf), "SIP version not supported");
    EXPECT_EQ(to_status_code(c.result.error), 505);
    EXPECT_EQ(to_status_code(parse_error::missing_header), 400);
    std::array<char, 8> tiny{};
    EXPECT_EQ(format_reason(b.result, tiny), "Missing ");
}

TEST(ParseMalformed, HeadersStayAvailableToAnswerWith400) {
    parsed p(request("INVITE sip:b@h SIP/2.0", ok_headers + "Max-Forwards: many\n"));
    ASSERT_EQ(p.result.error, parse_error::invalid_number);
    // A server answering 400 copies Via, From, To, Call-ID and CSeq from the failed request.
    EXPECT_NE(p.msg.find(header_id::via), nullptr);
    EXPECT_NE(p.msg.find(header_id::call_id), nullptr);
    // Also when the faulty header comes before them.
    parsed q(request("INVITE sip:b@h SIP/2.0", "Max-Forwards: many\n" + ok_headers));
    ASSERT_EQ(q.result.error, parse_error::invalid_number);
    EXPECT_EQ(q.result.header, header_id::max_forwards);
    EXPECT_NE(q.msg.find(header_id::via), nullptr);
    EXPECT_NE(q.msg.find(header_id::cseq), nullptr);
    EXPECT_EQ(q.msg.find(header_id::call_id)->value, "x");
}

// ---------------------------------------------------------------------------------------------
// Streams.

TEST(ParseStream, EveryProperPrefixIsIncomplete) {
    for (const sip::implementation* isa : test::supported_isas()) {
        parse_options opt;
        opt.stream = true;
        opt.isa = isa;
        for (std::size_t n = 0; n < invite.size(); ++n) {
            parsed p(std::string_view(invite).substr(0, n), opt);
            ASSERT_EQ(p.result.status, parse_status::incomplete) << isa->name << " prefix " << n;
            ASSERT_EQ(p.result.consumed, 0u);
            ASSERT_TRUE(p.msg.headers.empty());
        }
        parsed whole(invite, opt);
        EXPECT_TRUE(whole.result.ok()) << isa->name;
    }
}

TEST(ParseStream, SeveralMessagesAndKeepalivesInOneBuffer) {
    const std::string stream = "\r\n\r\n" + invite + "\r\n" + invite + invite.substr(0, 40);
    parse_options opt;
    opt.stream = true;
    std::vector<message_kind> kinds;
    std::size_t at = 0;
    for (int guard = 0; guard < 10; ++guard) {
        parsed p(std::string_view(stream).substr(at), opt);
        if (p.result.status != parse_status::complete) {
            EXPECT_EQ(p.result.status, parse_status::incomplete);
            break;
        }
        kinds.push_back(p.msg.kind);
        at += p.result.consumed;
    }
    EXPECT_EQ(kinds, (std::vector<message_kind>{message_kind::keepalive_ping, message_kind::request,
                                               message_kind::keepalive_pong, message_kind::request}));
    EXPECT_EQ(at, stream.size() - 40);
}

TEST(ParseStream, ByteByByteFeedingFindsEachMessageOnce) {
    const std::string stream = invite + invite;
    parse_options opt;
    opt.stream = true;
    std::string buffer;
    int messages = 0;
    for (char c : stream) {
        buffer += c;
        parsed p(buffer, opt);
        ASSERT_NE(p.result.status, parse_status::error) << to_string(p.result.error);
        if (p.result.ok()) {
            ++messages;
            EXPECT_EQ(p.msg.call_id, "a84b4c76e66710@pc33.atlanta.com");
            buffer.erase(0, p.result.consumed);
        }
    }
    EXPECT_EQ(messages, 2);
    EXPECT_TRUE(buffer.empty());
}

TEST(ParseStream, ContentLengthIsRequired) {
    std::string m = invite;
    m.replace(m.find("Content-Length: 5\r\n"), 19, "");
    parse_options opt;
    opt.stream = true;
    parsed p(m, opt);
    EXPECT_EQ(p.result.error, parse_error::missing_content_length);
}

TEST(ParseStream, EndlessHeadersAreRefusedAtTheLimit) {
    parse_options opt;
    opt.stream = true;
    opt.max_message_bytes = 1024;
    const std::string m = "INVITE sip:b@h SIP/2.0\r\nX-Pad: " + std::string(2000, 'a');
    parsed p(m, opt);
    EXPECT_EQ(p.result.error, parse_error::message_too_large);
}

// ---------------------------------------------------------------------------------------------
// Memory safety: a message that ends where readable memory ends.

TEST(ParseBounds, InputEndingAtAGuardPageNeverFaults) {
    const long page = sysconf(_SC_PAGESIZE);
    ASSERT_GT(page, 0);
    const std::size_t pg = static_cast<std::size_t>(page);
    const std::size_t span = 2 * pg;
    void* mem = mmap(nullptr, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    char* base = static_cast<char*>(mem);
    ASSERT_EQ(mprotect(base + span, pg, PROT_NONE), 0);
    char* const guard = base + span;
    for (const sip::implementation* isa : test::supported_isas()) {
        for (bool stream : {false, true}) {
            parse_options opt;
            opt.isa = isa;
            opt.stream = stream;
            // Every prefix, placed so that its last byte is the last readable byte.
            for (std::size_t n = 0; n <= invite.size(); ++n) {
                char* at = guard - n;
                std::memcpy(at, invite.data(), n);
                parsed p(std::string_view(at, n), opt);
                if (n == invite.size()) {
                    EXPECT_TRUE(p.result.ok()) << isa->name;
                }
            }
        }
    }
    munmap(mem, span + pg);
}

// ---------------------------------------------------------------------------------------------
// Implementations agree.

TEST(ParsePerImplementation, AgreeOnMutationsOfAMessage) {
    std::mt19937 rng(20261122);
    const char alphabet[] = "\r\n:;,<>\"\\ \t\0\x7f@=aZ9[]";
    std::size_t checked = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string m = invite;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t pos = rng() % m.size();
            switch (rng() % 3) {
            case 0: m[pos] = alphabet[rng() % (sizeof alphabet - 1)]; break;
            case 1: m.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
            default: m.erase(pos, 1); break;
            }
        }
        for (bool stream : {false, true}) {
            const std::string diff = test::compare_isas(m, stream);
            ASSERT_EQ(diff, "") << "input: " << ::testing::PrintToString(m);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 6000u);
}

} // namespace
} // namespace sipfast::sip
