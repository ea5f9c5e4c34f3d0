// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/shard_hash.hpp"

#include <xxhash.h>

namespace sipfast::core {

namespace {
constexpr XXH64_hash_t seed = 0x5349'5046'4153'5421ull;  // "SIPFAST!"
}

std::uint64_t call_id_hash(std::string_view call_id) noexcept {
    return XXH3_64bits_withSeed(call_id.data(), call_id.size(), seed);
}

} // namespace sipfast::core
