// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/wakers.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace sipfast::io {

int wakers::make() noexcept { return ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

wakers::~wakers() {
    for (int fd : fds_)
        if (fd >= 0) ::close(fd);
}

void wakers::wake(void* self, unsigned participant) noexcept {
    const int fd = static_cast<wakers*>(self)->fds_[participant];
    if (fd < 0) return;
    const std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);
}

} // namespace sipfast::io
