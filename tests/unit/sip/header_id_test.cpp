// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/header_id.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "sipfast/sip/method.hpp"

namespace sipfast::sip {
namespace {

TEST(HeaderId, FullAndCompactFormsInAnyCase) {
    EXPECT_EQ(classify_header_name("Via"), header_id::via);
    EXPECT_EQ(classify_header_name("v"), header_id::via);
    EXPECT_EQ(classify_header_name("V"), header_id::via);
    EXPECT_EQ(classify_header_name("CALL-ID"), header_id::call_id);
    EXPECT_EQ(classify_header_name("i"), header_id::call_id);
    EXPECT_EQ(classify_header_name("l"), header_id::content_length);
    EXPECT_EQ(classify_header_name("m"), header_id::contact);
    EXPECT_EQ(classify_header_name("o"), header_id::event);
    EXPECT_EQ(classify_header_name("x"), header_id::session_expires);
    EXPECT_EQ(classify_header_name("p-asserted-IDENTITY"), header_id::p_asserted_identity);
    EXPECT_EQ(classify_header_name("Security-Client"), header_id::security_client);
}

TEST(HeaderId, EveryIdRoundTripsThroughItsName) {
    for (std::size_t i = 1; i < header_id_count; ++i) {
        const auto id = static_cast<header_id>(i);
        EXPECT_EQ(classify_header_name(header_name(id)), id) << header_name(id);
    }
}

TEST(HeaderId, UnknownNamesAreOther) {
    EXPECT_EQ(classify_header_name("X-Foo"), header_id::other);
    EXPECT_EQ(classify_header_name("Vias"), header_id::other);
    EXPECT_EQ(classify_header_name("g"), header_id::other);
    EXPECT_EQ(classify_header_name(""), header_id::other);
    EXPECT_EQ(classify_header_name("Call_ID"), header_id::other);
    EXPECT_EQ(header_name(header_id::other), "");
}

// Inside a buffer a name of up to sixteen bytes is hashed and compared from one 16-byte load that
// also holds what follows it; every byte of the name still counts (a letter's case excepted),
// whatever follows it does not, a control byte never passes for a letter or '-' (CR | 0x20 is '-'),
// and a byte more or less is another name. Checked against a plain reading of the table: every
// one-byte change of every name, every byte appended to it, and the name one byte short, with
// room for the wide load after it and without.
TEST(HeaderId, InsideABufferEveryByteOfTheNameCountsAndNothingAfterIt) {
    std::vector<std::pair<std::string, header_id>> names;
    for (std::size_t i = 1; i < header_id_count; ++i)
        names.emplace_back(header_name(static_cast<header_id>(i)), static_cast<header_id>(i));
    for (char c = 'a'; c <= 'z'; ++c)  // compact forms, read alone (no room for a wide load)
        if (const header_id id = classify_header_name(std::string(1, c)); id != header_id::other)
            names.emplace_back(std::string(1, c), id);
    ASSERT_EQ(names.size(), header_id_count - 1 + 20);
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    const auto expected = [&](std::string_view s) {
        for (const auto& [name, id] : names)
            if (name.size() == s.size() &&
                std::equal(s.begin(), s.end(), name.begin(), [&](char a, char b) { return lower(a) == lower(b); }))
                return id;
        return header_id::other;
    };
    for (const auto& [name, id] : names) {
        for (const char* after : {": value\r\n\r\n", "                  ", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"}) {
            std::string buffer = name + after;
            const std::string_view in(buffer.data(), name.size());
            ASSERT_EQ(classify_header_name(in, buffer.size()), id) << name;
            for (std::size_t at = 0; at < name.size(); ++at)
                for (int b = 0; b < 256; ++b) {
                    const char was = buffer[at];
                    buffer[at] = static_cast<char>(b);
                    ASSERT_EQ(classify_header_name(in, buffer.size()), expected(in)) << name << " with byte " << at << " = " << b;
                    buffer[at] = was;
                }
            for (int b = 0; b < 256; ++b) {
                std::string longer = name + static_cast<char>(b) + after;
                const std::string_view in_longer(longer.data(), name.size() + 1);
                ASSERT_EQ(classify_header_name(in_longer, longer.size()), expected(in_longer))
                    << name << " and byte " << b;
            }
            const std::string_view shorter(buffer.data(), name.size() - 1);
            ASSERT_EQ(classify_header_name(shorter, buffer.size()), expected(shorter)) << name << " but its last byte";
        }
    }
}

TEST(Method, CaseSensitiveTokens) {
    EXPECT_EQ(classify_method("INVITE"), method::invite);
    EXPECT_EQ(classify_method("REGISTER"), method::register_);
    EXPECT_EQ(classify_method("REFER"), method::refer);
    EXPECT_EQ(classify_method("PRACK"), method::prack);
    EXPECT_EQ(classify_method("PUBLISH"), method::publish);
    EXPECT_EQ(classify_method("INFO"), method::info);
    EXPECT_EQ(classify_method("invite"), method::other);
    EXPECT_EQ(classify_method("INVITES"), method::other);
    EXPECT_EQ(method_name(method::subscribe), "SUBSCRIBE");
}

// Methods are compared a word at a time; each byte of every name still counts, and so does the length.
TEST(Method, EveryByteOfTheNameCounts) {
    for (std::size_t i = 1; i <= static_cast<std::size_t>(method::publish); ++i) {
        const auto m = static_cast<method>(i);
        const std::string name(method_name(m));
        ASSERT_EQ(classify_method(name), m) << name;
        for (std::size_t at = 0; at < name.size(); ++at)
            for (int b = 0; b < 256; ++b) {
                if (static_cast<char>(b) == name[at]) continue;
                std::string changed = name;
                changed[at] = static_cast<char>(b);
                ASSERT_EQ(classify_method(changed), method::other) << name << " with byte " << at << " = " << b;
            }
        EXPECT_EQ(classify_method(name.substr(0, name.size() - 1)), method::other) << name;
        EXPECT_EQ(classify_method(name + name.back()), method::other) << name;
    }
}

} // namespace
} // namespace sipfast::sip
