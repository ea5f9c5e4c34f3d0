// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sipfast/core/net_address.hpp"

namespace sipfast::dpdk {

/// Which incomplete IP datagrams each source has in an lcore's reassembly table, so that one
/// source cannot fill it (the attack: first fragments that never complete, each holding an mbuf
/// for the table's timeout). A fragment that would start a datagram is refused when its source
/// already has `per_source` incomplete, or when `max_datagrams` are incomplete in all. A datagram
/// leaves when it completes or `timeout_ns` after its first fragment, as the table's own entry.
///
/// The table rte_ip_frag keeps is opaque, so this mirrors it from what it is fed: a datagram the
/// table dropped early (a bad fragment, no room) still counts against its source until its timeout,
/// which errs on the side of the table. Fixed size (open addressing by source, backward-shift
/// deletion), no allocation after construction; one per lcore, single-threaded. Times are the
/// caller's (nanoseconds).
class fragment_sources {
public:
    static constexpr std::size_t per_source = 8;  ///< incomplete datagrams one source may have

    fragment_sources(std::size_t max_datagrams, std::uint64_t timeout_ns)
        : slots_(capacity_for(max_datagrams)), max_datagrams_(max_datagrams), timeout_ns_(timeout_ns) {}

    /// A fragment of datagram `id` from `src`: true to hand it to the table, false to drop it (a
    /// new datagram over the bounds).
    [[nodiscard]] bool admit(const core::net_address& src, std::uint32_t id, std::uint64_t now_ns) noexcept {
        const core::net_address k = key(src);
        std::size_t i = home(k);
        while (slots_[i].count != 0 && slots_[i].src != k) i = (i + 1) & mask();
        source& s = slots_[i];
        if (s.count != 0) {
            expire(i, now_ns);
            if (slots_[i].count != 0 && slots_[i].src == k) {
                source& t = slots_[i];
                for (std::size_t d = 0; d < t.count; ++d)
                    if (t.ids[d] == id) return true;  // a datagram already started
                if (t.count == per_source || datagrams_ == max_datagrams_) return false;
                t.ids[t.count] = id;
                t.started_ns[t.count] = now_ns;
                ++t.count;
                ++datagrams_;
                return true;
            }
            // Every datagram of the source had expired: its slot is gone, find where it goes now.
            return admit(src, id, now_ns);
        }
        if (datagrams_ == max_datagrams_) return false;
        s.src = k;
        s.ids[0] = id;
        s.started_ns[0] = now_ns;
        s.count = 1;
        ++datagrams_;
        return true;
    }

    /// Datagram `id` from `src` completed (reassembled).
    void completed(const core::net_address& src, std::uint32_t id) noexcept {
        const core::net_address k = key(src);
        for (std::size_t i = home(k); slots_[i].count != 0; i = (i + 1) & mask()) {
            if (slots_[i].src != k) continue;
            source& s = slots_[i];
            for (std::size_t d = 0; d < s.count; ++d)
                if (s.ids[d] == id) {
                    remove(s, d);
                    if (s.count == 0) erase(i);
                    return;
                }
            return;
        }
    }

    /// Looks at `n` more slots for datagrams past their timeout (each lcore turn: the whole table is
    /// swept every capacity/n turns, so a source that went quiet is forgotten too).
    void sweep(std::uint64_t now_ns, std::size_t n = 4) noexcept {
        for (std::size_t k = 0; k < n; ++k) {
            cursor_ = (cursor_ + 1) & mask();
            // A slot freed takes the next entry of its probe run: look at that one too.
            while (slots_[cursor_].count != 0 && expire(cursor_, now_ns)) {
            }
        }
    }

    /// Incomplete datagrams counted, all sources.
    [[nodiscard]] std::size_t datagrams() const noexcept { return datagrams_; }

private:
    struct source {
        core::net_address src;
        std::uint32_t count = 0;  // 0: slot free
        std::array<std::uint32_t, per_source> ids{};
        std::array<std::uint64_t, per_source> started_ns{};
    };

    static std::size_t capacity_for(std::size_t max_datagrams) noexcept {
        std::size_t c = 16;
        while (c < 2 * max_datagrams) c <<= 1;  // at most half full: every source has a datagram
        return c;
    }
    [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
    static core::net_address key(core::net_address a) noexcept {
        a.port = 0;
        return a;
    }
    [[nodiscard]] std::size_t home(const core::net_address& a) const noexcept {
        std::uint32_t h = 2166136261u;
        for (std::size_t i = 0; i < (a.family == 4 ? 4u : 16u); ++i) h = (h ^ a.ip[i]) * 16777619u;
        return (h ^ (h >> 15)) & mask();
    }
    void remove(source& s, std::size_t d) noexcept {
        --s.count;
        s.ids[d] = s.ids[s.count];
        s.started_ns[d] = s.started_ns[s.count];
        --datagrams_;
    }
    // Drops the datagrams of slot i past their timeout; frees the slot (true) when none is left.
    bool expire(std::size_t i, std::uint64_t now_ns) noexcept {
        source& s = slots_[i];
        for (std::size_t d = s.count; d-- > 0;)
            if (now_ns - s.started_ns[d] >= timeout_ns_) remove(s, d);
        if (s.count != 0) return false;
        erase(i);
        return true;
    }
    // Linear probing's deletion (Knuth 6.4, algorithm R): later entries of the probe run move up
    // into the hole when their home allows, so lookups never stop early.
    void erase(std::size_t i) noexcept {
        slots_[i].count = 0;
        for (std::size_t j = (i + 1) & mask(); slots_[j].count != 0; j = (j + 1) & mask()) {
            const std::size_t h = home(slots_[j].src);
            const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (stays) continue;
            slots_[i] = slots_[j];
            slots_[j].count = 0;
            i = j;
        }
    }

    std::vector<source> slots_;
    std::size_t max_datagrams_;
    std::uint64_t timeout_ns_;
    std::size_t datagrams_ = 0;
    std::size_t cursor_ = 0;
};

} // namespace sipfast::dpdk
