// SPDX-License-Identifier: Apache-2.0
// The dialog tracker: a dialog is found from either end, by Call-ID and both tags, whatever those
// are (empty ones included), and a full table tracks no more.
#include "sipfast/proxy/dialogs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sipfast::proxy {
namespace {

TEST(DialogTracker, FoundFromEitherEnd) {
    dialog_tracker t(4);
    const dialog_tracker::ref r = t.create("c1@h", "a1", "b1");
    ASSERT_NE(r.d, nullptr);
    EXPECT_EQ(t.find("c1@h", "a1", "b1").d, r.d);
    EXPECT_EQ(t.find("c1@h", "b1", "a1").d, r.d);
    EXPECT_EQ(t.find("c1@h", "a1", "b2").d, nullptr);
    EXPECT_EQ(t.create("c1@h", "b1", "a1").d, nullptr);  // exists already
}

TEST(DialogTracker, EmptyTagsAndCallId) {
    // A peer that sends "tag=" or no tag at all gives empty views with no bytes behind them (data()
    // may be null): the key is made from the separators alone, and UBSan sees no memcpy from null.
    dialog_tracker t(4);
    const std::string_view none;
    const dialog_tracker::ref both = t.create("c1@h", none, none);
    ASSERT_NE(both.d, nullptr);
    EXPECT_EQ(t.find("c1@h", "", none).d, both.d);
    const dialog_tracker::ref one = t.create("c1@h", none, "b1");
    ASSERT_NE(one.d, nullptr);
    EXPECT_NE(one.d, both.d);
    EXPECT_EQ(t.find("c1@h", "b1", none).d, one.d);
    const dialog_tracker::ref nothing = t.create(none, none, none);
    ASSERT_NE(nothing.d, nullptr);
    EXPECT_EQ(t.find(none, none, none).d, nothing.d);
    EXPECT_EQ(t.size(), 3u);
}

TEST(DialogTracker, KeyTooLongOrTableFullTracksNothing) {
    dialog_tracker t(2);
    EXPECT_EQ(t.create(std::string(300, 'c'), "a", "b").d, nullptr);
    ASSERT_NE(t.create("c1", "a", "b").d, nullptr);
    ASSERT_NE(t.create("c2", "a", "b").d, nullptr);
    EXPECT_EQ(t.create("c3", "a", "b").d, nullptr);
}

TEST(DialogTracker, EraseOnlyTheGenerationNamed) {
    dialog_tracker t(2);
    const dialog_tracker::ref r = t.create("c1", "a", "b");
    ASSERT_NE(r.d, nullptr);
    EXPECT_FALSE(t.erase(r.slot, r.generation + 1));
    EXPECT_TRUE(t.erase(r.slot, r.generation));
    EXPECT_FALSE(t.erase(r.slot, r.generation));  // a timer still set for it finds nothing
    EXPECT_EQ(t.find("c1", "a", "b").d, nullptr);
}

} // namespace
} // namespace sipfast::proxy
