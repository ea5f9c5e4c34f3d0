// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/branch.hpp"

#include "sipfast/core/text_writer.hpp"

namespace sipfast::txn {

namespace {

constexpr std::size_t shard_digits = 4;
constexpr std::size_t loop_digits = 16;

// Lower-case hex digits, as we write them.
bool read_hex(std::string_view s, std::uint32_t& v) noexcept {
    v = 0;
    for (char c : s) {
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + static_cast<std::uint32_t>(d);
    }
    return !s.empty();
}

core::text_writer& head(core::text_writer& w, std::uint32_t shard) noexcept {  // what every branch of ours starts with
    return w.put(our_branch::prefix).hex(shard, shard_digits);
}

} // namespace

our_branch our_branch::stateless(std::uint32_t shard, std::uint64_t request_hash, std::uint64_t loop_hash) noexcept {
    our_branch b;
    core::text_writer w(b.buf_);
    head(w, shard).put('.').hex(request_hash, 16).put('.').hex(loop_hash, loop_digits);
    b.len_ = w.size();
    return b;
}

our_branch our_branch::stateful(std::uint32_t shard, std::uint32_t slot, std::uint32_t generation,
                                std::uint64_t loop_hash) noexcept {
    our_branch b;
    core::text_writer w(b.buf_);
    head(w, shard).put(".t").hex(slot, 8).hex(generation, 8).put('.').hex(loop_hash, loop_digits);
    b.len_ = w.size();
    return b;
}

bool branch_shard(std::string_view branch, std::uint32_t shards, std::uint32_t& shard) noexcept {
    if (branch.substr(0, our_branch::prefix.size()) != our_branch::prefix) return false;
    std::uint32_t s = 0;
    if (!read_hex(branch.substr(our_branch::prefix.size(), shard_digits), s) || s >= shards) return false;
    shard = s;
    return true;
}

bool branch_transaction(std::string_view branch, std::uint32_t& slot, std::uint32_t& generation) noexcept {
    // z9hG4bKsf SSSS . t IIIIIIII GGGGGGGG . loop
    const std::size_t at = our_branch::prefix.size() + shard_digits;
    if (branch.size() < at + 18 || branch.substr(0, our_branch::prefix.size()) != our_branch::prefix ||
        branch[at] != '.' || branch[at + 1] != 't')
        return false;
    std::uint32_t shard = 0;
    if (!read_hex(branch.substr(our_branch::prefix.size(), shard_digits), shard)) return false;
    return read_hex(branch.substr(at + 2, 8), slot) && read_hex(branch.substr(at + 10, 8), generation);
}

bool branch_has_loop_hash(std::string_view branch, std::uint64_t loop_hash) noexcept {
    if (branch.substr(0, our_branch::prefix.size()) != our_branch::prefix || branch.size() <= loop_digits) return false;
    core::text<loop_digits> tail;
    tail.hex(loop_hash, loop_digits);
    return branch.substr(branch.size() - loop_digits) == tail.view();
}

} // namespace sipfast::txn
