// SPDX-License-Identifier: Apache-2.0
#include "replay_lcore.hpp"

#include <pcap/pcap.h>
#include <rte_cycles.h>

#include <cstring>

#include "mbuf_frame.hpp"
#include "sipfast/loadgen/pacer.hpp"

namespace sipfast::dpdk {

replay_lcore::replay_lcore(const shared_state& s, const std::string& file, std::uint32_t rate, std::vector<rte_ring*> to_port,
                           std::vector<rte_ring*> from_port, std::string& error)
    : s_(s), rate_(rate), to_port_(std::move(to_port)), from_port_(std::move(from_port)) {
    char why[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(file.c_str(), why);
    if (p == nullptr) {
        error = "--replay " + file + ": " + why;
        return;
    }
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1)
        if (h->caplen == h->len && h->caplen != 0) frames_.emplace_back(data, data + h->caplen);  // whole frames only
    pcap_close(p);
    if (frames_.empty()) error = "--replay " + file + ": no whole frame in it";
}

void replay_lcore::run() {
    rte_mbuf* back[burst];
    std::size_t next = 0;
    loadgen::pacer schedule(rate_, now_ns());
    while (!s_.stop->load(std::memory_order_relaxed)) {
        for (rte_ring* r : from_port_) {
            const unsigned n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(back), burst, nullptr);
            for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(back[i]);
        }
        // One frame a turn at most, and none late: the frames that fell due while this lcore was
        // away (a stall of its CPU) are skipped, as a wire does not stall; sent late they would
        // reach the worker as a clump this lcore made, each waiting for the ones before it.
        const std::uint64_t due = schedule.due(now_ns());
        if (due == 0) continue;
        schedule.take(due);
        skipped_ += due - 1;
        const std::vector<std::uint8_t>& f = frames_[next];
        next = next + 1 == frames_.size() ? 0 : next + 1;
        rte_mbuf* m = make_frame(s_.pool, [&](std::span<std::uint8_t> out) {
            if (f.size() > out.size()) return std::size_t{0};
            std::memcpy(out.data(), f.data(), f.size());
            return f.size();
        });
        // Every frame to the first queue: one worker, or RSS's choice is not this tool's to make.
        if (m == nullptr || rte_ring_enqueue(to_port_.front(), m) != 0) {
            if (m != nullptr) rte_pktmbuf_free(m);
            ++dropped_;
            continue;
        }
        ++sent_;
    }
}

} // namespace sipfast::dpdk
