// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/branch.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "sipfast/core/siphash.hpp"
#include "sipfast/core/text_writer.hpp"

namespace sipfast::txn {

namespace {

constexpr std::size_t shard_digits = 4;
constexpr std::size_t loop_digits = 16;
constexpr std::size_t mac_digits = 16;
// Where the middle part starts: after the prefix, the shard and the dot.
constexpr std::size_t middle_at = our_branch::prefix.size() + shard_digits + 1;
constexpr std::size_t stateful_middle = 1 + 8 + 8;  // t, slot, generation
constexpr std::size_t stateless_middle = 16;        // the request's hash
constexpr std::string_view secret_variable = "SIPFAST_BRANCH_SECRET";

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

// SIPFAST_BRANCH_SECRET as a key: 32 hex digits; false when unset or malformed.
bool secret_from_environment(core::siphash_key& key) noexcept {
    const char* text = std::getenv(std::string(secret_variable).c_str());
    if (text == nullptr) return false;
    const std::string_view hex(text);
    std::uint32_t word = 0;
    if (hex.size() != 32) return false;
    for (std::size_t i = 0; i < 4; ++i) {
        if (!read_hex(hex.substr(8 * i, 8), word)) return false;
        key[i / 2] = (key[i / 2] << 32) | word;
    }
    return true;
}

// The secret of this process: branches we made verify only here, unless the operator gave the same
// SIPFAST_BRANCH_SECRET to several (nodes that answer for each other, a replay that must be exact).
const core::siphash_key& secret() {
    static const core::siphash_key key = [] {
        core::siphash_key k{};
        return secret_from_environment(k) ? k : core::random_siphash_key();
    }();
    return key;
}

// The MAC of a branch: what comes before it and the loop hash after it, and the request's identity.
std::uint64_t mac(std::string_view before, std::string_view loop, const branch_identity& id) noexcept {
    return core::siphash(secret()).update(before).update(loop).update(std::uint64_t{id.cseq}).update(id.call_id).finish();
}

// Appends the MAC of what `w` holds and the loop hash, then the loop hash.
void seal(core::text_writer& w, const branch_identity& id, std::uint64_t loop_hash) noexcept {
    core::text<loop_digits> loop;
    loop.hex(loop_hash, loop_digits);
    w.hex(mac(w.view(), loop.view(), id), mac_digits).put('.').put(loop.view());
}

} // namespace

our_branch our_branch::stateless(std::uint32_t shard, std::uint64_t request_hash, const branch_identity& id,
                                  std::uint64_t loop_hash) noexcept {
    our_branch b;
    core::text_writer w(b.buf_);
    head(w, shard).put('.').hex(request_hash, 16);
    seal(w, id, loop_hash);
    b.len_ = w.size();
    return b;
}

our_branch our_branch::stateful(std::uint32_t shard, std::uint32_t slot, std::uint32_t generation, const branch_identity& id,
                                std::uint64_t loop_hash) noexcept {
    our_branch b;
    core::text_writer w(b.buf_);
    head(w, shard).put(".t").hex(slot, 8).hex(generation, 8);
    seal(w, id, loop_hash);
    b.len_ = w.size();
    return b;
}

bool branch_verifies(std::string_view branch, const branch_identity& id) noexcept {
    if (branch.size() <= middle_at || branch.substr(0, our_branch::prefix.size()) != our_branch::prefix) return false;
    const std::size_t mac_at = middle_at + (branch[middle_at] == 't' ? stateful_middle : stateless_middle);
    if (branch.size() != mac_at + mac_digits + 1 + loop_digits || branch[middle_at - 1] != '.' ||
        branch[mac_at + mac_digits] != '.')
        return false;
    core::text<mac_digits> expected;
    expected.hex(mac(branch.substr(0, mac_at), branch.substr(mac_at + mac_digits + 1), id), mac_digits);
    // Compared in full whatever differs first: how long a refusal takes tells nothing of the MAC.
    unsigned differ = 0;
    for (std::size_t i = 0; i < mac_digits; ++i)
        differ |= static_cast<unsigned>(static_cast<unsigned char>(branch[mac_at + i])) ^
                  static_cast<unsigned>(static_cast<unsigned char>(expected.view()[i]));
    return differ == 0;
}

void write_dialog_mark(std::string_view call_id, core::text_writer& out) noexcept {
    out.hex(core::siphash(secret()).update("dialog").update(call_id).finish(), 16);
}

bool dialog_mark_verifies(std::string_view mark, std::string_view call_id) noexcept {
    core::text<16> expected;
    write_dialog_mark(call_id, expected);
    if (mark.size() != expected.view().size()) return false;
    unsigned differ = 0;  // compared in full: the time of a refusal tells nothing
    for (std::size_t i = 0; i < mark.size(); ++i)
        differ |= static_cast<unsigned>(static_cast<unsigned char>(mark[i])) ^
                  static_cast<unsigned>(static_cast<unsigned char>(expected.view()[i]));
    return differ == 0;
}

namespace {

constexpr std::string_view base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

std::uint64_t synthetic_iv(std::string_view purpose, std::string_view context, std::string_view plain) noexcept {
    return core::siphash(secret())
        .update("seal-iv")
        .update(std::uint64_t{purpose.size()})
        .update(purpose)
        .update(std::uint64_t{context.size()})
        .update(context)
        .update(plain)
        .finish();
}

// The key stream's byte i for `iv`: SipHash as a PRF in counter mode.
struct key_stream {
    std::uint64_t iv;
    std::uint64_t block = 0;
    std::uint64_t word = 0;
    std::size_t at = 8;
    std::uint8_t next() noexcept {
        if (at == 8) {
            word = core::siphash(secret()).update("seal-ks").update(iv).update(block++).finish();
            at = 0;
        }
        return static_cast<std::uint8_t>(word >> (8 * at++));
    }
};

} // namespace

bool seal(std::string_view purpose, std::string_view context, std::string_view plain, core::text_writer& out) noexcept {
    if (plain.size() > max_sealed_plain) return false;
    const std::uint64_t iv = synthetic_iv(purpose, context, plain);
    std::array<std::uint8_t, 8 + max_sealed_plain> raw{};
    for (std::size_t i = 0; i < 8; ++i) raw[i] = static_cast<std::uint8_t>(iv >> (8 * i));
    key_stream ks{iv};
    for (std::size_t i = 0; i < plain.size(); ++i) raw[8 + i] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(plain[i]) ^ ks.next());
    const std::size_t n = 8 + plain.size();
    // base64url without padding: 4 characters per 3 bytes, 2 or 3 for a last 1 or 2.
    for (std::size_t i = 0; i < n; i += 3) {
        const std::size_t k = std::min<std::size_t>(3, n - i);
        std::uint32_t v = static_cast<std::uint32_t>(raw[i]) << 16;
        if (k > 1) v |= static_cast<std::uint32_t>(raw[i + 1]) << 8;
        if (k > 2) v |= raw[i + 2];
        for (std::size_t j = 0; j <= k; ++j) out.put(base64url[(v >> (18 - 6 * j)) & 63]);
    }
    return out.ok();
}

bool unseal(std::string_view purpose, std::string_view context, std::string_view sealed, core::text_writer& out) noexcept {
    std::array<std::uint8_t, 8 + max_sealed_plain> raw{};
    if (sealed.size() % 4 == 1 || sealed.size() / 4 * 3 + 2 > raw.size()) return false;
    std::size_t n = 0;
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (char c : sealed) {
        const int v = base64url_value(c);
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = static_cast<std::uint8_t>(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    // The bits of a last character past the last byte must be zero: only one text stands for a value
    // (a sealed Contact compares as a string), and a changed character never opens.
    if (acc != 0 || n < 8) return false;
    std::uint64_t iv = 0;
    for (std::size_t i = 0; i < 8; ++i) iv |= std::uint64_t{raw[i]} << (8 * i);
    std::array<char, max_sealed_plain> plain{};
    key_stream ks{iv};
    for (std::size_t i = 8; i < n; ++i) plain[i - 8] = static_cast<char>(raw[i] ^ ks.next());
    const std::string_view text(plain.data(), n - 8);
    // The IV is the MAC: only the plain text we sealed for this purpose and context gives it back.
    const std::uint64_t expected = synthetic_iv(purpose, context, text);
    if ((expected ^ iv) != 0) return false;
    out.put(text);
    return out.ok();
}

std::string branch_secret_fault() {
    core::siphash_key k{};
    if (std::getenv(std::string(secret_variable).c_str()) == nullptr || secret_from_environment(k)) return {};
    return std::string(secret_variable) + ": expected 32 lower-case hex digits (a 128-bit key)";
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

core::siphash secret_mac(std::string_view purpose) noexcept {
    core::siphash h(secret());
    h.update(purpose);
    return h;
}

} // namespace sipfast::txn
