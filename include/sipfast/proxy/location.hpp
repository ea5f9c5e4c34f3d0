// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>
#include <vector>

#include "sipfast/proxy/config.hpp"

namespace sipfast::proxy {

/// The location service (RFC 3261 §16.5, §10): where a user of a domain we serve can be reached.
/// Workers read it concurrently and never write it, so an implementation must make lookup safe
/// for concurrent readers without a lock on the fast path; the registrar provides the dynamic one.
class location_service {
public:
    virtual ~location_service() = default;
    /// The binding for user@domain, or nullptr. `any_domain` matches the user in whatever domain
    /// (a Request-URI addressed to the proxy's own address names no domain). The pointer stays
    /// valid while the service lives.
    [[nodiscard]] virtual const location_entry* lookup(std::string_view user, std::string_view domain,
                                                       bool any_domain) const noexcept = 0;
};

/// The bindings written in the configuration ([[location]]): fixed for the life of the config.
class static_locations final : public location_service {
public:
    explicit static_locations(const std::vector<location_entry>& entries) noexcept : entries_(&entries) {}
    [[nodiscard]] const location_entry* lookup(std::string_view user, std::string_view domain,
                                               bool any_domain) const noexcept override;

private:
    const std::vector<location_entry>* entries_;
};

} // namespace sipfast::proxy
