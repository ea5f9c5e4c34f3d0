// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/transaction_key.hpp"

#include <charconv>
#include <cstring>

#include "sipfast/core/shard_hash.hpp"

namespace sipfast::txn {

transaction_key::transaction_key(const sip::message& m, std::string_view method) noexcept {
    std::array<char, 8> port{};
    const std::uint16_t p = m.top_via.has_port ? m.top_via.port : std::uint16_t{5060};
    const auto [end, ec] = std::to_chars(port.data(), port.data() + port.size(), p);
    (void)ec;  // five digits always fit
    std::size_t n = 0;
    for (std::string_view part : {m.top_via.branch, std::string_view("|"), m.top_via.host, std::string_view(":"),
                                  std::string_view(port.data(), static_cast<std::size_t>(end - port.data())),
                                  std::string_view("|"), method}) {
        if (part.size() > buf_.size() - n) {
            len_ = 0;
            return;
        }
        if (!part.empty()) std::memcpy(buf_.data() + n, part.data(), part.size());
        n += part.size();
    }
    len_ = n;
    hash_ = core::call_id_hash(bytes());
}

transaction_key::transaction_key(const sip::message& m) noexcept
    : transaction_key(m, m.method == sip::method::ack ? std::string_view("INVITE") : m.method_text) {}


} // namespace sipfast::txn
