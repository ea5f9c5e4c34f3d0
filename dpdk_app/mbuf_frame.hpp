// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace sipfast::dpdk {

/// A fresh mbuf from `pool` holding the frame `write(std::span<std::uint8_t> room)` writes into its
/// tailroom and returns the length of; nullptr (nothing leaked) when the pool is empty or `write`
/// returns 0. Every frame an lcore or the generator sends is built this way.
template <class Write>
[[nodiscard]] rte_mbuf* make_frame(rte_mempool* pool, Write&& write) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return nullptr;
    const std::uint16_t room = rte_pktmbuf_tailroom(m);
    auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, room));
    const std::size_t n = out != nullptr ? write(std::span<std::uint8_t>(out, room)) : 0;
    if (n == 0 || n > room) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(room - n));
    return m;
}

} // namespace sipfast::dpdk
