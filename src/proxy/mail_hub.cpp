// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/mail_hub.hpp"

#include <cstring>

#include "sipfast/sip/parser.hpp"

namespace sipfast::proxy {

mail_hub::mail_hub(unsigned workers, std::size_t ring_bytes, bool with_stream_thread)
    : workers_(workers), all_(workers + (with_stream_thread ? 1u : 0u)) {
    for (unsigned i = 0; i < all_ * all_; ++i) rings_.push_back(std::make_unique<core::message_ring>(ring_bytes));
}

bool mail_hub::post(unsigned from, unsigned to, std::string_view data, std::uint32_t listen_index,
                    const net_address& peer, std::uint64_t received_ns) noexcept {
    core::message_ring& r = ring(from, to);
    // The consumer parses in place: the parser's padding travels with the message.
    unsigned char* p = r.claim(sizeof(record_header) + data.size() + sip::padding_bytes);
    if (p == nullptr) return false;
    const record_header h{listen_index, static_cast<std::uint32_t>(data.size()), received_ns, peer};
    std::memcpy(p, &h, sizeof h);
    if (!data.empty()) std::memcpy(p + sizeof h, data.data(), data.size());
    r.push_claimed();
    return true;
}

} // namespace sipfast::proxy
