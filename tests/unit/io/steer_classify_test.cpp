// SPDX-License-Identifier: Apache-2.0
// The kernel's steering program and the shards must name the same owner: steer_classify.h (what
// src/io/bpf/steer.bpf.c runs, byte by byte) compiled natively here against proxy::message_owner
// on the corpus, its requests and responses carrying our branch in every spelling of a Via. That
// the kernel really runs it and steers is tests/integration/steering_test.py's to show.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/sip/parser.hpp"
#include "sipfast/txn/branch.hpp"
#include "steer_classify.h"

namespace sipfast {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t not_ours = 0xffffffffu;
// What the program reads of a datagram (steer.bpf.c: sf_chunks * sf_chunk).
constexpr std::size_t scanned_bytes = 4096;

std::vector<std::string> corpus_messages() {
    const char* dir = std::getenv("SIPFAST_CORPUS");
    const fs::path root = dir ? fs::path(dir) : fs::path("tests/corpus");
    std::vector<fs::path> files;
    if (fs::exists(root))
        for (const auto& e : fs::recursive_directory_iterator(root))
            if (e.path().extension() == ".sip") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const fs::path& p : files) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        out.push_back(s.str());
    }
    return out;
}

// The classifier's answer as the program computes it: chunks of SF_CHUNK bytes, each in a buffer
// whose bytes past the chunk are stale (line feeds here, to catch a scan that trusts them), run
// through sf_scan_step; the owner, or not_ours when it leaves the datagram to the kernel.
std::uint32_t classify(std::string_view datagram, std::uint32_t shards) {
    sf_classify c;
    sf_classify_begin(&c, core::steer_seed(), shards);
    std::vector<sf_u8> buffer(SF_CHUNK_ROOM);
    for (std::size_t from = 0; from < datagram.size() && from < scanned_bytes && c.result == sf_running; from += SF_CHUNK) {
        const auto n = static_cast<sf_u32>(std::min<std::size_t>(SF_CHUNK, datagram.size() - from));
        std::fill(buffer.begin(), buffer.end(), static_cast<sf_u8>('\n'));
        std::memcpy(buffer.data(), datagram.data() + from, n);
        sf_u32 at = 0;
        for (sf_u32 step = 0; step < n; ++step)  // bpf_loop(n, ...): each step takes a byte at least
            if (sf_scan_step(&c, buffer.data(), &at, n) != 0) break;
    }
    return c.result == sf_owner ? c.owner : not_ours;
}

// The same, a byte at a time through sf_classify_step: the word-wise skip changes nothing.
std::uint32_t classify_bytewise(std::string_view datagram, std::uint32_t shards) {
    sf_classify c;
    sf_classify_begin(&c, core::steer_seed(), shards);
    for (std::size_t i = 0; i < datagram.size() && i < scanned_bytes; ++i)
        if (sf_classify_step(&c, static_cast<sf_u8>(datagram[i])) != sf_running) break;
    return c.result == sf_owner ? c.owner : not_ours;
}

// The shards' answer, or nullopt when the parser refuses the message (no shard would own it).
std::optional<std::uint32_t> shard_owner(const std::string& text, std::uint32_t shards) {
    std::string padded = text;
    padded.append(sip::padding_bytes, '\0');
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message m;
    if (!sip::parse(std::string_view(padded.data(), text.size()), m, slots).ok()) return std::nullopt;
    if (!m.is_request() && !m.is_response()) return std::nullopt;
    return proxy::message_owner(m, shards, not_ours);
}

TEST(SteerHash, StreamEqualsTheShardsHash) {
    // The byte-at-a-time hash the program computes equals owner_hash, whatever the length's
    // remainder modulo the word.
    std::vector<std::string> ids = {"", "a", "a84b4c76e66710@pc33.atlanta.com", "12345678", "123456789"};
    for (int n = 0; n < 70; ++n) ids.push_back(std::string(static_cast<std::size_t>(n), static_cast<char>('a' + n % 26)));
    for (const std::string& id : ids) {
        for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x0123456789abcdefULL}, core::steer_seed()}) {
            sf_steer_stream s;
            sf_steer_begin(&s, seed);
            for (const char ch : id) sf_steer_push(&s, static_cast<sf_u8>(ch));
            EXPECT_EQ(sf_steer_end(&s), core::owner_hash(id, seed)) << id;
        }
    }
    // A known value, so the spec cannot change under both at once unnoticed.
    EXPECT_EQ(core::owner_hash("a84b4c76e66710@pc33.atlanta.com", 0), 0x992a8869d6663eceULL);
}

TEST(SteerClassify, RequestsOfTheCorpusGoWhereTheirCallIdHashes) {
    const std::vector<std::string> corpus = corpus_messages();
    ASSERT_GE(corpus.size(), 60u);
    std::size_t requests = 0, responses = 0;
    for (const std::uint32_t shards : {2u, 3u, 4u, 7u}) {
        for (const std::string& text : corpus) {
            const std::optional<std::uint32_t> expected = shard_owner(text, shards);
            if (!expected) continue;  // refused by the parser: whatever the kernel picks, it is answered 400 or dropped
            (*expected == not_ours ? responses : requests) += 1;
            EXPECT_EQ(classify(text, shards), *expected) << shards << " shards:\n" << text.substr(0, 400);
            EXPECT_EQ(classify_bytewise(text, shards), *expected) << shards << " shards:\n" << text.substr(0, 400);
        }
    }
    EXPECT_GT(requests, 100u);
    EXPECT_GT(responses, 10u);  // the corpus's responses carry others' branches: left to the kernel
}

TEST(SteerClassify, ResponsesGoToTheShardOfOurBranch) {
    const std::vector<std::string> corpus = corpus_messages();
    const std::vector<std::string> vias = {
        "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=@B",
        "v: SIP/2.0/UDP 198.18.0.1;rport=5060;received=198.18.0.9;branch=@B",
        "VIA : SIP/2.0/UDP 198.18.0.1:5060 ; BRANCH = @B ;rport",
        "via:\tSIP/2.0/UDP [2001:db8::1]:5060;branch=@B, SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKother",
        "Via: SIP/2.0/UDP 198.18.0.1:5060;branchx=1;branch=@B",
    };
    std::size_t checked = 0;
    for (const std::uint32_t shards : {2u, 4u, 7u}) {
        for (const std::string& text : corpus) {
            const std::size_t eol = text.find("\r\n");
            if (eol == std::string::npos || text.rfind("SIP/", 0) == 0) continue;
            for (std::uint32_t s = 0; s < shards; ++s) {
                const txn::our_branch b = txn::our_branch::stateful(s, 17, 3, {"x@y", 1}, 0x1234);
                for (std::string via : vias) {
                    via.replace(via.find("@B"), 2, b.text());
                    const std::string response = "SIP/2.0 180 Ringing\r\n" + via + "\r\n" + text.substr(eol + 2);
                    const std::optional<std::uint32_t> expected = shard_owner(response, shards);
                    if (!expected) continue;
                    EXPECT_EQ(*expected, s) << response.substr(0, 300);
                    EXPECT_EQ(classify(response, shards), *expected) << response.substr(0, 300);
                    EXPECT_EQ(classify_bytewise(response, shards), *expected) << response.substr(0, 300);
                    ++checked;
                }
            }
        }
    }
    EXPECT_GT(checked, 1000u);
}

TEST(SteerClassify, WhatItCannotReadIsLeftToTheKernel) {
    const std::string tail = "To: <sip:b@c>\r\nFrom: <sip:a@c>;tag=1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    const std::string via = "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKx\r\n";
    // A compact Call-ID and blanks around it are read as the parser reads them.
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "i:  abc@h \t\r\n" + tail, 4), core::owner_shard("abc@h", 4));
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "CALL-ID :abc@h\r\n" + tail, 4), core::owner_shard("abc@h", 4));
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\n" + via + "Call-ID: abc@h\n" + tail, 4), core::owner_shard("abc@h", 4));
    // No Call-ID; a folded one; one with a blank inside; a name that only starts like it.
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + tail, 4), not_ours);
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "Call-ID:\r\n abc@h\r\n" + tail, 4), not_ours);
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "Call-ID: abc @h\r\n" + tail, 4), not_ours);
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "Call-IDs: x\r\nid: y\r\n" + tail, 4), not_ours);
    // A Call-ID in the body, after the headers, is not one.
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + tail + "Call-ID: abc@h\r\n", 4), not_ours);
    // Responses: another's branch, a shard we do not have, our prefix with upper-case digits.
    EXPECT_EQ(classify("SIP/2.0 200 OK\r\n" + via + "Call-ID: abc@h\r\n" + tail, 4), not_ours);
    EXPECT_EQ(classify("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKsf0004.x\r\n" + tail, 4), not_ours);
    EXPECT_EQ(classify("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKsf000A.x\r\n" + tail, 16), not_ours);
    EXPECT_EQ(classify("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKsf000a.x\r\n" + tail, 16), 10u);
    // Only the top Via counts: a branch of ours in the second is another hop's.
    EXPECT_EQ(classify("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKsf0001.x\r\n" + tail, 4),
              not_ours);
    // A Call-ID in the second chunk, a line crossing the chunks' border.
    const std::string padding = "X-Pad: " + std::string(600, 'p') + "\r\n";
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + padding + "Call-ID: abc@h\r\n" + tail, 4), core::owner_shard("abc@h", 4));
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + std::string(489 - via.size(), 'x') + "\r\nCall-ID: abc@h\r\n" + tail, 4),
              core::owner_shard("abc@h", 4));
    // Past what is read: left to the kernel.
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "X-Pad: " + std::string(5000, 'p') + "\r\nCall-ID: abc@h\r\n" + tail, 4),
              not_ours);
    // No workers: nothing to pick.
    EXPECT_EQ(classify("OPTIONS sip:c SIP/2.0\r\n" + via + "Call-ID: abc@h\r\n" + tail, 0), not_ours);
}

} // namespace
} // namespace sipfast
