// SPDX-License-Identifier: Apache-2.0
#include "sipfast/daemon/bindings_store.hpp"

#include <sys/stat.h>

#include "sipfast/core/clock.hpp"
#include "sipfast/core/log.hpp"
#include "sipfast/registrar/sqlite_store.hpp"

namespace sipfast::daemon {

bindings_store open_bindings(const daemon_config& cfg) {
    bindings_store out;
    const std::string& path = cfg.bindings_database;
    if (path.empty()) {
        out.store = registrar::make_memory_store();
        out.note = "bindings in memory only";
        return out;
    }
    if (const std::size_t slash = path.rfind('/'); slash != std::string::npos && slash != 0)
        (void)::mkdir(path.substr(0, slash).c_str(), 0700);  // a failure is the open's to report
    registrar::opened_store o = registrar::open_sqlite_store(path, {core::monotonic_ns(), core::unix_ns()},
                                                             [](const std::string& why) { core::log_error(why); });
    if (o.fault != registrar::store_fault::none) {
        out.error = "[registrar] database " + o.error;
        return out;
    }
    out.store = std::move(o.store);
    out.note = "bindings in " + path + " (" + std::to_string(o.restored) + " restored, " + std::to_string(o.lapsed) +
               " lapsed)";
    return out;
}

} // namespace sipfast::daemon
