// SPDX-License-Identifier: Apache-2.0
// The registrar's store as [registrar] database says, for sipfastd and sipfast-dpdk alike.
#pragma once

#include <memory>
#include <string>

#include "sipfast/daemon/daemon_config.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::daemon {

/// What open_bindings made: the store, or why there is none.
struct bindings_store {
    std::unique_ptr<registrar::location_store> store;  ///< null on a fault
    std::string error;  ///< "[registrar] database PATH: what is wrong: why"
    std::string note;   ///< for the start-up log: where bindings live, how many were restored
};

/// In memory when the database is "", else the SQLite file, loaded at start (its directory is made,
/// 0700, when missing: the default's /var/lib/sipfast on a system without the service's unit).
[[nodiscard]] bindings_store open_bindings(const daemon_config& cfg);

} // namespace sipfast::daemon
