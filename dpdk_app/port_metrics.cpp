// SPDX-License-Identifier: Apache-2.0
#include "port_metrics.hpp"

#include <rte_ethdev.h>

#include <utility>

#include "sipfast/ops/prometheus.hpp"

namespace sipfast::dpdk {

std::string metrics_text(const std::vector<std::unique_ptr<lcore_worker>>& workers, std::uint16_t port, unsigned queues) {
    std::vector<const proxy::shard_stats*> shards;
    for (const auto& w : workers) shards.push_back(&w->stats());
    std::string out = ops::render_prometheus({shards, nullptr, "dpdk", 0});
    const auto family = [&](const char* name, const char* type, const char* help) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    const auto sample = [&](const std::string& series, std::uint64_t v) { out += series + " " + std::to_string(v) + "\n"; };
    rte_eth_stats st{};
    (void)rte_eth_stats_get(port, &st);
    const std::string p = "port=\"" + std::to_string(port) + "\"";
    family("sipfast_dpdk_port_packets_total", "counter", "Packets the port received and sent.");
    sample("sipfast_dpdk_port_packets_total{" + p + ",direction=\"rx\"}", st.ipackets);
    sample("sipfast_dpdk_port_packets_total{" + p + ",direction=\"tx\"}", st.opackets);
    family("sipfast_dpdk_port_dropped_total", "counter", "Packets the port lost, by cause.");
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"imissed\"}", st.imissed);
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"rx_nombuf\"}", st.rx_nombuf);
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"ierrors\"}", st.ierrors);
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"oerrors\"}", st.oerrors);
    family("sipfast_dpdk_queue_packets_total", "counter", "Packets per queue (where the port counts them).");
    for (unsigned q = 0; q < queues && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; ++q) {
        const std::string l = p + ",queue=\"" + std::to_string(q) + "\"";
        sample("sipfast_dpdk_queue_packets_total{" + l + ",direction=\"rx\"}", st.q_ipackets[q]);
        sample("sipfast_dpdk_queue_packets_total{" + l + ",direction=\"tx\"}", st.q_opackets[q]);
    }
    family("sipfast_dpdk_frames_total", "counter", "Frames an lcore handled, by what became of them.");
    for (std::size_t k = 0; k < workers.size(); ++k) {
        const lcore_counters& c = workers[k]->counters();
        const std::string w = "worker=\"" + std::to_string(k) + "\"";
        const std::pair<const char*, const core::counter*> what[] = {
            {"received", &c.rx},         {"sent", &c.tx},
            {"tx_dropped", &c.tx_dropped}, {"arp_answered", &c.arp_answered},
            {"nd_answered", &c.nd_answered}, {"not_for_us", &c.not_for_us},
            {"exception", &c.exception},   {"no_neighbour", &c.no_neighbour},
            {"to_kernel", &c.to_kernel},   {"from_kernel", &c.from_kernel},
            {"reassembled", &c.reassembled}, {"fragmented", &c.fragmented},
            {"bad_checksum", &c.bad_checksum}};
        for (const auto& [name, counter] : what)
            sample("sipfast_dpdk_frames_total{" + w + ",what=\"" + name + "\"}", counter->get());
    }
    return out;
}

} // namespace sipfast::dpdk
