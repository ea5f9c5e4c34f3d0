// SPDX-License-Identifier: Apache-2.0
// Proves the parser allocates nothing: every allocation function of the process is counted while
// seed-sized messages are parsed with every implementation. (Not built under sanitizers, which own
// malloc.)

#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>

#include "test_util.hpp"

#include "malloc_count.hpp"

namespace sipfast::sip {
namespace {

TEST(ParserAllocations, ParsingAllocatesNothing) {
    const std::string msg = test::crlf(
        "INVITE tel:1012;phone-context=ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\n"
        "Via: SIP/2.0/TCP 182.0.3.113:5060;branch=z9hG4bK1;rport\n"
        "Max-Forwards: 70\n"
        "From: <sip:1013@ims.mnc001.mcc001.3gppnetwork.org>;tag=quecbbP\n"
        "To: \"1012\"<tel:1012;phone-context=ims.mnc001.mcc001.3gppnetwork.org>\n"
        "Contact: <sip:1013@182.0.3.113:5060>;+sip.instance=\"<urn:gsma:imei:86728604-423716-0>\";expires=600;q=0.5\n"
        "Route: <sip:10.88.120.34:5060;lr>\n"
        "Call-ID: 1@h\n"
        "CSeq: 1 INVITE\n"
        "Expires: 600\n"
        "Content-Type: application/sdp\n"
        "Content-Length: 5\n\nv=0\r\n");
    std::vector<header> slots(default_header_slots);
    message m;
    const auto isas = test::supported_isas();
    ASSERT_FALSE(isas.empty());
    long before = 0;
    counting = true;
    // Sanity: the counter sees allocations at all.
    void* probe = std::malloc(16);
    std::free(probe);
    const long seen = allocations.load();
    before = allocations.load();
    for (const implementation* isa : isas) {
        for (bool stream : {false, true}) {
            parse_options opt;
            opt.isa = isa;
            opt.stream = stream;
            for (int i = 0; i < 100; ++i) {
                const parse_result r = parse(msg, m, slots, opt);
                if (!r.ok()) {
                    counting = false;
                    FAIL() << to_string(r.error);
                }
            }
        }
    }
    const long after = allocations.load();
    counting = false;
    EXPECT_EQ(seen, 1);
    EXPECT_EQ(after - before, 0);
}

} // namespace
} // namespace sipfast::sip
