// SPDX-License-Identifier: Apache-2.0
// The memory store through location_store, on an explicit clock: what update() answers is what
// lookup() then finds, a user with no binding left is gone, and shards reading beside shards writing
// find only snapshots some REGISTER made (sized by operations, not by time).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {
namespace {

constexpr std::uint64_t s = 1'000'000'000;

instant at(std::uint64_t seconds) {
    return {100 * s + seconds * s, std::int64_t{1'700'000'000} * std::int64_t{s} + static_cast<std::int64_t>(seconds * s)};
}

const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

/// A REGISTER of `uris`, each for `expires` seconds (a "*" with Expires: 0 when `star`).
struct reg {
    std::vector<contact_request> contacts;
    register_request r;
    reg(const std::vector<std::string_view>& uris, std::uint32_t expires, std::string_view call_id, std::uint32_t cseq,
        bool star = false) {
        for (const std::string_view u : uris) {
            contact_request c;
            c.uri = u;
            c.has_expires = true;
            c.expires_s = expires;
            contacts.push_back(c);
        }
        r.contacts = contacts;
        r.call_id = call_id;
        r.cseq = cseq;
        r.star = star;
        r.has_expires = star;
    }
};

register_fault update(location_store& store, std::string_view aor, const reg& r, const instant& now) {
    binding_list after;
    return store.update(aor, r.r, now, limits, after);
}

TEST(MemoryStore, WhatAnUpdateAnswersIsWhatALookupFinds) {
    auto store = make_memory_store();
    EXPECT_FALSE(store->lookup("alice@example.com"));
    binding_list after;
    ASSERT_EQ(store->update("alice@example.com", reg({"sip:alice@198.18.0.7", "sip:alice@198.18.0.8"}, 600, "a", 1).r, at(0),
                            limits, after),
              register_fault::none);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->size(), 2u);
    EXPECT_EQ(store->lookup("alice@example.com"), after);
    EXPECT_FALSE(store->lookup("bob@example.com"));
}

TEST(MemoryStore, AFaultChangesNothingAndAnswersWhatIsThere) {
    auto store = make_memory_store();
    ASSERT_EQ(update(*store, "alice@example.com", reg({"sip:alice@198.18.0.7"}, 600, "a", 5), at(0)), register_fault::none);
    const binding_list before = store->lookup("alice@example.com");
    binding_list after;
    EXPECT_EQ(store->update("alice@example.com", reg({"sip:alice@198.18.0.7"}, 600, "a", 4).r, at(1), limits, after),
              register_fault::out_of_order);
    EXPECT_EQ(after, before);
    EXPECT_EQ(store->lookup("alice@example.com"), before);
}

TEST(MemoryStore, AUserWithNoBindingLeftIsGone) {
    auto store = make_memory_store();
    ASSERT_EQ(update(*store, "bob@example.com", reg({"sip:bob@198.18.0.9"}, 600, "b", 1), at(0)), register_fault::none);
    binding_list after;
    ASSERT_EQ(store->update("bob@example.com", reg({}, 0, "b", 2, true).r, at(1), limits, after), register_fault::none);
    EXPECT_FALSE(after);
    EXPECT_FALSE(store->lookup("bob@example.com"));
}

TEST(MemoryStore, ExpireFreesLapsedBindingsAndKeepsRefreshedOnes) {
    auto store = make_memory_store();
    ASSERT_EQ(update(*store, "alice@example.com", reg({"sip:alice@198.18.0.7"}, 60, "a", 1), at(0)), register_fault::none);
    ASSERT_EQ(update(*store, "bob@example.com", reg({"sip:bob@198.18.0.9"}, 60, "b", 1), at(0)), register_fault::none);
    ASSERT_EQ(update(*store, "bob@example.com", reg({"sip:bob@198.18.0.9"}, 60, "b", 2), at(30)), register_fault::none);
    EXPECT_EQ(store->expire(at(59)), 0u);
    // At 60 alice's lookup already finds nothing live; the sweep then frees it.
    ASSERT_TRUE(store->lookup("alice@example.com"));
    EXPECT_FALSE((*store->lookup("alice@example.com"))[0].live(at(60).monotonic_ns));
    EXPECT_EQ(store->expire(at(60)), 1u);
    EXPECT_FALSE(store->lookup("alice@example.com"));
    ASSERT_TRUE(store->lookup("bob@example.com"));
    EXPECT_EQ(store->expire(at(91)), 1u);
    EXPECT_FALSE(store->lookup("bob@example.com"));
}

// Sweeps run (one per second of a clock only they move) while two shards refresh their users with a
// short expiry and two others look up. A binding is removed only if it had lapsed at a sweep: at the
// end, after a last sweep, a user has a binding exactly when its last REGISTER's expiry is later than
// that sweep, and whatever a reader found was whole. Sized by operations, not by time.
TEST(MemoryStore, SweepsBesideWritersAndReadersRemoveOnlyWhatLapsed) {
    constexpr std::size_t users = 400;
    constexpr std::uint32_t rounds = 30;  // REGISTERs per user
    constexpr std::uint64_t sweeps = 60;
    const registrar_limits brief{.min_expires_s = 1, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};
    auto store = make_memory_store();
    std::vector<std::string> aors, uris;
    for (std::size_t u = 0; u < users; ++u) {
        aors.push_back("user" + std::to_string(u) + "@example.com");
        uris.push_back("sip:user" + std::to_string(u) + "@198.18.2.1");
    }
    std::atomic<std::uint64_t> second{0};
    std::vector<std::uint64_t> last_expiry(users, 0);  // each user is written by one writer only
    std::atomic<int> running{3};
    std::atomic<std::size_t> faults{0};
    const auto write = [&](std::size_t first) {
        for (std::uint32_t round = 1; round <= rounds; ++round)
            for (std::size_t u = first; u < users; u += 2) {
                // Expiries of 2 to 4 seconds: some lapse between refreshes, some do not.
                binding_list after;
                const register_fault f =
                    store->update(aors[u], reg({uris[u]}, 2 + static_cast<std::uint32_t>(u % 3), "c" + std::to_string(u), round).r,
                                  at(second.load()), brief, after);
                if (f != register_fault::none || !after) faults.fetch_add(1);
                else last_expiry[u] = (*after)[0].expires_ns;
            }
        running.fetch_sub(1);
    };
    const auto sweep = [&] {
        for (std::uint64_t i = 0; i < sweeps; ++i) {
            (void)store->expire(at(second.load()));
            second.fetch_add(1);
        }
        running.fetch_sub(1);
    };
    const auto read = [&](std::uint64_t seed) {
        std::uint64_t x = seed;
        while (running.load() != 0) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const std::size_t u = static_cast<std::size_t>(x >> 33) % users;
            const binding_list l = store->lookup(aors[u]);
            if (l && (l->size() != 1 || (*l)[0].contact != uris[u])) faults.fetch_add(1);
        }
    };
    std::thread r1(read, 21), r2(read, 22), w0(write, 0), w1(write, 1), sw(sweep);
    w0.join();
    w1.join();
    sw.join();
    r1.join();
    r2.join();
    EXPECT_EQ(faults.load(), 0u);
    const instant end = at(second.load());
    (void)store->expire(end);
    for (std::size_t u = 0; u < users; ++u)
        EXPECT_EQ(static_cast<bool>(store->lookup(aors[u])), last_expiry[u] > end.monotonic_ns) << aors[u];
}

// Two shards look up while two others register the same users, each from a device of its own (one
// Call-ID per writer). Every list found must be one a REGISTER made: ordered best first, at most one
// binding per writer, each binding's contact its writer's and its CSeq one that writer sent. At the
// end each user has both writers' last bindings.
TEST(MemoryStore, ShardsReadingBesideShardsWritingFindOnlyWholeSnapshots) {
    constexpr std::size_t users = 500;
    constexpr std::uint32_t rounds = 20;  // REGISTERs per user per writer
    constexpr std::size_t reader_lookups = 200'000;
    auto store = make_memory_store();
    std::vector<std::string> aors;
    for (std::size_t u = 0; u < users; ++u) aors.push_back("user" + std::to_string(u) + "@example.com");
    const std::string contacts[2] = {"sip:u@198.18.0.1", "sip:u@198.18.0.2"};
    const std::string call_ids[2] = {"writer-0", "writer-1"};

    std::atomic<int> writing{2};
    std::atomic<std::size_t> faults{0}, refused{0};
    const auto write = [&](int w) {
        for (std::uint32_t round = 1; round <= rounds; ++round)
            for (std::size_t u = 0; u < users; ++u)
                // The expiry grows with the round, so the newest binding sorts first.
                if (update(*store, aors[u], reg({contacts[w]}, 600 + round, call_ids[w], round), at(round)) !=
                    register_fault::none)
                    refused.fetch_add(1);
        writing.fetch_sub(1);
    };
    const auto read = [&](std::uint64_t seed) {
        std::uint64_t x = seed;
        for (std::size_t i = 0; i < reader_lookups || writing.load() != 0; ++i) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const binding_list l = store->lookup(aors[static_cast<std::size_t>(x >> 33) % users]);
            if (!l) continue;
            bool whole = !l->empty() && l->size() <= 2;
            for (std::size_t j = 0; j < l->size(); ++j) {
                const binding& b = (*l)[j];
                const bool mine0 = b.call_id == call_ids[0] && b.contact == contacts[0];
                const bool mine1 = b.call_id == call_ids[1] && b.contact == contacts[1];
                whole = whole && (mine0 || mine1) && b.cseq >= 1 && b.cseq <= rounds;
                if (j > 0) whole = whole && (*l)[j - 1].expires_ns >= b.expires_ns && (*l)[j - 1].call_id != b.call_id;
            }
            if (!whole) faults.fetch_add(1);
        }
    };
    std::thread r1(read, 11), r2(read, 12), w0(write, 0), w1(write, 1);
    w0.join();
    w1.join();
    r1.join();
    r2.join();
    EXPECT_EQ(faults.load(), 0u);
    EXPECT_EQ(refused.load(), 0u);
    for (const std::string& aor : aors) {
        const binding_list l = store->lookup(aor);
        ASSERT_TRUE(l);
        ASSERT_EQ(l->size(), 2u) << aor;
        EXPECT_EQ((*l)[0].cseq, rounds);
        EXPECT_EQ((*l)[1].cseq, rounds);
    }
}

} // namespace
} // namespace sipfast::registrar
