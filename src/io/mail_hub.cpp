// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/mail_hub.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace sipfast::io {

mail_hub::mail_hub(unsigned workers, std::size_t ring_capacity, bool with_stream_thread)
    : workers_(workers), all_(workers + (with_stream_thread ? 1u : 0u)) {
    for (unsigned i = 0; i < all_ * all_; ++i) rings_.push_back(std::make_unique<core::spsc_ring<mail>>(ring_capacity));
    for (unsigned i = 0; i < all_; ++i) wake_.push_back(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
}

mail_hub::~mail_hub() {
    for (int fd : wake_)
        if (fd >= 0) ::close(fd);
}

bool mail_hub::post(unsigned from, unsigned to, std::string_view data, std::uint32_t listen_index,
                    const core::net_address& peer, std::uint64_t received_ns) noexcept {
    if (data.size() > mail::max_bytes) return false;
    core::spsc_ring<mail>& r = ring(from, to);
    mail* m = r.claim();
    if (m == nullptr) return false;
    m->len = static_cast<std::uint32_t>(data.size());
    m->listen_index = listen_index;
    m->peer = peer;
    m->received_ns = received_ns;
    std::memcpy(m->data, data.data(), data.size());
    r.push_claimed();
    return true;
}

void mail_hub::wake(unsigned to) const noexcept {
    const std::uint64_t one = 1;
    (void)!::write(wake_[to], &one, sizeof one);
}

} // namespace sipfast::io
