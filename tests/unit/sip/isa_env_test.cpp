// SPDX-License-Identifier: Apache-2.0
// SIPFAST_ISA is read once, on first use, so this test runs as its own process and sets it first.
#include <cstdlib>

#include <gtest/gtest.h>

#include "sipfast/sip/isa.hpp"

namespace sipfast::sip {
namespace {

TEST(IsaChoice, EnvironmentForcesScalar) {
    EXPECT_EQ(active_implementation().name, "scalar");
    EXPECT_EQ(active_implementation_note(), "");
}

TEST(IsaChoice, ScalarIsAlwaysLastAndSupported) {
    const auto all = implementations();
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.back()->name, "scalar");
    EXPECT_TRUE(all.back()->supported());
    EXPECT_EQ(find_implementation("avx2")->name, "avx2");
    EXPECT_EQ(find_implementation("neon"), nullptr);
}

} // namespace
} // namespace sipfast::sip

int main(int argc, char** argv) {
    setenv("SIPFAST_ISA", "scalar", 1);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
