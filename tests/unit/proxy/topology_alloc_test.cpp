// SPDX-License-Identifier: Apache-2.0
// Topology hiding allocates nothing per message: every allocation function of the process is counted
// while the pipeline handles whole calls with [topology] hide (INVITE, 180, 200, ACK, BYE, 200, the
// in-dialog requests along the Contact and Record-Route of ours). The test builds its messages with
// the counter off. (Not built under sanitizers, which own malloc.)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "proxy_test_util.hpp"
#include "test_util.hpp"

#include "malloc_count.hpp"

namespace sipfast::proxy {
namespace {

using test::parsed;

struct counted_driver : test::pipeline_driver {
    using pipeline_driver::pipeline_driver;
    // One message in, counted; what it sent is read with the counter off.
    void feed(const std::string& text, const net_address& from) {
        out.clear();
        const inbound in{text, from, &config.listen[0]};
        const long before = allocations.load();
        counting = true;
        p->on_packet(in, now, out);
        counting = false;
        if (allocations.load() != before) std::fprintf(stderr, "allocated in: %.60s\n", text.c_str());
    }
    std::string sent_to(const net_address& to) const {
        for (std::size_t i = 0; i < out.size(); ++i)
            if (out[i].destination == to) return sent(i);
        return {};
    }
};

std::string first(const sip::message& m, sip::header_id id) {
    const std::vector<std::string> v = test::values(m, id);
    return v.empty() ? std::string() : v[0];
}

TEST(TopologyAllocations, AHiddenCallAllocatesNothing) {
    counted_driver d(test::test_config(proxy_mode::stateful));
    d.config.hide_topology = true;
    d.config.transactions_per_shard = 256;
    d.p = std::make_unique<pipeline>(d.config, 0);
    const net_address uac = test::addr("198.18.0.9:5070");
    const net_address bob = test::addr("198.18.0.20:5062");
    // Sanity: the counter sees allocations at all.
    counting = true;
    void* probe = std::malloc(16);
    counting = false;
    std::free(probe);
    ASSERT_EQ(allocations.load(), 1);
    allocations = 0;
    int completed = 0;
    for (int call = 0; call < 50; ++call) {
        // The first call makes the process's branch key (once, from SIPFAST_BRANCH_SECRET or the
        // kernel's random source), with or without hiding; the rest is what every call costs.
        if (call == 1) allocations = 0;
        const std::string id = "alloc-" + std::to_string(call);
        d.now += 10'000'000;
        d.feed(test::request_text({.via = "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKi" + id + ";rport", .call_id = id,
                                   .contact = "<sip:alice@198.18.0.9:5070>"}),
               uac);
        const std::string invite = d.sent_to(bob);
        ASSERT_FALSE(invite.empty()) << call;
        const std::string rr = first(parsed(invite).msg, sip::header_id::record_route);
        const std::string extra = "Record-Route: " + rr + "\nContact: <sip:bob@198.18.0.20:5062>\n";
        d.feed(test::answer_to(invite, 180, "Ringing", "b1", extra), bob);
        d.feed(test::answer_to(invite, 200, "OK", "b1", extra), bob);
        const std::string ok = d.sent_to(uac);
        ASSERT_EQ(parsed(ok).msg.status_code, 200) << call;
        const parsed okp(ok);
        const std::string contact(okp.msg.first_contact.get()->addr.address.text);
        const std::string route = "Route: " + first(okp.msg, sip::header_id::record_route) + "\n";
        d.feed(test::request_text({.method = "ACK", .ruri = contact, .via = "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKa" + id,
                                   .to_tag = "b1", .extra = route, .call_id = id}),
               uac);
        ASSERT_FALSE(d.sent_to(bob).empty()) << call;
        d.feed(test::request_text({.method = "BYE", .ruri = contact, .via = "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKb" + id,
                                   .to_tag = "b1", .extra = route, .call_id = id}),
               uac);
        const std::string bye = d.sent_to(bob);
        ASSERT_FALSE(bye.empty()) << call;
        d.feed(test::answer_to(bye, 200, "OK", "b1"), bob);
        ASSERT_EQ(parsed(d.sent_to(uac)).msg.status_code, 200) << call;
        ++completed;
    }
    EXPECT_EQ(completed, 50);
    EXPECT_EQ(allocations.load(), 0);
}

} // namespace
} // namespace sipfast::proxy
