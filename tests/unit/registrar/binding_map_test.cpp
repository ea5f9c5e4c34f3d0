// SPDX-License-Identifier: Apache-2.0
// Expiry in the memory under every store, on an explicit clock: an address-of-record's timer fires
// at the first of its bindings to lapse, expire() drops what has lapsed by the writers' rule under
// their lock (so what a REGISTER refreshed between the timer and the sweep stays), and the next timer
// is set for what is left.
#include "binding_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipfast::registrar {
namespace {

constexpr std::uint64_t s = 1'000'000'000;
constexpr std::uint64_t start_ns = 100 * s;  // the monotonic clock at the test's second 0

std::uint64_t at(std::uint64_t seconds) { return start_ns + seconds * s; }

const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

struct reg {
    std::vector<contact_request> contacts;
    register_request r;
    reg(const std::vector<std::pair<std::string_view, std::uint32_t>>& uris, std::string_view call_id, std::uint32_t cseq) {
        for (const auto& [uri, expires] : uris) {
            contact_request c;
            c.uri = uri;
            c.has_expires = true;
            c.expires_s = expires;
            contacts.push_back(c);
        }
        r.contacts = contacts;
        r.call_id = call_id;
        r.cseq = cseq;
    }
};

void update(binding_map& m, std::string_view aor, const reg& r, std::uint64_t now_ns) {
    binding_list after;
    ASSERT_EQ(m.update(aor, r.r, now_ns, limits, after), register_fault::none);
}

bool agree(const binding_list&, const std::vector<binding>&) { return true; }

/// What a store's expire() does: every address-of-record due, expired.
std::size_t sweep(binding_map& m, std::uint64_t now_ns) {
    std::size_t n = 0;
    for (const std::string& aor : m.due(now_ns)) n += m.expire(aor, now_ns, agree);
    return n;
}

TEST(BindingMapExpiry, ABindingLeavesAtTheFirstSweepPastItsExpiryAndNotBefore) {
    binding_map m;
    update(m, "alice@example.com", reg({{"sip:alice@198.18.0.7", 60}}, "a", 1), at(0));
    EXPECT_EQ(m.timers(), 1u);
    EXPECT_EQ(sweep(m, at(59)), 0u);
    EXPECT_TRUE(m.find("alice@example.com"));
    EXPECT_EQ(sweep(m, at(60)), 1u);  // lapsed at 60: live() is now < expiry
    EXPECT_FALSE(m.find("alice@example.com"));
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.timers(), 0u);
}

TEST(BindingMapExpiry, ARefreshedBindingStaysAndLeavesAtItsNewExpiry) {
    binding_map m;
    update(m, "bob@example.com", reg({{"sip:bob@198.18.0.9", 60}}, "b", 1), at(0));
    update(m, "bob@example.com", reg({{"sip:bob@198.18.0.9", 60}}, "b", 2), at(30));  // now lapses at 90
    EXPECT_EQ(sweep(m, at(61)), 0u);
    ASSERT_TRUE(m.find("bob@example.com"));
    EXPECT_EQ(m.timers(), 1u);  // the one fired found nothing lapsed and set the next
    EXPECT_EQ(sweep(m, at(89)), 0u);
    EXPECT_EQ(sweep(m, at(91)), 1u);
    EXPECT_FALSE(m.find("bob@example.com"));
}

TEST(BindingMapExpiry, ARefreshBetweenTheTimerAndTheSweepIsKept) {
    binding_map m;
    update(m, "carol@example.com", reg({{"sip:carol@198.18.0.21", 60}}, "c", 1), at(0));
    const std::vector<std::string> due = m.due(at(61));
    ASSERT_EQ(due, std::vector<std::string>{"carol@example.com"});
    // A shard refreshes carol before the sweep gets to her.
    update(m, "carol@example.com", reg({{"sip:carol@198.18.0.21", 60}}, "c", 2), at(61));
    EXPECT_EQ(m.expire("carol@example.com", at(61), agree), 0u);
    const binding_list l = m.find("carol@example.com");
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)[0].cseq, 2u);
    EXPECT_EQ(sweep(m, at(120)), 0u);
    EXPECT_EQ(sweep(m, at(122)), 1u);
}

TEST(BindingMapExpiry, OnlyTheLapsedBindingsOfAnAddressOfRecordGo) {
    binding_map m;
    update(m, "dave@example.com", reg({{"sip:dave@198.18.0.22", 60}, {"sip:dave@198.18.0.23", 120}}, "d", 1), at(0));
    EXPECT_EQ(sweep(m, at(61)), 1u);
    binding_list l = m.find("dave@example.com");
    ASSERT_TRUE(l);
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].contact, "sip:dave@198.18.0.23");
    EXPECT_EQ(sweep(m, at(121)), 1u);
    EXPECT_FALSE(m.find("dave@example.com"));
}

TEST(BindingMapExpiry, AnExpiryMovedEarlierGetsAnEarlierTimer) {
    binding_map m;
    update(m, "erin@example.com", reg({{"sip:erin@198.18.0.24", 3600}}, "e", 1), at(0));
    update(m, "erin@example.com", reg({{"sip:erin@198.18.0.24", 60}}, "e", 2), at(1));  // lapses at 61
    EXPECT_EQ(sweep(m, at(62)), 1u);
    EXPECT_FALSE(m.find("erin@example.com"));
    EXPECT_EQ(sweep(m, at(3601)), 0u);  // the first timer fires and finds nobody
    EXPECT_EQ(m.timers(), 0u);
}

TEST(BindingMapExpiry, ACommitThatRefusesChangesNothingAndIsAskedAgainAtTheNextTick) {
    binding_map m;
    update(m, "frank@example.com", reg({{"sip:frank@198.18.0.25", 60}}, "f", 1), at(0));
    std::size_t asked = 0;
    for (const std::string& aor : m.due(at(61)))
        EXPECT_EQ(m.expire(aor, at(61), [&](const binding_list& before, const std::vector<binding>& next) {
            ++asked;
            EXPECT_EQ(before->size(), 1u);
            EXPECT_TRUE(next.empty());
            return false;
        }),
                  0u);
    EXPECT_EQ(asked, 1u);
    EXPECT_TRUE(m.find("frank@example.com"));
    EXPECT_EQ(sweep(m, at(62)), 1u);
    EXPECT_FALSE(m.find("frank@example.com"));
}

// Past the first wheel's slab (1 024 timers), one sweep a second as the daemon runs it: each
// address-of-record leaves at the first sweep past its expiry, none before.
TEST(BindingMapExpiry, ThousandsOfAddressesOfRecordLeaveEachAtItsOwnSecond) {
    constexpr std::uint32_t users = 3000;
    binding_map m;
    std::vector<std::string> aors;
    for (std::uint32_t u = 0; u < users; ++u) {
        aors.push_back("user" + std::to_string(u) + "@example.com");
        const std::string uri = "sip:user" + std::to_string(u) + "@198.18.1.1";
        update(m, aors.back(), reg({{uri, 60 + u % 100}}, "call-" + std::to_string(u), 1), at(0));
    }
    EXPECT_EQ(m.timers(), users);
    std::size_t gone = 0;
    for (std::uint64_t second = 1; second <= 160; ++second) {
        gone += sweep(m, at(second));
        for (std::uint32_t u = 0; u < users; u += 97)
            EXPECT_EQ(static_cast<bool>(m.find(aors[u])), second < 60 + u % 100) << aors[u] << " at " << second;
    }
    EXPECT_EQ(gone, users);
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.timers(), 0u);
}

TEST(BindingMapExpiry, BindingsRestoredByReplaceHaveTimersToo) {
    binding_map m;
    binding b;
    b.contact = "sip:gina@198.18.0.26";
    b.expires_ns = at(30);
    (void)m.replace("gina@example.com", {b}, at(0));
    EXPECT_EQ(sweep(m, at(29)), 0u);
    EXPECT_EQ(sweep(m, at(31)), 1u);
    EXPECT_FALSE(m.find("gina@example.com"));
}

} // namespace
} // namespace sipfast::registrar
