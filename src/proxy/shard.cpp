// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/shard.hpp"

namespace sipfast::proxy {

namespace {

// Room for two bursts of 32 typical messages, or 32 of the largest a TCP hand-over carries.
constexpr std::size_t outbox_bytes = 2 * 1024 * 1024;

} // namespace

shard::shard(const proxy_config& config, std::uint32_t index, mail_hub* hub, const shard_control* control,
             std::uint64_t now_ns, outbox::drain_fn send, void* send_context)
    : listen_config_(&config), index_(index), hub_(hub), control_(control),
      pipeline_(config, index, now_ns, hub ? hub->workers() : 1), outbox_(outbox_bytes, outbox_messages),
      dirty_(hub ? hub->participants() : 0, false) {
    outbox_.set_drain(send, send_context);
    if (control != nullptr) pipeline_.attach(control->services);
}

void shard::on_packet(const inbound& in, std::uint64_t now_ns) noexcept {
    if (pipeline_.shed(in, now_ns)) return;  // before a byte of it is parsed
    const std::uint32_t owner = pipeline_.on_packet(in, now_ns, outbox_);
    if (owner == index_ || hub_ == nullptr) return;
    // Not ours: handed to its owner once.
    const auto listen_index = static_cast<std::uint32_t>(in.local - listen_config_->listen.data());
    if (!hub_->post(index_, owner, in.data, listen_index, in.source, in.received_ns)) {
        stats().count_drop(drop_cause::mailbox_full);
        return;
    }
    ++stats().mailbox_hops;
    dirty_[owner] = true;
}

bool shard::on_mail(std::uint64_t now_ns) noexcept {
    if (hub_ == nullptr) return false;
    bool more = false;
    for (unsigned from = 0; from < hub_->participants(); ++from) {
        if (from == index_) continue;
        // What another shard hands over it has let through; what the TCP thread framed is asked here.
        const bool from_network = hub_->has_stream_thread() && from == hub_->stream_thread();
        const std::size_t n = hub_->consume(
            from, index_,
            [&](const mail& m) {
                const inbound in{m.data, m.peer, &listen_config_->listen[m.listen_index], true, m.received_ns};
                if (from_network && pipeline_.shed(in, now_ns)) return;
                (void)pipeline_.on_packet(in, now_ns, outbox_);
            },
            mail_batch);
        more = more || (n == mail_batch && !hub_->ring(from, index_).empty_hint());
    }
    return more;
}

void shard::follow_control() noexcept {
    if (control_ == nullptr) return;
    const proxy_config* c = control_->config.load(std::memory_order_acquire);
    if (c != nullptr && c != &pipeline_.config()) pipeline_.reconfigure(*c);
    pipeline_.set_draining(control_->draining.load(std::memory_order_relaxed));
}

bool shard::ready_for_input(std::size_t bytes) noexcept {
    if (hub_ == nullptr) return true;
    for (unsigned to = 0; to < hub_->participants(); ++to)
        if (to != index_ && hub_->ring(index_, to).free_bytes() < bytes) return false;
    return true;
}

bool shard::to_stream_thread(const outgoing& o) noexcept {
    if (hub_ == nullptr || !hub_->has_stream_thread()) return false;
    const unsigned to = hub_->stream_thread();
    const std::span<const char> bytes = outbox_.bytes(o);
    if (!hub_->post(index_, to, {bytes.data(), bytes.size()}, 0, o.destination, o.received_ns)) return false;
    dirty_[to] = true;
    return true;
}

void shard::end_turn() noexcept {
    for (unsigned to = 0; to < dirty_.size(); ++to) {
        if (!dirty_[to]) continue;
        dirty_[to] = false;
        hub_->ring(index_, to).publish();
        hub_->wake(to);
    }
}

} // namespace sipfast::proxy
