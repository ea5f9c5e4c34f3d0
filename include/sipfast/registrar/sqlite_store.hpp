// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

/// Why a bindings database could not be opened.
enum class store_fault : std::uint8_t {
    none,
    cannot_open,     ///< the file cannot be opened or made: no such directory, a directory, no permission
    in_use,          ///< another process has it open as its bindings' store
    not_a_database,  ///< not an SQLite database, or a damaged one
    read_only,       ///< it can be read but not written
    no_wal,          ///< the file system refuses write-ahead logging (a network file system, say)
    unknown_schema,  ///< written by a later sipfast: its schema version is newer than this one knows
    io,              ///< reading or writing it failed (a full disk, an I/O error)
};

/// What open_sqlite_store made of a file.
struct opened_store {
    std::unique_ptr<location_store> store;  ///< null unless fault is none
    store_fault fault = store_fault::none;
    std::string error;            ///< "PATH: what is wrong: why", empty unless there is a fault
    std::size_t restored = 0;     ///< bindings loaded into memory
    std::size_t lapsed = 0;       ///< bindings that had lapsed by `now`, dropped from the file
    std::size_t subscriptions = 0;  ///< reg-event subscriptions restored (restored_subscriptions())
};

/// Told why REGISTERs are answered 503 (register_fault::not_stored) or lapsed rows stay, at most once
/// a second, from the thread whose write failed: "PATH: cannot write: database or disk is full; N ...".
using store_report = std::function<void(const std::string&)>;

/// The store that outlives the process: bindings are read from memory (a lookup never touches the
/// file), and update() writes each change to the SQLite database at `path`, in write-ahead-log mode,
/// before it returns; expire() deletes lapsed bindings' rows before it drops them from memory (when
/// it cannot, they stay in both for the next expire(), and `report` is told). Opens the file (makes
/// it when missing) and loads every binding not lapsed at `now`. The file is locked for this process:
/// a second store on it is refused (in_use). Reg-event subscriptions are kept in the same file
/// (keep_subscription), one row each, written by the shard that owns them under the writers' lock.
[[nodiscard]] opened_store open_sqlite_store(const std::string& path, const instant& now, store_report report = {});

} // namespace sipfast::registrar
