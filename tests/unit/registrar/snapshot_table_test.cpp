// SPDX-License-Identifier: Apache-2.0
// The read-mostly table under the registrar's bindings: a lookup finds exactly what was published
// for its key, through growth and removals, and readers running beside a writer see only whole
// snapshots, never an older one after a newer (sized by operations, not by time).
#include "snapshot_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sipfast::registrar {
namespace {

std::string aor_of(std::size_t n) { return "user" + std::to_string(n) + "@example.com"; }

/// `count` bindings for `aor`, each saying whose it is and which version of the list it is in.
binding_list list_of(const std::string& aor, std::uint32_t version, std::size_t count = 1) {
    auto v = std::make_shared<std::vector<binding>>(count);
    for (std::size_t i = 0; i < count; ++i) {
        (*v)[i].contact = "sip:" + aor;
        (*v)[i].cseq = version;
    }
    return v;
}

void put(snapshot_table& t, const std::string& aor, binding_list list, std::uint64_t timer_ns = 0) {
    snapshot_table::writer w(t, aor);
    w.publish(std::move(list), timer_ns);
}

TEST(SnapshotTable, FindsWhatWasPublishedAndNothingElse) {
    snapshot_table t;
    EXPECT_FALSE(t.find("alice@example.com"));
    const binding_list alice = list_of("alice@example.com", 1);
    put(t, "alice@example.com", alice);
    EXPECT_EQ(t.find("alice@example.com"), alice);
    EXPECT_FALSE(t.find("alice@example.co"));
    EXPECT_FALSE(t.find("alice@example.comm"));
    EXPECT_FALSE(t.find(""));
    EXPECT_EQ(t.size(), 1u);
}

TEST(SnapshotTable, PeekReadsTheListInPlaceWhileItsSectionLasts) {
    snapshot_table t;
    const binding_list first = list_of("ann@example.com", 1);
    put(t, "ann@example.com", first);
    const read_section section;
    EXPECT_EQ(t.peek("ann@example.com", section), first.get());
    EXPECT_EQ(t.peek("ann@example.co", section), nullptr);
    EXPECT_EQ(first.use_count(), 2);  // the test's and the table's: peek took none
}

TEST(SnapshotTable, AWriterSeesWhatItReplacesAndReadersSeeTheReplacement) {
    snapshot_table t;
    const binding_list first = list_of("bob@example.com", 1), second = list_of("bob@example.com", 2);
    put(t, "bob@example.com", first);
    const binding_list held = t.find("bob@example.com");
    {
        snapshot_table::writer w(t, "bob@example.com");
        EXPECT_EQ(w.current(), first);
        w.publish(second, 0);
        EXPECT_EQ(w.current(), second);
    }
    EXPECT_EQ(t.find("bob@example.com"), second);
    // A reader's list outlives its replacement: it holds its own reference.
    EXPECT_EQ((*held)[0].cseq, 1u);
    EXPECT_EQ(t.size(), 1u);
}

TEST(SnapshotTable, PublishingNothingRemovesTheAddressOfRecordAndOnlyIt) {
    snapshot_table t;
    // More keys than buckets' worth of one stripe: many share a bucket with another.
    for (std::size_t n = 0; n < 3000; ++n) put(t, aor_of(n), list_of(aor_of(n), 1));
    for (std::size_t n = 0; n < 3000; n += 2) put(t, aor_of(n), nullptr);
    EXPECT_EQ(t.size(), 1500u);
    for (std::size_t n = 0; n < 3000; ++n) {
        const binding_list l = t.find(aor_of(n));
        if (n % 2 == 0) {
            EXPECT_FALSE(l) << aor_of(n);
        } else {
            ASSERT_TRUE(l) << aor_of(n);
            EXPECT_EQ((*l)[0].contact, "sip:" + aor_of(n));
        }
    }
    put(t, "nobody@example.com", nullptr);  // removing what is not there changes nothing
    EXPECT_EQ(t.size(), 1500u);
}

TEST(SnapshotTable, GrowsPastOneAddressOfRecordPerBucketAndKeepsEveryOneWithItsTimer) {
    snapshot_table t;
    const std::size_t first = t.buckets();
    const std::size_t n = first * 4 + 1;
    for (std::size_t i = 0; i < n; ++i) put(t, aor_of(i), list_of(aor_of(i), 1), 1000 + i);
    EXPECT_GE(t.buckets(), n);
    EXPECT_EQ(t.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(t.find(aor_of(i))) << aor_of(i);
        const snapshot_table::writer w(t, aor_of(i));
        EXPECT_EQ(w.timer_ns(), 1000 + i);
    }
}

TEST(SnapshotTable, TakeDueUnsetsAndNamesOnlyTheTimersDueOfItsHash) {
    snapshot_table t;
    put(t, "carol@example.com", list_of("carol@example.com", 1), 500);
    put(t, "dave@example.com", list_of("dave@example.com", 1), 900);
    put(t, "erin@example.com", list_of("erin@example.com", 1), 0);
    std::vector<std::string> due;
    t.take_due(snapshot_table::hash_of("carol@example.com"), 499, due);
    EXPECT_TRUE(due.empty());
    t.take_due(snapshot_table::hash_of("carol@example.com"), 500, due);
    EXPECT_EQ(due, std::vector<std::string>{"carol@example.com"});
    t.take_due(snapshot_table::hash_of("carol@example.com"), 600, due);
    EXPECT_EQ(due.size(), 1u);  // taken once: its timer is unset
    t.take_due(snapshot_table::hash_of("erin@example.com"), 600, due);
    EXPECT_EQ(due.size(), 1u);  // no timer
    {
        const snapshot_table::writer w(t, "carol@example.com");
        EXPECT_EQ(w.timer_ns(), 0u);
    }
    const snapshot_table::writer w(t, "dave@example.com");
    EXPECT_EQ(w.timer_ns(), 900u);
}

// Two readers look up while one writer publishes versions 1, 2, 3, ... of every address-of-record,
// removing some and growing the table as it goes. Each list a reader finds must be whole (its
// bindings all of one version and of its own key) and, per key, never older than one it found before.
TEST(SnapshotTable, ReadersBesideAWriterSeeOnlyWholeSnapshotsInOrder) {
    constexpr std::size_t keys = 3000;      // past the first table's 1 024 buckets: it grows under the readers
    constexpr std::uint32_t versions = 12;  // each key written this many times
    constexpr std::size_t reader_lookups = 400'000;
    snapshot_table t;
    std::vector<std::string> names;
    for (std::size_t n = 0; n < keys; ++n) names.push_back(aor_of(n));

    std::atomic<bool> writing{true};
    std::atomic<std::size_t> faults{0};
    const auto read = [&](std::uint64_t seed) {
        std::vector<std::uint32_t> newest(keys, 0);
        std::uint64_t s = seed;
        // At least reader_lookups, and on until the writer is done, so every write meets readers.
        for (std::size_t i = 0; i < reader_lookups || writing.load(std::memory_order_relaxed); ++i) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            const std::size_t k = static_cast<std::size_t>(s >> 33) % keys;
            const binding_list l = t.find(names[k]);
            if (!l) continue;  // not written yet, or removed at this version
            const std::uint32_t v = (*l)[0].cseq;
            bool whole = l->size() == 1 + v % 3;
            for (const binding& b : *l) whole = whole && b.cseq == v && b.contact == "sip:" + names[k];
            if (!whole || v < newest[k]) faults.fetch_add(1);
            newest[k] = v;
        }
    };
    std::thread r1(read, 1), r2(read, 2);
    for (std::uint32_t v = 1; v <= versions; ++v)
        for (std::size_t k = 0; k < keys; ++k)
            // Every fifth version of every seventh key is a removal.
            put(t, names[k], (k % 7 == 0 && v % 5 == 0) ? nullptr : list_of(names[k], v, 1 + v % 3));
    writing.store(false);
    r1.join();
    r2.join();
    EXPECT_EQ(faults.load(), 0u);
    EXPECT_GE(t.buckets(), keys);
    for (std::size_t k = 0; k < keys; ++k) {
        const binding_list l = t.find(names[k]);
        ASSERT_TRUE(l);
        EXPECT_EQ((*l)[0].cseq, versions);
    }
}

} // namespace
} // namespace sipfast::registrar
