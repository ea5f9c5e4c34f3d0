// SPDX-License-Identifier: Apache-2.0
#include "sipfast/daemon/bindings_store.hpp"

#include <sys/stat.h>

#include "sipfast/core/clock.hpp"
#include "sipfast/core/log.hpp"
#include "sipfast/registrar/sqlite_store.hpp"

namespace sipfast::daemon {

expiry_sweeper::expiry_sweeper(registrar::location_store& store, std::chrono::milliseconds period)
    : store_(store), period_(period), thread_([this] { run(); }) {}

expiry_sweeper::~expiry_sweeper() {
    {
        const std::lock_guard<std::mutex> l(mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_one();
    thread_.join();
}

void expiry_sweeper::run() {
    std::unique_lock<std::mutex> l(mutex_);
    while (!stop_cv_.wait_for(l, period_, [this] { return stopping_; })) {
        l.unlock();
        (void)store_.expire({core::monotonic_ns(), core::unix_ns()});
        l.lock();
    }
}

bindings_store open_bindings(const daemon_config& cfg) {
    bindings_store out;
    const std::string& path = cfg.bindings_database;
    if (path.empty()) {
        out.store = registrar::make_memory_store();
        out.sweeper = std::make_unique<expiry_sweeper>(*out.store);
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
    out.sweeper = std::make_unique<expiry_sweeper>(*out.store);
    out.note = "bindings in " + path + " (" + std::to_string(o.restored) + " restored, " + std::to_string(o.lapsed) +
               " lapsed, " + std::to_string(o.subscriptions) + " reg subscriptions)";
    return out;
}

} // namespace sipfast::daemon
