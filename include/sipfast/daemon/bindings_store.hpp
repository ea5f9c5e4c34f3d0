// SPDX-License-Identifier: Apache-2.0
// The registrar's store as [registrar] database says, for sipfastd and sipfast-dpdk alike, with the
// thread that frees lapsed bindings.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sipfast/daemon/daemon_config.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::daemon {

/// Calls `store.expire()` on the monotonic and wall clocks every `period`, on a thread of its own,
/// from construction until destruction (which waits for a sweep in progress). The shards never sweep:
/// a sweep that deletes rows takes the writers' lock and a disk write per address-of-record.
class expiry_sweeper {
public:
    explicit expiry_sweeper(registrar::location_store& store, std::chrono::milliseconds period = std::chrono::seconds(1));
    ~expiry_sweeper();
    expiry_sweeper(const expiry_sweeper&) = delete;
    expiry_sweeper& operator=(const expiry_sweeper&) = delete;

private:
    void run();

    registrar::location_store& store_;
    std::chrono::milliseconds period_;
    std::mutex mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread thread_;
};

/// What open_bindings made: the store and its sweeper, or why there is none.
struct bindings_store {
    std::unique_ptr<registrar::location_store> store;  ///< null on a fault
    std::unique_ptr<expiry_sweeper> sweeper;            ///< frees lapsed bindings; goes before the store
    std::string error;  ///< "[registrar] database PATH: what is wrong: why"
    std::string note;   ///< for the start-up log: where bindings live, how many were restored
};

/// In memory when the database is "", else the SQLite file, loaded at start (its directory is made,
/// 0700, when missing: the default's /var/lib/sipfast on a system without the service's unit). Its
/// sweeper is running.
[[nodiscard]] bindings_store open_bindings(const daemon_config& cfg);

} // namespace sipfast::daemon
