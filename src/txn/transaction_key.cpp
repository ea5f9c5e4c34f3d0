// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/transaction_key.hpp"

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/core/text_writer.hpp"

namespace sipfast::txn {

transaction_key::transaction_key(const sip::message& m, std::string_view method) noexcept {
    const std::uint16_t port = m.top_via.has_port ? m.top_via.port : std::uint16_t{5060};
    core::text_writer w(buf_);
    w.put(m.top_via.branch).put('|').put(m.top_via.host).put(':').number(port).put('|').put(method);
    if (!w.ok()) return;  // len_ 0: no key
    len_ = w.size();
    seal();
}

transaction_key transaction_key::of_branch(std::uint32_t slot, std::uint32_t generation, std::uint32_t index) noexcept {
    transaction_key k;
    core::text_writer w(k.buf_);
    w.put('\x01').number(slot).put('.').number(generation).put('.').number(index);
    k.len_ = w.size();
    k.seal();
    return k;
}

void transaction_key::seal() noexcept { hash_ = core::call_id_hash(bytes()); }

transaction_key::transaction_key(const sip::message& m) noexcept
    : transaction_key(m, m.method == sip::method::ack ? std::string_view("INVITE") : m.method_text) {}


} // namespace sipfast::txn
