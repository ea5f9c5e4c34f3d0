// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

#include "sipfast/proxy/mail_hub.hpp"

namespace sipfast::io {

/// The eventfds that wake the participants of a mail hub that sleep in poll or epoll (the kernel
/// backend's workers, the TCP thread) when a producer publishes to them. A participant that polls
/// (a DPDK lcore) has none and is never written to.
class wakers {
public:
    /// One eventfd per participant of `hub` for which `sleeps(participant)` holds; attaches itself
    /// as the hub's waker. Must outlive the hub's use.
    template <class Sleeps>
    wakers(proxy::mail_hub& hub, Sleeps&& sleeps) : fds_(hub.participants(), -1) {
        for (unsigned i = 0; i < hub.participants(); ++i)
            if (sleeps(i)) fds_[i] = make();
        hub.set_waker(&wakers::wake, this);
    }
    ~wakers();
    wakers(const wakers&) = delete;
    wakers& operator=(const wakers&) = delete;

    /// The eventfd participant `p` waits on, -1 when it polls.
    [[nodiscard]] int fd(unsigned p) const noexcept { return fds_[p]; }

private:
    static int make() noexcept;
    static void wake(void* self, unsigned participant) noexcept;
    std::vector<int> fds_;
};

} // namespace sipfast::io
