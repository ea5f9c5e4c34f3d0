// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/shard_hash.hpp"

#include <xxhash.h>

#include <random>

namespace sipfast::core {

namespace {
// Drawn at start: whoever picks Call-IDs cannot aim them all at one shard or one bucket of its
// tables (a flood of collisions), since the mapping differs in every process.
const XXH64_hash_t seed = [] {
    std::random_device source;  // getrandom(2) on Linux
    return (XXH64_hash_t{source()} << 32) | source();
}();
}

std::uint64_t call_id_hash(std::string_view call_id) noexcept {
    return XXH3_64bits_withSeed(call_id.data(), call_id.size(), seed);
}

} // namespace sipfast::core
