// SPDX-License-Identifier: Apache-2.0
// Grace periods: what was retired is freed only once no read section that was open when it was
// retired is left, and then on the next collect; a reader never waits.
#include "grace_period.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace sipfast::registrar {
namespace {

/// Counts its frees, so a test sees when each happened.
struct tracked {
    int* freed;
    static void free(void* p) {
        tracked* t = static_cast<tracked*>(p);
        ++*t->freed;
        delete t;
    }
};

void retire_one(retire_list& l, int& freed) { l.retire(new tracked{&freed}, &tracked::free); }

TEST(GracePeriod, WithNoReaderInASectionACollectFreesAtOnce) {
    int freed = 0;
    retire_list l;
    retire_one(l, freed);
    EXPECT_EQ(freed, 0);  // below a batch, nothing is looked at until a collect
    l.collect();
    EXPECT_EQ(freed, 1);
    EXPECT_EQ(l.pending(), 0u);
}

TEST(GracePeriod, AnOpenSectionHoldsBackWhatWasRetiredDuringIt) {
    int freed = 0;
    retire_list l;
    {
        const read_section s;
        retire_one(l, freed);
        l.collect();
        EXPECT_EQ(freed, 0);
        EXPECT_EQ(l.pending(), 1u);
    }
    l.collect();
    EXPECT_EQ(freed, 1);
}

TEST(GracePeriod, ANestedSectionEndingDoesNotEndTheOuterOne) {
    int freed = 0;
    retire_list l;
    {
        const read_section outer;
        { const read_section inner; }
        retire_one(l, freed);
        l.collect();
        EXPECT_EQ(freed, 0);
    }
    l.collect();
    EXPECT_EQ(freed, 1);
}

TEST(GracePeriod, AFullBatchFreesWhatOlderBatchesNoLongerNeedWithoutACollect) {
    int freed = 0;
    retire_list l;
    retire_one(l, freed);
    l.collect();  // freed: no reader
    for (std::size_t i = 0; i < retire_list::batch_size; ++i) retire_one(l, freed);
    EXPECT_EQ(freed, 1 + static_cast<int>(retire_list::batch_size));
}

TEST(GracePeriod, AnotherThreadsSectionHoldsBackUntilItEnds) {
    int freed = 0;
    retire_list l;
    std::promise<void> inside, leave;
    std::thread reader([&] {
        const read_section s;
        inside.set_value();
        leave.get_future().wait();
    });
    inside.get_future().wait();
    retire_one(l, freed);
    l.collect();
    EXPECT_EQ(freed, 0);
    leave.set_value();
    reader.join();
    l.collect();
    EXPECT_EQ(freed, 1);
}

TEST(GracePeriod, ASectionOpenedAfterTheBatchClosedHoldsNothingBack) {
    int freed = 0;
    retire_list l;
    std::promise<void> inside, leave;
    std::thread reader;
    {
        const read_section s;  // open while the batch closes
        retire_one(l, freed);
        l.collect();
        // Another reader starts now: it cannot reach what was retired, and must not hold it.
        reader = std::thread([&] {
            const read_section late;
            inside.set_value();
            leave.get_future().wait();
        });
        inside.get_future().wait();
    }
    l.collect();
    EXPECT_EQ(freed, 1);
    leave.set_value();
    reader.join();
}

TEST(GracePeriod, TheListFreesEverythingLeftWhenItGoes) {
    int freed = 0;
    {
        retire_list l;
        const read_section s;
        retire_one(l, freed);
        retire_one(l, freed);
        l.collect();
        EXPECT_EQ(freed, 0);
    }
    EXPECT_EQ(freed, 2);
}

} // namespace
} // namespace sipfast::registrar
