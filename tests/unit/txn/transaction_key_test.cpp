// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/transaction_key.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"

namespace sipfast::txn {
namespace {

using test::crlf;
using test::parsed;

std::string request(std::string_view method, std::string_view via) {
    return crlf(std::string(method) + " sip:bob@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP " + std::string(via) + "\n"
                "From: <sip:alice@example.com>;tag=a\nTo: <sip:bob@example.com>\nCall-ID: c1\n"
                "CSeq: 1 " + std::string(method) + "\nContent-Length: 0\n\n");
}

std::string key_of(std::string_view method, std::string_view via) {
    parsed p(request(method, via));
    EXPECT_TRUE(p.result.ok());
    return std::string(transaction_key(p.msg).bytes());
}

TEST(TransactionKey, BranchSentByAndMethod) {
    // RFC 3261 §17.2.3: all three take part; the sent-by port defaults to 5060.
    EXPECT_EQ(key_of("INVITE", "10.0.0.5:5062;branch=z9hG4bKx"), "z9hG4bKx|10.0.0.5:5062|INVITE");
    EXPECT_EQ(key_of("INVITE", "10.0.0.5;branch=z9hG4bKx"), "z9hG4bKx|10.0.0.5:5060|INVITE");
    EXPECT_NE(key_of("INVITE", "10.0.0.5:5062;branch=z9hG4bKx"), key_of("INVITE", "10.0.0.6:5062;branch=z9hG4bKx"));
    EXPECT_NE(key_of("INVITE", "10.0.0.5:5062;branch=z9hG4bKx"), key_of("INVITE", "10.0.0.5:5063;branch=z9hG4bKx"));
    EXPECT_NE(key_of("INVITE", "10.0.0.5;branch=z9hG4bKx"), key_of("BYE", "10.0.0.5;branch=z9hG4bKx"));
    // An ACK matches its INVITE; a CANCEL has its own transaction.
    EXPECT_EQ(key_of("ACK", "10.0.0.5;branch=z9hG4bKx"), key_of("INVITE", "10.0.0.5;branch=z9hG4bKx"));
    EXPECT_NE(key_of("CANCEL", "10.0.0.5;branch=z9hG4bKx"), key_of("INVITE", "10.0.0.5;branch=z9hG4bKx"));
    parsed cancel(request("CANCEL", "10.0.0.5;branch=z9hG4bKx"));
    EXPECT_EQ(transaction_key(cancel.msg, "INVITE").bytes(), key_of("INVITE", "10.0.0.5;branch=z9hG4bKx"));
}

TEST(TransactionKey, EmptyOrAbsentBranch) {
    // An absent branch (an RFC 2543 client; "branch=" does not parse) is an empty view with no
    // bytes behind it: the key is still made, and under UBSan copying it must not pass a null
    // pointer to memcpy. So is an empty method.
    EXPECT_EQ(key_of("INVITE", "10.0.0.5:5062"), "|10.0.0.5:5062|INVITE");
    EXPECT_EQ(key_of("ACK", "10.0.0.5:5062"), "|10.0.0.5:5062|INVITE");
    parsed p(request("INVITE", "10.0.0.5"));
    ASSERT_TRUE(p.result.ok());
    EXPECT_TRUE(transaction_key(p.msg).valid());
    EXPECT_TRUE(transaction_key(p.msg, "").valid());
}

TEST(TransactionKey, TooLongIsInvalid) {
    parsed p(request("INVITE", "10.0.0.5;branch=z9hG4bK" + std::string(200, 'b')));
    ASSERT_TRUE(p.result.ok());
    EXPECT_FALSE(transaction_key(p.msg).valid());
}

} // namespace
} // namespace sipfast::txn
