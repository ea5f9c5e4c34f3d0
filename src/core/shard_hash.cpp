// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/shard_hash.hpp"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <random>

namespace sipfast::core {

namespace {

std::uint64_t draw_seed() {
    std::random_device source;  // getrandom(2) on Linux
    return (std::uint64_t{source()} << 32) | source();
}

// Drawn at start: whoever picks Call-IDs cannot aim them all at one shard or one bucket of its
// tables (a flood of collisions), since the mapping differs in every process. Two seeds, so
// neither hash tells anything of the other's.
const XXH64_hash_t table_seed = draw_seed();
const std::uint64_t owner_seed = draw_seed();

} // namespace

std::uint64_t call_id_hash(std::string_view call_id) noexcept {
    return XXH3_64bits_withSeed(call_id.data(), call_id.size(), table_seed);
}

std::uint64_t steer_seed() noexcept { return owner_seed; }

std::uint64_t owner_hash(std::string_view call_id, std::uint64_t seed) noexcept {
    // steer_hash.h's stream, a word at a time: little-endian words, the last one zero-padded.
    static_assert(std::endian::native == std::endian::little, "the words are read little-endian");
    std::uint64_t h = seed;
    const char* p = call_id.data();
    std::size_t left = call_id.size();
    for (; left >= 8; left -= 8, p += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, 8);
        h = sf_steer_mix(h, w);
    }
    if (left != 0) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, left);
        h = sf_steer_mix(h, w);
    }
    return sf_steer_final(h, call_id.size());
}

} // namespace sipfast::core
