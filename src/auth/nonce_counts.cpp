// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/nonce_counts.hpp"

#include <oneapi/tbb/concurrent_hash_map.h>

namespace sipfast::auth {

struct nonce_counts::table {
    struct hash_compare {
        using is_transparent = void;
        static std::size_t hash(std::string_view k) noexcept { return std::hash<std::string_view>{}(k); }
        static bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
    };
    oneapi::tbb::concurrent_hash_map<std::string, std::uint32_t, hash_compare> counts;
};

nonce_counts::nonce_counts(std::uint64_t lifetime_ns) : table_(std::make_unique<table>()), lifetime_ns_(lifetime_ns) {}
nonce_counts::~nonce_counts() = default;

bool nonce_counts::advance(std::string_view nonce, std::uint32_t count, std::uint64_t made_ns, std::uint64_t now_ns) {
    {
        // A nonce seen before: its entry's write lock orders two shards using it at once.
        decltype(table_->counts)::accessor a;
        if (table_->counts.find(a, nonce)) {
            if (count <= a->second) return false;
            a->second = count;
            return true;
        }
    }
    bool fresh = false;
    {
        decltype(table_->counts)::accessor a;
        fresh = table_->counts.insert(a, std::string(nonce));
        if (!fresh && count <= a->second) return false;  // another shard recorded it meanwhile
        a->second = count;
    }
    std::lock_guard<std::mutex> lock(expiry_mutex_);
    if (fresh) expiry_.emplace_back(made_ns, std::string(nonce));
    while (!expiry_.empty() && now_ns >= expiry_.front().first + lifetime_ns_) {
        (void)table_->counts.erase(expiry_.front().second);
        expiry_.pop_front();
    }
    return true;
}

} // namespace sipfast::auth
