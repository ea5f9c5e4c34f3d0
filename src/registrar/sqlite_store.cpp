// SPDX-License-Identifier: Apache-2.0
// Bindings that survive a restart and a crash: memory for every read, SQLite in write-ahead-log
// mode for every change, written before update() returns and so before the 200 is sent; expire()
// deletes the rows of bindings as they lapse.
//
// What survives what, with journal_mode=WAL and synchronous=NORMAL:
// - sipfastd killed (kill -9, a crash, the OOM killer): every REGISTER answered 200. A commit ends
//   with the WAL frames handed to the kernel by write(2); the kernel keeps them without the process,
//   and the next open replays the WAL.
// - the machine stopping (power loss, a kernel panic): what was committed before the last checkpoint,
//   which syncs the WAL to disk (at most about checkpoint_period before the stop). Later commits
//   may roll back; the file stays consistent (the WAL's frames are checksummed). An fsync per
//   REGISTER (synchronous=FULL) would close that window at the price of a disk flush on every
//   REGISTER's path.
// - losing the disk: nothing. Bindings shared between nodes (the Redis store) are the answer.
#include "sipfast/registrar/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "binding_key.hpp"
#include "binding_map.hpp"
#include "sipfast/core/net_address.hpp"

namespace sipfast::registrar {

namespace {

// The schema this code writes; a file with a later one is refused rather than misread.
constexpr int schema_version = 1;

// How often the checkpointer copies the WAL into the database and syncs both: the window a power
// loss may take back, and the most the WAL grows between checkpoints (a page per REGISTER).
constexpr std::chrono::milliseconds checkpoint_period{1000};

// One row per binding. The key is what register_rules.cpp's names() matches a binding by: its
// instance and reg-id when it has an instance (RFC 5626 §6), else its Contact URI. WITHOUT ROWID
// keeps the row in the key's b-tree, so a refresh rewrites one leaf page and no index.
constexpr std::string_view schema = R"(
CREATE TABLE IF NOT EXISTS bindings (
    aor TEXT NOT NULL,
    instance TEXT NOT NULL,
    reg_id INTEGER NOT NULL,
    contact_key TEXT NOT NULL,       -- the contact when instance is '', else ''
    contact TEXT NOT NULL,
    params TEXT NOT NULL,            -- the Contact's header parameters but expires, as written
    q_milli INTEGER,                 -- NULL when the contact gave no q
    expires_unix_ns INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    path TEXT NOT NULL,              -- each Path value as LENGTH:VALUE, in order
    transport TEXT NOT NULL,         -- how the REGISTER came: udp, tcp, ...
    source TEXT NOT NULL,            -- where it came from: IP:PORT, [IPv6]:PORT
    PRIMARY KEY (aor, instance, reg_id, contact_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reg_subscriptions (
    call_id TEXT NOT NULL,
    remote_tag TEXT NOT NULL,        -- the subscriber's From tag
    aor TEXT NOT NULL,               -- the watched address-of-record's key
    identity TEXT NOT NULL,          -- the URI subscribed to
    local_tag TEXT NOT NULL,
    local_uri TEXT NOT NULL,
    remote_uri TEXT NOT NULL,
    remote_target TEXT NOT NULL,
    route_set TEXT NOT NULL,         -- each Record-Route value as LENGTH:VALUE, in order
    transport TEXT NOT NULL,
    source TEXT NOT NULL,
    remote_cseq INTEGER NOT NULL,
    local_cseq INTEGER NOT NULL,
    version INTEGER NOT NULL,
    expires_unix_ns INTEGER NOT NULL,
    PRIMARY KEY (call_id, remote_tag)
) WITHOUT ROWID)";

// A table added to schema 1 (CREATE TABLE IF NOT EXISTS): a file without it gets it, and an older
// sipfast that opens a file with it reads its bindings and leaves the table alone.
constexpr std::string_view subscription_columns =
    "call_id, remote_tag, aor, identity, local_tag, local_uri, remote_uri, remote_target, route_set, transport, source, "
    "remote_cseq, local_cseq, version, expires_unix_ns";

constexpr std::string_view columns =
    "aor, instance, reg_id, contact_key, contact, params, q_milli, expires_unix_ns, call_id, cseq, path, transport, "
    "source";

struct db_closer {
    void operator()(sqlite3* db) const noexcept { (void)sqlite3_close_v2(db); }
};
struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { (void)sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

store_fault fault_of(int rc) noexcept {
    switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH: return store_fault::cannot_open;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return store_fault::not_a_database;
    case SQLITE_READONLY: return store_fault::read_only;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return store_fault::in_use;
    default: return store_fault::io;
    }
}

/// "PATH: what: SQLite's message (the system's, when it has one)".
std::string describe(const std::string& path, std::string_view what, sqlite3* db) {
    std::string out = path + ": " + std::string(what) + ": " + sqlite3_errmsg(db);
    if (const int e = sqlite3_system_errno(db); e != 0) out += std::string(" (") + std::strerror(e) + ")";
    return out;
}

/// Binds text that outlives the statement's step; "" rather than NULL for an empty view.
void bind_text(sqlite3_stmt* s, int i, std::string_view t) noexcept {
    (void)sqlite3_bind_text(s, i, t.empty() ? "" : t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
}

std::string_view transport_name(sip::transport t) noexcept {
    switch (t) {
    case sip::transport::udp: return "udp";
    case sip::transport::tcp: return "tcp";
    case sip::transport::tls: return "tls";
    case sip::transport::sctp: return "sctp";
    case sip::transport::ws: return "ws";
    case sip::transport::wss: return "wss";
    case sip::transport::unknown: break;
    }
    return "";
}

std::string source_text(const core::net_address& a) {
    if (!a.valid()) return {};
    std::array<char, 48> host{};
    return std::string(core::format_host(a, host)) + ":" + std::to_string(a.port);
}

std::string path_text(const std::vector<std::string>& path) {
    std::string out;
    for (const std::string& p : path) out += std::to_string(p.size()) + ":" + p;
    return out;
}

bool parse_path(std::string_view text, std::vector<std::string>& out) {
    out.clear();
    while (!text.empty()) {
        const std::size_t colon = text.find(':');
        if (colon == 0 || colon == std::string_view::npos || colon > 5) return false;
        std::size_t n = 0;
        for (const char c : text.substr(0, colon)) {
            if (c < '0' || c > '9') return false;
            n = n * 10 + static_cast<std::size_t>(c - '0');
        }
        text.remove_prefix(colon + 1);
        if (n > text.size()) return false;
        out.emplace_back(text.substr(0, n));
        text.remove_prefix(n);
    }
    return true;
}


/// Whether `b` is `old` refreshed: a later REGISTER of the same user agent that changed nothing but
/// its expiry and CSeq (the common case by far: every user agent re-registers before it lapses).
bool only_refreshed(const binding& old, const binding& b) noexcept {
    return old.contact == b.contact && old.params == b.params && old.has_q == b.has_q && old.q_milli == b.q_milli && old.call_id == b.call_id &&
           old.path == b.path && old.received.transport == b.received.transport &&
           old.received.source == b.received.source;
}

class sqlite_store final : public location_store {
public:
    ~sqlite_store() override {
        if (checkpointer_.joinable()) {
            {
                std::lock_guard<std::mutex> l(stop_mutex_);
                stopping_ = true;
            }
            stop_cv_.notify_one();
            checkpointer_.join();
        }
        // Statements before their connection; the connections before the lock they work under.
        statements_ = {};
        checkpoint_db_.reset();
        db_.reset();
        if (lock_fd_ >= 0) (void)::close(lock_fd_);
    }

    explicit sqlite_store(const std::string& path, store_report report) : path_(path), report_(std::move(report)) {}

    opened_store open(const instant& now);

    register_fault update(std::string_view aor, const register_request& r, const instant& now,
                          const registrar_limits& limits, binding_list& after) override {
        // One writer at a time: the file has one connection, and a change is computed from the
        // snapshot it replaces, which no other writer may replace meanwhile. Readers never take it.
        std::lock_guard<std::mutex> l(write_mutex_);
        const binding_list before = memory_.find(aor);
        after = before;
        std::vector<binding> next;
        const register_fault f = next_bindings(before, r, now.monotonic_ns, limits, next);
        if (f != register_fault::none) return f;
        if (!write(aor, before, next, now)) {
            ++unreported_;
            report_failure(now);
            return register_fault::not_stored;
        }
        after = memory_.replace(aor, std::move(next), now.monotonic_ns);
        return f;
    }

    binding_list lookup(std::string_view aor) const override { return memory_.find(aor); }

    bool keep_subscription(const reg_subscription& sub, const instant& now) override {
        const std::lock_guard<std::mutex> l(write_mutex_);
        sqlite3_stmt* st = statements_.sub_upsert.get();
        const std::string routes = path_text(sub.route_set), source = source_text(sub.received.source);
        bind_text(st, 1, sub.call_id);
        bind_text(st, 2, sub.remote_tag);
        bind_text(st, 3, sub.aor);
        bind_text(st, 4, sub.identity);
        bind_text(st, 5, sub.local_tag);
        bind_text(st, 6, sub.local_uri);
        bind_text(st, 7, sub.remote_uri);
        bind_text(st, 8, sub.remote_target);
        bind_text(st, 9, routes);
        bind_text(st, 10, transport_name(sub.received.transport));
        bind_text(st, 11, source);
        (void)sqlite3_bind_int64(st, 12, sub.remote_cseq);
        (void)sqlite3_bind_int64(st, 13, sub.local_cseq);
        (void)sqlite3_bind_int64(st, 14, sub.version);
        (void)sqlite3_bind_int64(st, 15, now.unix_ns + (static_cast<std::int64_t>(sub.expires_ns) -
                                                        static_cast<std::int64_t>(now.monotonic_ns)));
        if (!exec(st)) {
            ++unreported_subscriptions_;
            report_failure(now);
            return false;
        }
        written_.store(true, std::memory_order_relaxed);
        return true;
    }

    void drop_subscription(std::string_view call_id, std::string_view remote_tag) override {
        const std::lock_guard<std::mutex> l(write_mutex_);
        sqlite3_stmt* st = statements_.sub_remove.get();
        bind_text(st, 1, call_id);
        bind_text(st, 2, remote_tag);
        if (exec(st)) written_.store(true, std::memory_order_relaxed);
        // A row left behind lapses at its expiry and is deleted at the next start.
    }

    std::vector<reg_subscription> restored_subscriptions() const override { return restored_subscriptions_; }

    std::size_t expire(const instant& now) override {
        std::size_t n = 0;
        for (const std::string& aor : memory_.due(now.monotonic_ns)) {
            // Rows and snapshot change together under the writers' mutex, as in update(); one
            // address-of-record at a time, so a REGISTER waits for one DELETE at most.
            const std::lock_guard<std::mutex> l(write_mutex_);
            n += memory_.expire(aor, now.monotonic_ns, [&](const binding_list& before, const std::vector<binding>& next) {
                if (write(aor, before, next, now)) return true;
                ++unreported_expiries_;
                report_failure(now);
                return false;  // kept, and tried again at the next sweep
            });
        }
        return n;
    }

private:
    struct statements {
        stmt_ptr begin, commit, rollback, upsert, refresh, remove, sub_upsert, sub_remove;
    };

    static opened_store fail(store_fault f, std::string message) {
        opened_store o;
        o.fault = f;
        o.error = std::move(message);
        return o;
    }

    bool exec(sqlite3_stmt* s) {
        const int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
            failure_ = sqlite3_errmsg(db_.get());
            if (const int e = sqlite3_system_errno(db_.get()); e != 0) failure_ += std::string(" (") + std::strerror(e) + ")";
        }
        (void)sqlite3_reset(s);
        return rc == SQLITE_DONE;
    }

    void bind_key(sqlite3_stmt* s, int first, std::string_view aor, const binding& b) noexcept {
        bind_text(s, first, aor);
        bind_text(s, first + 1, b.instance);
        (void)sqlite3_bind_int64(s, first + 2, b.reg_id);
        const std::string_view contact_key = b.instance.empty() ? std::string_view(b.contact) : std::string_view();
        bind_text(s, first + 3, contact_key);
    }

    static std::int64_t unix_expiry(const binding& b, const instant& now) noexcept {
        return now.unix_ns + (static_cast<std::int64_t>(b.expires_ns) - static_cast<std::int64_t>(now.monotonic_ns));
    }

    bool upsert(std::string_view aor, const binding& b, const instant& now) {
        sqlite3_stmt* s = statements_.upsert.get();
        bind_key(s, 1, aor, b);
        const std::string path = path_text(b.path), source = source_text(b.received.source);
        const std::string_view transport = transport_name(b.received.transport);
        bind_text(s, 5, b.contact);
        bind_text(s, 6, b.params);
        if (b.has_q) (void)sqlite3_bind_int(s, 7, b.q_milli);
        else (void)sqlite3_bind_null(s, 7);
        (void)sqlite3_bind_int64(s, 8, unix_expiry(b, now));
        bind_text(s, 9, b.call_id);
        (void)sqlite3_bind_int64(s, 10, b.cseq);
        bind_text(s, 11, path);
        bind_text(s, 12, transport);
        bind_text(s, 13, source);
        return exec(s);
    }

    // The new expiry must be written: a binding restored with the old one would lapse before the
    // expiry its 200 granted, and its user would be unreachable until it registered again. The CSeq
    // goes with it (the same row, the same page) so that §10.3 step 7 still refuses an older one.
    bool refresh(std::string_view aor, const binding& b, const instant& now) {
        sqlite3_stmt* s = statements_.refresh.get();
        (void)sqlite3_bind_int64(s, 1, unix_expiry(b, now));
        (void)sqlite3_bind_int64(s, 2, b.cseq);
        bind_key(s, 3, aor, b);
        // A row missing (the file edited by hand, say) is written whole rather than lost.
        return exec(s) && (sqlite3_changes(db_.get()) == 1 || upsert(aor, b, now));
    }

    bool remove(std::string_view aor, const binding& b) {
        sqlite3_stmt* s = statements_.remove.get();
        bind_key(s, 1, aor, b);
        return exec(s);
    }

    enum class op : std::uint8_t { upsert, refresh, remove };

    /// Calls `visit(op, binding)` for each row that turns `before` into `next`: nothing when
    /// nothing changed (a retransmission), a refresh for a binding whose expiry and CSeq alone moved,
    /// the whole row otherwise, and a removal for each binding removed or lapsed.
    template <class Visit>
    static bool plan(const binding_list& before, const std::vector<binding>& next, Visit&& visit) {
        for (const binding& b : next) {
            const binding* old = find_binding(before, b);
            if (old == nullptr || !only_refreshed(*old, b)) {
                if (!visit(op::upsert, b)) return false;
            } else if (old->expires_ns != b.expires_ns || old->cseq != b.cseq) {
                if (!visit(op::refresh, b)) return false;
            }
        }
        if (before)
            for (const binding& old : *before) {
                bool stays = false;
                for (const binding& b : next) stays = stays || same_binding(old, b);
                if (!stays && !visit(op::remove, old)) return false;
            }
        return true;
    }

    /// Writes `plan` in one transaction; one statement alone is its own (a refresh, mostly), which
    /// saves the BEGIN and COMMIT statements but not the commit itself.
    bool write(std::string_view aor, const binding_list& before, const std::vector<binding>& next, const instant& now) {
        std::size_t n = 0;
        (void)plan(before, next, [&](op, const binding&) { return ++n != 0; });
        if (n == 0) return true;
        if (n > 1 && !exec(statements_.begin.get())) return false;
        const bool ok = plan(before, next, [&](op o, const binding& b) {
            switch (o) {
            case op::upsert: return upsert(aor, b, now);
            case op::refresh: return refresh(aor, b, now);
            case op::remove: return remove(aor, b);
            }
            return false;
        });
        if (n > 1 && !(ok && exec(statements_.commit.get()))) {
            (void)exec(statements_.rollback.get());
            return false;
        }
        if (!ok) return false;
        written_.store(true, std::memory_order_relaxed);
        return true;
    }

    // At most one report a second: a full disk fails every REGISTER, thousands a second.
    void report_failure(const instant& now) {
        if (!report_ || now.monotonic_ns < next_report_ns_) return;
        std::string what;
        if (unreported_ != 0) what = std::to_string(unreported_) + " REGISTER(s) answered 503";
        if (unreported_subscriptions_ != 0)
            what += (what.empty() ? "" : " and ") + std::to_string(unreported_subscriptions_) + " reg subscription(s) not kept";
        if (unreported_expiries_ != 0)
            what += (what.empty() ? "" : " and ") + std::to_string(unreported_expiries_) +
                    " address(es)-of-record with lapsed bindings kept for the next sweep";
        report_(path_ + ": cannot write: " + failure_ + "; " + what + " since the last report");
        unreported_ = 0;
        unreported_expiries_ = 0;
        unreported_subscriptions_ = 0;
        next_report_ns_ = now.monotonic_ns + 1'000'000'000;
    }

    void checkpoint_loop() {
        std::unique_lock<std::mutex> l(stop_mutex_);
        while (!stop_cv_.wait_for(l, checkpoint_period, [this] { return stopping_; })) {
            if (!written_.exchange(false, std::memory_order_relaxed)) continue;
            l.unlock();
            // PASSIVE: copies what no reader still needs, never waits for the writer, and the next
            // commit starts the WAL over once all of it is in the database.
            (void)sqlite3_wal_checkpoint_v2(checkpoint_db_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
            l.lock();
        }
    }

    binding_map memory_;
    std::vector<reg_subscription> restored_subscriptions_;  // read at open, expiries on the monotonic clock
    std::string path_;
    store_report report_;
    std::mutex write_mutex_;  // writers only (REGISTERs, expire()): what follows, down to lock_fd_
    db_ptr db_;
    statements statements_;
    std::string failure_;  // why the last statement failed
    std::uint64_t unreported_ = 0;           // REGISTERs answered 503
    std::uint64_t unreported_expiries_ = 0;  // expiries that could not delete their rows
    std::uint64_t unreported_subscriptions_ = 0;  // reg subscriptions (SUBSCRIBEs answered 503, NOTIFYs' counts)
    std::uint64_t next_report_ns_ = 0;
    int lock_fd_ = -1;
    // Checkpoints run on a thread and connection of their own: in a REGISTER's commit (SQLite's
    // automatic checkpoint) they would stall a worker for the WAL's copy and two fsyncs.
    db_ptr checkpoint_db_;
    std::atomic<bool> written_{false};
    std::mutex stop_mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread checkpointer_;
};

opened_store sqlite_store::open(const instant& now) {
    const std::string& path = path_;
    // Our own descriptor, for a lock of our own: flock(2) locks do not meet the fcntl(2) locks SQLite
    // takes, and they end with the process however it ends, so a restart after kill -9 finds it free.
    lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) return fail(store_fault::cannot_open, path + ": cannot open: " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK
                   ? fail(store_fault::in_use, path + ": in use: another process has it as its bindings database")
                   : fail(store_fault::cannot_open, path + ": cannot lock: " + std::strerror(errno));

    const auto connect = [&](db_ptr& db) {
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
        db.reset(raw);
        if (rc != SQLITE_OK) return rc;
        (void)sqlite3_extended_result_codes(raw, 1);
        // Only a checkpoint racing the writer ever makes one wait, briefly.
        return sqlite3_busy_timeout(raw, 1000);
    };
    const auto run = [&](std::string_view sql, std::string_view what) -> std::string {
        char* err = nullptr;
        const int rc = sqlite3_exec(db_.get(), std::string(sql).c_str(), nullptr, nullptr, &err);
        sqlite3_free(err);
        return rc == SQLITE_OK ? std::string() : describe(path, what, db_.get());
    };
    const auto fault = [&] { return fault_of(sqlite3_extended_errcode(db_.get())); };

    if (connect(db_) != SQLITE_OK)
        return fail(db_ ? fault() : store_fault::cannot_open,
                    db_ ? describe(path, "cannot open", db_.get()) : path + ": cannot open: out of memory");
    if (sqlite3_db_readonly(db_.get(), "main") == 1)
        return fail(store_fault::read_only, path + ": read-only: bindings could not be written");

    std::string mode;
    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_.get(), "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
        const stmt_ptr s(raw);
        if (rc == SQLITE_OK) rc = sqlite3_step(raw);
        if (rc != SQLITE_ROW) return fail(fault(), describe(path, "cannot read", db_.get()));
        mode = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    }
    if (mode != "wal")
        return fail(store_fault::no_wal, path + ": write-ahead logging refused (journal mode stays " + mode +
                                             "): put the database on a local file system");
    if (std::string e = run("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0", "cannot configure"); !e.empty())
        return fail(fault(), std::move(e));

    int version = 0;
    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_.get(), "PRAGMA user_version", -1, &raw, nullptr);
        const stmt_ptr s(raw);
        if (rc == SQLITE_OK) rc = sqlite3_step(raw);
        if (rc != SQLITE_ROW) return fail(fault(), describe(path, "cannot read", db_.get()));
        version = sqlite3_column_int(raw, 0);
    }
    if (version > schema_version)
        return fail(store_fault::unknown_schema, path + ": schema version " + std::to_string(version) +
                                                     " is newer than this sipfast's (" +
                                                     std::to_string(schema_version) + ")");

    // Lapsed rows go at start, and while running expire() deletes them as they lapse.
    opened_store out;
    {
        sqlite3_stmt* raw = nullptr;
        std::string e = run("BEGIN IMMEDIATE; " + std::string(schema) + "; PRAGMA user_version=" +
                                std::to_string(schema_version),
                            "cannot write");
        if (!e.empty()) return fail(fault(), std::move(e));
        int rc = sqlite3_prepare_v2(db_.get(), "DELETE FROM bindings WHERE expires_unix_ns <= ?", -1, &raw, nullptr);
        stmt_ptr s(raw);
        if (rc == SQLITE_OK) {
            (void)sqlite3_bind_int64(raw, 1, now.unix_ns);
            rc = sqlite3_step(raw);
        }
        if (rc != SQLITE_DONE) {
            const store_fault f = fault();
            std::string why = describe(path, "cannot write", db_.get());
            (void)run("ROLLBACK", "");
            return fail(f, std::move(why));
        }
        out.lapsed = static_cast<std::size_t>(sqlite3_changes(db_.get()));
        if (std::string e2 = run("DELETE FROM reg_subscriptions WHERE expires_unix_ns <= " + std::to_string(now.unix_ns),
                                 "cannot write");
            !e2.empty()) {
            (void)run("ROLLBACK", "");
            return fail(fault(), std::move(e2));
        }
        if (std::string c = run("COMMIT", "cannot write"); !c.empty()) return fail(fault(), std::move(c));
    }

    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_.get(), ("SELECT " + std::string(columns) + " FROM bindings ORDER BY aor").c_str(),
                                    -1, &raw, nullptr);
        const stmt_ptr s(raw);
        std::string aor;
        std::vector<binding> list;
        const auto text = [&](int col) {
            const unsigned char* t = sqlite3_column_text(raw, col);
            return t == nullptr ? std::string_view()
                                : std::string_view(reinterpret_cast<const char*>(t),
                                                   static_cast<std::size_t>(sqlite3_column_bytes(raw, col)));
        };
        const auto flush = [&] {
            if (list.empty()) return;
            order_by_preference(list);
            out.restored += list.size();
            (void)memory_.replace(aor, std::move(list), now.monotonic_ns);
            list = {};
        };
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
            if ((rc = sqlite3_step(raw)) != SQLITE_ROW) break;
            if (text(0) != aor) {
                flush();
                aor = text(0);
            }
            binding b;
            b.instance = text(1);
            b.reg_id = static_cast<std::uint32_t>(sqlite3_column_int64(raw, 2));
            b.contact = text(4);
            b.params = text(5);
            b.has_q = sqlite3_column_type(raw, 6) != SQLITE_NULL;
            b.q_milli = static_cast<std::uint16_t>(sqlite3_column_int(raw, 6));
            const std::int64_t left = sqlite3_column_int64(raw, 7) - now.unix_ns;
            b.expires_ns = now.monotonic_ns + static_cast<std::uint64_t>(left > 0 ? left : 0);
            b.call_id = text(8);
            b.cseq = static_cast<std::uint32_t>(sqlite3_column_int64(raw, 9));
            b.received.transport = sip::classify_transport(text(11));
            const std::string_view source = text(12);
            if (!parse_path(text(10), b.path) ||
                (!source.empty() && !core::parse_ip_port(source, 0, b.received.source, true)))
                return fail(store_fault::not_a_database,
                            path + ": not a bindings database: a row of " + aor + " does not read back");
            list.push_back(std::move(b));
        }
        if (rc != SQLITE_DONE) return fail(fault(), describe(path, "cannot read", db_.get()));
        flush();
    }

    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_.get(), ("SELECT " + std::string(subscription_columns) + " FROM reg_subscriptions").c_str(),
                                    -1, &raw, nullptr);
        const stmt_ptr s(raw);
        const auto text = [&](int col) {
            const unsigned char* t = sqlite3_column_text(raw, col);
            return t == nullptr ? std::string()
                                : std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(raw, col)));
        };
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
            if ((rc = sqlite3_step(raw)) != SQLITE_ROW) break;
            reg_subscription sub;
            sub.call_id = text(0);
            sub.remote_tag = text(1);
            sub.aor = text(2);
            sub.identity = text(3);
            sub.local_tag = text(4);
            sub.local_uri = text(5);
            sub.remote_uri = text(6);
            sub.remote_target = text(7);
            sub.received.transport = sip::classify_transport(text(9));
            const std::string source = text(10);
            if (!parse_path(text(8), sub.route_set) ||
                (!source.empty() && !core::parse_ip_port(source, 0, sub.received.source, true)))
                return fail(store_fault::not_a_database,
                            path + ": not a bindings database: a subscription of " + sub.aor + " does not read back");
            sub.remote_cseq = static_cast<std::uint32_t>(sqlite3_column_int64(raw, 11));
            sub.local_cseq = static_cast<std::uint32_t>(sqlite3_column_int64(raw, 12));
            sub.version = static_cast<std::uint32_t>(sqlite3_column_int64(raw, 13));
            const std::int64_t left = sqlite3_column_int64(raw, 14) - now.unix_ns;
            sub.expires_ns = now.monotonic_ns + static_cast<std::uint64_t>(left > 0 ? left : 0);
            restored_subscriptions_.push_back(std::move(sub));
        }
        if (rc != SQLITE_DONE) return fail(fault(), describe(path, "cannot read", db_.get()));
        out.subscriptions = restored_subscriptions_.size();
    }

    const auto prepare = [&](stmt_ptr& s, const std::string& sql) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        s.reset(raw);
        return rc == SQLITE_OK;
    };
    constexpr std::string_view key = " WHERE aor = ? AND instance = ? AND reg_id = ? AND contact_key = ?";
    if (!prepare(statements_.begin, "BEGIN") || !prepare(statements_.commit, "COMMIT") ||
        !prepare(statements_.rollback, "ROLLBACK") ||
        !prepare(statements_.upsert, "INSERT OR REPLACE INTO bindings (" + std::string(columns) +
                                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") ||
        !prepare(statements_.refresh, "UPDATE bindings SET expires_unix_ns = ?, cseq = ?" + std::string(key)) ||
        !prepare(statements_.remove, "DELETE FROM bindings" + std::string(key)) ||
        !prepare(statements_.sub_upsert, "INSERT OR REPLACE INTO reg_subscriptions (" + std::string(subscription_columns) +
                                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") ||
        !prepare(statements_.sub_remove, "DELETE FROM reg_subscriptions WHERE call_id = ? AND remote_tag = ?"))
        return fail(fault(), describe(path, "cannot prepare", db_.get()));

    if (connect(checkpoint_db_) != SQLITE_OK)
        return fail(store_fault::cannot_open, checkpoint_db_ ? describe(path, "cannot open", checkpoint_db_.get())
                                                             : path + ": cannot open: out of memory");
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
    return out;
}

} // namespace

opened_store open_sqlite_store(const std::string& path, const instant& now, store_report report) {
    auto store = std::make_unique<sqlite_store>(path, std::move(report));
    opened_store out = store->open(now);
    if (out.fault == store_fault::none) out.store = std::move(store);
    return out;
}

} // namespace sipfast::registrar
