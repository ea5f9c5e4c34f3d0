// SPDX-License-Identifier: Apache-2.0
#include "port_metrics.hpp"

#include <rte_ethdev.h>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/ops/prometheus.hpp"

namespace sipfast::dpdk {

std::vector<core::metric_set> worker_metrics(const std::vector<std::unique_ptr<lcore_worker>>& workers) {
    std::vector<const proxy::shard_stats*> shards;
    std::vector<const lcore_counters*> lcores;
    for (const auto& w : workers) {
        shards.push_back(&w->stats());
        lcores.push_back(&w->counters());
    }
    return {core::metric_set::of<proxy::shard_stats>(shards), core::metric_set::of<lcore_counters>(lcores)};
}

std::string metrics_text(const std::vector<std::unique_ptr<lcore_worker>>& workers, std::uint16_t port, unsigned queues) {
    std::string out = ops::render_prometheus(worker_metrics(workers), {"dpdk", 0});
    const auto family = [&](std::string_view name, std::string_view help) {
        out.append("# HELP ").append(name).append(" ").append(help);
        out.append("\n# TYPE ").append(name).append(" counter\n");
    };
    const std::string p = "port=\"" + std::string(core::decimal(port).view()) + "\"";
    const auto sample = [&](std::string_view name, std::string_view labels, std::uint64_t v) {
        out.append(name).append("{").append(p).append(",").append(labels).append("} ");
        out.append(core::decimal(v).view()).append("\n");
    };
    rte_eth_stats st{};
    (void)rte_eth_stats_get(port, &st);
    family("sipfast_dpdk_port_packets_total", "Packets the port received and sent.");
    sample("sipfast_dpdk_port_packets_total", "direction=\"rx\"", st.ipackets);
    sample("sipfast_dpdk_port_packets_total", "direction=\"tx\"", st.opackets);
    family("sipfast_dpdk_port_dropped_total", "Packets the port lost, by cause.");
    sample("sipfast_dpdk_port_dropped_total", "cause=\"imissed\"", st.imissed);
    sample("sipfast_dpdk_port_dropped_total", "cause=\"rx_nombuf\"", st.rx_nombuf);
    sample("sipfast_dpdk_port_dropped_total", "cause=\"ierrors\"", st.ierrors);
    sample("sipfast_dpdk_port_dropped_total", "cause=\"oerrors\"", st.oerrors);
    family("sipfast_dpdk_queue_packets_total", "Packets per queue (where the port counts them).");
    for (unsigned q = 0; q < queues && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; ++q) {
        const std::string l = "queue=\"" + std::string(core::decimal(q).view()) + "\",direction=";
        sample("sipfast_dpdk_queue_packets_total", l + "\"rx\"", st.q_ipackets[q]);
        sample("sipfast_dpdk_queue_packets_total", l + "\"tx\"", st.q_opackets[q]);
    }
    return out;
}

std::string port_summary(std::uint16_t port) {
    rte_eth_stats st{};
    (void)rte_eth_stats_get(port, &st);
    core::text<160> t;
    t.put("port rx ").number(st.ipackets).put(" tx ").number(st.opackets).put(" imissed ").number(st.imissed);
    t.put(" rx_nombuf ").number(st.rx_nombuf);
    return std::string(t.view());
}

} // namespace sipfast::dpdk
