// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/location.hpp"

#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

const location_entry* static_locations::lookup(std::string_view user, std::string_view domain,
                                               bool any_domain) const noexcept {
    // Users compare exactly (RFC 3261 §19.1.4: the user part is case-sensitive), domains not.
    for (const location_entry& e : *entries_)
        if (e.user == user && (any_domain || sip::iequals(e.domain, domain))) return &e;
    return nullptr;
}

} // namespace sipfast::proxy
