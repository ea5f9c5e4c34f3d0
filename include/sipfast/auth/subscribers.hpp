// SPDX-License-Identifier: Apache-2.0
// The IMS subscribers an AKA registrar challenges ([[subscriber]]: TS 33.203 §6.1, TS 23.228
// §4.3.3): each private identity (IMPI, what the client names in `username`), the public
// identities (IMPUs) it may register, and its USIM's secrets: K and OPc for Milenage, the AMF its
// vectors carry, and the sequence numbers issued so far.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipfast/auth/aka.hpp"
#include "sipfast/auth/milenage.hpp"

namespace sipfast::auth {

struct subscriber {
    std::string impi;
    /// The public identities as registrar::write_aor keys them (user@host, host in lower case).
    std::vector<std::string> impus;
    milenage functions;
    amf_bytes amf{};
    /// Shared by every shard (one atomic word): each challenge takes the next SQN.
    mutable sqn_generator sqn;

    subscriber(std::string i, std::vector<std::string> u, const milenage& f, const amf_bytes& a, std::uint64_t seq_he)
        : impi(std::move(i)), impus(std::move(u)), functions(f), amf(a), sqn(seq_he) {}

    [[nodiscard]] bool owns(std::string_view aor_key) const noexcept;
};

/// Every subscriber, by private and by public identity. Built when the configuration is loaded,
/// then only read (the sequence numbers aside, which are atomic).
class subscriber_directory {
public:
    /// Adds one subscriber. `impu_keys` are its public identities as registrar::write_aor keys
    /// them ("alice@ims.example.net"). Returns "" or what is wrong (no IMPI or IMPU, an IMPI or
    /// IMPU that another subscriber has).
    [[nodiscard]] std::string add(std::string_view impi, std::vector<std::string> impu_keys, const block& k,
                                  const block& opc, const amf_bytes& amf, std::uint64_t seq_he);

    /// The subscriber whose IMPI is `impi` (compared exactly, as TS 23.003 §13.3 NAIs are), or null.
    [[nodiscard]] const subscriber* by_impi(std::string_view impi) const noexcept;
    /// The subscriber one of whose IMPUs has the address-of-record key `aor_key`, or null.
    [[nodiscard]] const subscriber* by_impu(std::string_view aor_key) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return list_.size(); }

private:
    std::deque<subscriber> list_;  // stable addresses: the maps point into it
    std::unordered_map<std::string_view, const subscriber*> by_impi_;
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
    };
    std::unordered_map<std::string, const subscriber*, key_hash, std::equal_to<>> by_impu_;
};

} // namespace sipfast::auth
