// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/editor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "sipfast/sip/parser.hpp"
#include "test_util.hpp"

namespace sipfast::sip {
namespace {

using test::crlf;
using test::parsed;

const std::string invite = crlf(
    "INVITE sip:bob@proxy.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bK776asdhds;rport\n"
    "Max-Forwards: 70\n"
    "Route: <sip:proxy.example.com;lr>, <sip:p2.example.com;lr>\n"
    "To: Bob <sip:bob@example.com>\n"
    "From: Alice <sip:alice@example.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@198.18.0.9\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:alice@198.18.0.9:5070>\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 5\n"
    "\n"
    "v=0\n");

// What a stateful proxy does to a request before forwarding it (RFC 3261 §16.6, RFC 3581).
TEST(MessageEditor, ForwardingEditsSerializeToAValidMessage) {
    parsed in(invite);
    ASSERT_TRUE(in.result.ok());
    const message& m = in.msg;
    message_editor ed(std::string_view(in.text).substr(0, in.result.consumed));
    edit_error err = edit_error::none;

    // Step 2: Request-URI to the target; step 3: Max-Forwards decremented.
    ASSERT_EQ(ed.replace(m.request_uri_text, "sip:bob@198.18.0.20:5060"), edit_error::none);
    const std::string_view mf = ed.keep_number(m.max_forwards - 1, err);
    ASSERT_EQ(ed.replace(m.find(header_id::max_forwards)->value, mf), edit_error::none);
    // Step 4: Record-Route on top; step 8: our Via above the others.
    const header* top_via = m.find(header_id::via);
    ASSERT_EQ(ed.insert(top_via->name.data(), "Record-Route: <sip:198.18.0.1;lr>\r\n"), edit_error::none);
    ASSERT_EQ(ed.insert(top_via->name.data(), "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKsf1-0-abc\r\n"),
              edit_error::none);
    // §16.4: our own Route value popped; RFC 3581: received and rport filled in on the top Via.
    ASSERT_EQ(ed.remove(first_value_span(ed.original(), *m.find(header_id::route))), edit_error::none);
    const std::string_view rport = m.top_via.params.find("rport").name;
    ASSERT_EQ(ed.replace(rport, ed.keep({"received=198.18.0.99;rport=5071"}, err)), edit_error::none);
    ASSERT_EQ(err, edit_error::none);

    std::vector<char> out(ed.size());
    ASSERT_EQ(ed.serialize(out), out.size());
    const std::string wire(out.begin(), out.end());
    parsed fwd(wire);
    ASSERT_TRUE(fwd.result.ok()) << to_string(fwd.result.error) << "\n" << wire;
    const message& f = fwd.msg;
    EXPECT_EQ(f.request_uri_text, "sip:bob@198.18.0.20:5060");
    EXPECT_EQ(f.max_forwards, 69u);
    EXPECT_EQ(f.headers[0].name, "Record-Route");
    EXPECT_EQ(f.top_via.host, "198.18.0.1");
    EXPECT_EQ(f.top_via.branch, "z9hG4bKsf1-0-abc");
    EXPECT_EQ(f.top_route.address.text, "sip:p2.example.com;lr");
    EXPECT_EQ(f.count(header_id::via), 2u);
    std::vector<std::string> vias;
    f.for_each_value(header_id::via, [&](std::string_view v) {
        vias.emplace_back(v);
        return true;
    });
    ASSERT_EQ(vias.size(), 2u);
    EXPECT_EQ(vias[1], "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bK776asdhds;received=198.18.0.99;rport=5071");
    EXPECT_EQ(f.body, "v=0\r\n");
    EXPECT_EQ(f.call_id, m.call_id);
    EXPECT_EQ(f.headers.size(), m.headers.size() + 2);
    // The received bytes are untouched.
    EXPECT_EQ(in.text, invite);
}

TEST(MessageEditor, RemovingTheOnlyValueRemovesTheLine) {
    const std::string one = crlf(
        "BYE sip:bob@198.18.0.20 SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKsf1\n"
        "Via: SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKua\n"
        "Route: <sip:198.18.0.1;lr>\n"
        "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\nCall-ID: x\nCSeq: 2 BYE\n"
        "Content-Length: 0\n\n");
    parsed in(one);
    ASSERT_TRUE(in.result.ok());
    message_editor ed(in.text);
    ASSERT_EQ(ed.remove(first_value_span(in.text, *in.msg.find(header_id::route))), edit_error::none);
    ASSERT_EQ(ed.remove(header_line(in.text, *in.msg.find(header_id::via))), edit_error::none);  // a response's own Via
    std::vector<char> out(ed.size());
    ASSERT_EQ(ed.serialize(out), out.size());
    parsed fwd(std::string(out.begin(), out.end()));
    ASSERT_TRUE(fwd.result.ok());
    EXPECT_FALSE(fwd.msg.has(header_id::route));
    EXPECT_EQ(fwd.msg.top_via.branch, "z9hG4bKua");
    EXPECT_EQ(fwd.msg.headers.size(), in.msg.headers.size() - 2);
}

// A fork's branches: the edits made once (a Route removed) stay, each branch's own are undone.
TEST(MessageEditor, RewindUndoesOnlyWhatCameAfterTheCheckpoint) {
    parsed in(invite);
    ASSERT_TRUE(in.result.ok());
    const message& m = in.msg;
    const std::string_view original = std::string_view(in.text).substr(0, in.result.consumed);
    message_editor ed(original);
    edit_error err = edit_error::none;
    ASSERT_EQ(ed.remove(header_line(original, *m.find(header_id::route))), edit_error::none);
    const message_editor::mark shared = ed.checkpoint();
    std::vector<std::string> branches;
    for (const std::string_view target : {"sip:bob@198.18.0.20:5062", "sip:bob@198.18.0.21:5064"}) {
        ed.rewind(shared);
        // Edits after the checkpoint land before and after the one made earlier.
        ASSERT_EQ(ed.replace(m.request_uri_text, ed.keep({target}, err)), edit_error::none);
        ASSERT_EQ(ed.insert(m.find(header_id::via)->name.data(), "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKsf1\r\n"),
                  edit_error::none);
        ASSERT_EQ(ed.replace(m.find(header_id::max_forwards)->value, "69"), edit_error::none);
        std::string out(ed.size(), '\0');
        ASSERT_EQ(ed.serialize({out.data(), out.size()}), out.size());
        branches.push_back(out);
    }
    ASSERT_EQ(err, edit_error::none);
    for (std::size_t i = 0; i < branches.size(); ++i) {
        parsed b(branches[i]);
        ASSERT_TRUE(b.result.ok()) << branches[i];
        EXPECT_EQ(b.msg.request_uri_text, i == 0 ? "sip:bob@198.18.0.20:5062" : "sip:bob@198.18.0.21:5064");
        EXPECT_EQ(b.msg.find(header_id::route), nullptr);
        EXPECT_EQ(b.msg.max_forwards, 69u);
        std::size_t vias = 0;
        for (const header& h : b.msg.headers) vias += h.id == header_id::via ? 1 : 0;
        EXPECT_EQ(vias, 2u);  // ours once, not once per branch
    }
    ed.rewind(shared);
    EXPECT_EQ(ed.edits(), 1u);
}

// The editor checks a new edit against its neighbours only. Against the rule itself, checked over
// every edit made (two edits clash when they share a byte or one inserts strictly inside the
// other's replaced bytes), random replaces, inserts, removes and rewinds get the same verdicts,
// and the message it writes is the reference's edits applied in order.
TEST(MessageEditor, VerdictsAndOutputAgreeWithTheRuleOverEveryEdit) {
    struct ref_edit {
        std::size_t begin, end;
        std::string text;
        std::size_t made;
    };
    const std::string text = "abcdefghijklmnopqrstuvwx";
    const std::string_view s(text);
    std::mt19937 rng(3);
    for (int round = 0; round < 3000; ++round) {
        message_editor ed(text);
        std::vector<ref_edit> ref;
        std::vector<std::pair<message_editor::mark, std::size_t>> marks;
        std::size_t made = 0;
        for (int step = 0; step < 12; ++step) {
            const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
            if (pick(8) == 0 && !marks.empty()) {
                const auto& chosen = marks[pick(marks.size())];
                const message_editor::mark m = chosen.first;
                const std::size_t kept = chosen.second;
                ed.rewind(m);
                std::erase_if(ref, [&](const ref_edit& e) { return e.made >= kept; });
                made = kept;
                std::erase_if(marks, [&](const auto& k) { return k.second > kept; });
                continue;
            }
            if (pick(4) == 0) marks.emplace_back(ed.checkpoint(), made);
            const std::size_t b = pick(text.size() + 1);
            const std::size_t e = pick(3) == 0 ? b : std::min(text.size(), b + 1 + pick(5));
            const std::string with = pick(3) == 0 ? "" : std::string(1 + pick(3), static_cast<char>('0' + step));
            bool clash = false;
            for (const ref_edit& o : ref) {
                const bool share = b < o.end && o.begin < e;
                const bool inside = (b == e && o.begin < b && b < o.end) || (o.begin == o.end && b < o.begin && o.begin < e);
                clash = clash || share || inside;
            }
            edit_error scratch = edit_error::none;
            const edit_error got = ed.replace(s.substr(b, e - b), ed.keep({with}, scratch));
            ASSERT_EQ(got, clash ? edit_error::overlapping : edit_error::none) << "round " << round << " step " << step;
            if (!clash) ref.push_back({b, e, with, made++});
        }
        // Applied in position order; at one position inserts before replacements, else in the order made.
        std::stable_sort(ref.begin(), ref.end(), [](const ref_edit& x, const ref_edit& y) {
            if (x.begin != y.begin) return x.begin < y.begin;
            return (x.end == x.begin) && (y.end != y.begin);
        });
        std::string want;
        std::size_t from = 0;
        for (const ref_edit& r : ref) {
            want += text.substr(from, r.begin - from) + r.text;
            from = r.end;
        }
        want += text.substr(from);
        std::array<char, 256> out{};
        ASSERT_EQ(std::string_view(out.data(), ed.serialize(out)), want) << "round " << round;
    }
}

TEST(MessageEditor, RefusesWhatItCannotDo) {
    const std::string text = "0123456789";
    message_editor ed(text);
    const std::string_view s(text);
    EXPECT_EQ(ed.replace(s.substr(2, 3), "abc"), edit_error::none);
    EXPECT_EQ(ed.replace(s.substr(4, 2), "x"), edit_error::overlapping);
    EXPECT_EQ(ed.insert(s.data() + 3, "x"), edit_error::overlapping);
    EXPECT_EQ(ed.insert(s.data() + 2, "<"), edit_error::none);  // at the edge: before the replaced bytes
    EXPECT_EQ(ed.insert(s.data() + 5, ">"), edit_error::none);  // and after them
    const std::string elsewhere = "zz";
    EXPECT_EQ(ed.replace(elsewhere, "y"), edit_error::outside_message);
    std::array<char, 4> tiny{};
    EXPECT_EQ(ed.serialize(tiny), 0u);
    std::array<char, 32> buf{};
    const std::size_t n = ed.serialize(buf);
    EXPECT_EQ(std::string_view(buf.data(), n), "01<abc>56789");

    message_editor many(text);
    for (std::size_t i = 0; i < message_editor::max_edits; ++i) ASSERT_EQ(many.insert(s.data(), "."), edit_error::none);
    EXPECT_EQ(many.insert(s.data(), "."), edit_error::too_many_edits);

    edit_error err = edit_error::none;
    const std::string big(message_editor::scratch_bytes + 1, 'x');
    EXPECT_TRUE(ed.keep({big}, err).empty());
    EXPECT_EQ(err, edit_error::scratch_full);
    err = edit_error::none;
    EXPECT_EQ(ed.keep_number(4294967296u, err), "4294967296");
    EXPECT_EQ(ed.keep_number(0, err), "0");
    EXPECT_EQ(err, edit_error::none);
}

} // namespace
} // namespace sipfast::sip
