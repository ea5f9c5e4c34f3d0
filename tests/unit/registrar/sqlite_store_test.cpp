// SPDX-License-Identifier: Apache-2.0
// The SQLite store: what update() wrote is there after the store is closed and opened again, on a
// later clock (both clocks move; the monotonic one starts over as after a reboot), lapsed and removed
// bindings are not, and a file that cannot serve is refused with a fault naming it.
#include "sipfast/registrar/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace sipfast::registrar {
namespace {

constexpr std::uint64_t s = 1'000'000'000;
constexpr std::int64_t unix_start = 1'700'000'000 * std::int64_t{s};

/// `seconds` after the test's start on the wall clock; the monotonic clock reads `monotonic_s`, by
/// default as if the process had run all along (from 100 s).
instant at(std::int64_t seconds, std::int64_t monotonic_s = -1) {
    const std::int64_t mono = monotonic_s >= 0 ? monotonic_s : 100 + seconds;
    return {static_cast<std::uint64_t>(mono) * s, unix_start + seconds * std::int64_t{s}};
}

const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

contact_request contact(std::string_view uri, std::uint32_t expires) {
    contact_request c;
    c.uri = uri;
    c.has_expires = true;
    c.expires_s = expires;
    return c;
}

struct reg {
    std::vector<contact_request> contacts;
    std::vector<std::string_view> path;
    register_request r;
    reg(std::vector<contact_request> c, std::string_view call_id, std::uint32_t cseq, bool star = false)
        : contacts(std::move(c)) {
        r.contacts = contacts;
        r.call_id = call_id;
        r.cseq = cseq;
        r.star = star;
        r.has_expires = star;
        r.received = {sip::transport::udp, {}};
    }
};

struct sqlite_store_test : ::testing::Test {
    std::string dir;
    std::string file;

    sqlite_store_test() {
        std::string t = (std::filesystem::temp_directory_path() / "sipfast-store-XXXXXX").string();
        dir = ::mkdtemp(t.data()) != nullptr ? t : std::string();
        file = dir + "/bindings.db";
    }
    ~sqlite_store_test() override { std::filesystem::remove_all(dir); }

    std::unique_ptr<location_store> open(const instant& now, opened_store* report = nullptr) {
        opened_store o = open_sqlite_store(file, now);
        EXPECT_EQ(o.fault, store_fault::none) << o.error;
        if (report != nullptr) {
            report->restored = o.restored;
            report->lapsed = o.lapsed;
        }
        return std::move(o.store);
    }

    /// Runs `statement` on a connection of its own, beside the store's (write-ahead logging lets it).
    bool sql(const std::string& statement) const {
        sqlite3* db = nullptr;
        bool ok = sqlite3_open(file.c_str(), &db) == SQLITE_OK &&
                  sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
        sqlite3_close(db);
        return ok;
    }

    /// The rows of `aor` in the file now, -1 when it cannot be read.
    int rows(const std::string& aor) const {
        sqlite3* db = nullptr;
        sqlite3_stmt* st = nullptr;
        int n = -1;
        if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "SELECT count(*) FROM bindings WHERE aor = ?", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_bind_text(st, 1, aor.c_str(), -1, SQLITE_TRANSIENT) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
    }

    static register_fault update(location_store& store, std::string_view aor, const reg& r, const instant& now) {
        binding_list after;
        return store.update(aor, r.r, now, limits, after);
    }
};

TEST_F(sqlite_store_test, EveryFieldOfABindingComesBackAfterAReopenWithTheTimeLeftOnTheWallClock) {
    ASSERT_FALSE(dir.empty());
    {
        auto store = open(at(0));
        ASSERT_TRUE(store);
        contact_request phone = contact("sip:alice@192.168.1.7:5062;ob", 600);
        phone.instance = "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
        phone.params = "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1;expires=600;audio";
        phone.reg_id = 1;
        phone.has_q = true;
        phone.q_milli = 700;
        reg r({phone, contact("sip:alice@198.18.0.9:5070", 3600)}, "call-a", 7);
        r.path = {"<sip:edge.example.net;lr>", "<sip:p2.example.net;lr;ob>"};
        r.r.path = r.path;
        core::net_address from;
        ASSERT_TRUE(core::parse_ip_port("[2001:db8::7]:40123", 0, from));
        r.r.received = {sip::transport::tcp, from};
        ASSERT_EQ(update(*store, "alice@example.com", r, at(0)), register_fault::none);
    }
    // 100 s later on the wall clock, after a reboot: the monotonic clock reads 5 s.
    opened_store report;
    auto store = open(at(100, 5), &report);
    ASSERT_TRUE(store);
    EXPECT_EQ(report.restored, 2u);
    EXPECT_EQ(report.lapsed, 0u);
    const binding_list list = store->lookup("alice@example.com");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    const instant now = at(100, 5);
    // Best first: no q counts as 1.0, ahead of q=0.7.
    const binding& plain = (*list)[0];
    const binding& phone = (*list)[1];
    EXPECT_EQ(plain.contact, "sip:alice@198.18.0.9:5070");
    EXPECT_EQ(plain.seconds_left(now.monotonic_ns), 3500u);
    EXPECT_FALSE(plain.has_q);
    EXPECT_EQ(phone.contact, "sip:alice@192.168.1.7:5062;ob");
    EXPECT_EQ(phone.seconds_left(now.monotonic_ns), 500u);
    EXPECT_EQ(phone.instance, "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
    EXPECT_EQ(phone.params, "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1;audio");
    EXPECT_EQ(plain.params, "");
    EXPECT_EQ(phone.reg_id, 1u);
    EXPECT_TRUE(phone.has_q);
    EXPECT_EQ(phone.q_milli, 700);
    EXPECT_EQ(phone.call_id, "call-a");
    EXPECT_EQ(phone.cseq, 7u);
    EXPECT_EQ(phone.path, (std::vector<std::string>{"<sip:edge.example.net;lr>", "<sip:p2.example.net;lr;ob>"}));
    EXPECT_EQ(phone.received.transport, sip::transport::tcp);
    core::net_address from;
    ASSERT_TRUE(core::parse_ip_port("[2001:db8::7]:40123", 0, from));
    EXPECT_EQ(phone.received.source, from);
    // The restored CSeq still orders REGISTERs (RFC 3261 §10.3 step 7).
    EXPECT_EQ(update(*store, "alice@example.com", reg({contact("sip:alice@198.18.0.9:5070", 600)}, "call-a", 6), now),
              register_fault::out_of_order);
}

TEST_F(sqlite_store_test, ARefreshedExpiryIsWhatComesBack) {
    {
        auto store = open(at(0));
        ASSERT_TRUE(store);
        ASSERT_EQ(update(*store, "bob@example.com", reg({contact("sip:bob@198.18.0.20", 600)}, "b", 1), at(0)),
                  register_fault::none);
        ASSERT_EQ(update(*store, "bob@example.com", reg({contact("sip:bob@198.18.0.20", 600)}, "b", 2), at(500)),
                  register_fault::none);
    }
    // Past the first expiry, within the refreshed one.
    auto store = open(at(700, 1));
    const binding_list list = store->lookup("bob@example.com");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].seconds_left(at(700, 1).monotonic_ns), 400u);
    EXPECT_EQ((*list)[0].cseq, 2u);
}

TEST_F(sqlite_store_test, LapsedBindingsAreNotRestoredAndLeaveTheFile) {
    {
        auto store = open(at(0));
        ASSERT_EQ(update(*store, "carol@example.com", reg({contact("sip:carol@198.18.0.21", 60)}, "c", 1), at(0)),
                  register_fault::none);
        ASSERT_EQ(update(*store, "dave@example.com", reg({contact("sip:dave@198.18.0.22", 3600)}, "d", 1), at(0)),
                  register_fault::none);
    }
    opened_store report;
    {
        auto store = open(at(60), &report);  // carol's lapses exactly now
        EXPECT_EQ(report.restored, 1u);
        EXPECT_EQ(report.lapsed, 1u);
        EXPECT_FALSE(store->lookup("carol@example.com"));
        EXPECT_TRUE(store->lookup("dave@example.com"));
    }
    auto store = open(at(61), &report);
    EXPECT_EQ(report.lapsed, 0u);  // gone from the file at the first open
}

TEST_F(sqlite_store_test, ExpireDeletesTheRowsOfLapsedBindingsAndKeepsRefreshedOnes) {
    auto store = open(at(0));
    ASSERT_TRUE(store);
    ASSERT_EQ(update(*store, "hal@example.com", reg({contact("sip:hal@198.18.0.27", 60)}, "h", 1), at(0)),
              register_fault::none);
    ASSERT_EQ(update(*store, "ida@example.com", reg({contact("sip:ida@198.18.0.28", 60)}, "i", 1), at(0)),
              register_fault::none);
    ASSERT_EQ(update(*store, "ida@example.com", reg({contact("sip:ida@198.18.0.28", 60)}, "i", 2), at(30)),
              register_fault::none);
    EXPECT_EQ(rows("hal@example.com"), 1);
    EXPECT_EQ(store->expire(at(59)), 0u);
    EXPECT_EQ(store->expire(at(61)), 1u);
    EXPECT_FALSE(store->lookup("hal@example.com"));
    EXPECT_EQ(rows("hal@example.com"), 0);
    EXPECT_TRUE(store->lookup("ida@example.com"));
    EXPECT_EQ(rows("ida@example.com"), 1);
    EXPECT_EQ(store->expire(at(91)), 1u);
    EXPECT_EQ(rows("ida@example.com"), 0);
}

TEST_F(sqlite_store_test, AnExpiryThatCannotDeleteKeepsTheBindingForTheNextSweepAndSaysSo) {
    std::vector<std::string> reports;
    opened_store o = open_sqlite_store(file, at(0), [&](const std::string& why) { reports.push_back(why); });
    ASSERT_EQ(o.fault, store_fault::none) << o.error;
    ASSERT_EQ(update(*o.store, "jo@example.com", reg({contact("sip:jo@198.18.0.29", 60)}, "j", 1), at(0)),
              register_fault::none);
    ASSERT_TRUE(sql("CREATE TRIGGER no BEFORE DELETE ON bindings BEGIN SELECT RAISE(ABORT, 'full'); END"));
    EXPECT_EQ(o.store->expire(at(61)), 0u);
    EXPECT_TRUE(o.store->lookup("jo@example.com"));
    EXPECT_EQ(rows("jo@example.com"), 1);
    EXPECT_EQ(reports, (std::vector<std::string>{file + ": cannot write: full; 1 address(es)-of-record with lapsed "
                                                        "bindings kept for the next sweep since the last report"}));
    ASSERT_TRUE(sql("DROP TRIGGER no"));
    EXPECT_EQ(o.store->expire(at(62)), 1u);
    EXPECT_FALSE(o.store->lookup("jo@example.com"));
    EXPECT_EQ(rows("jo@example.com"), 0);
}

TEST_F(sqlite_store_test, RemovalsAreWritten) {
    {
        auto store = open(at(0));
        reg two({contact("sip:erin@198.18.0.23", 600), contact("sip:erin@198.18.0.24", 600)}, "e", 1);
        ASSERT_EQ(update(*store, "erin@example.com", two, at(0)), register_fault::none);
        ASSERT_EQ(update(*store, "erin@example.com", reg({contact("sip:erin@198.18.0.23", 0)}, "e", 2), at(1)),
                  register_fault::none);
        ASSERT_EQ(update(*store, "frank@example.com", reg({contact("sip:frank@198.18.0.25", 600)}, "f", 1), at(1)),
                  register_fault::none);
        ASSERT_EQ(update(*store, "frank@example.com", reg({}, "f", 2, true), at(2)), register_fault::none);
        EXPECT_FALSE(store->lookup("frank@example.com"));
    }
    auto store = open(at(3));
    const binding_list erin = store->lookup("erin@example.com");
    ASSERT_TRUE(erin);
    ASSERT_EQ(erin->size(), 1u);
    EXPECT_EQ((*erin)[0].contact, "sip:erin@198.18.0.24");
    EXPECT_FALSE(store->lookup("frank@example.com"));
}

TEST_F(sqlite_store_test, ConcurrentWritersLeaveTheFileAsTheMemory) {
    constexpr int threads = 4, per_thread = 50;
    std::vector<std::vector<binding>> before;
    {
        auto store = open(at(0));
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    // Every thread writes the same few addresses-of-record, each with contacts of its own.
                    const std::string aor = "user" + std::to_string(i % 5) + "@example.com";
                    const std::string uri = "sip:u@198.18.1." + std::to_string(t) + ":" + std::to_string(5000 + i % 3);
                    const std::string call_id = "t" + std::to_string(t) + "-" + std::to_string(i % 3);
                    (void)update(*store, aor, reg({contact(uri, 600 + static_cast<std::uint32_t>(i))}, call_id,
                                                  static_cast<std::uint32_t>(i + 1)),
                                 at(1));
                }
            });
        for (std::thread& w : workers) w.join();
        for (int i = 0; i < 5; ++i) before.push_back(*store->lookup("user" + std::to_string(i) + "@example.com"));
    }
    // Bindings of equal q and expiry may come back in another order: compared by contact.
    const auto by_contact = [](std::vector<binding> v) {
        std::sort(v.begin(), v.end(), [](const binding& a, const binding& b) { return a.contact < b.contact; });
        return v;
    };
    auto store = open(at(1));
    for (int i = 0; i < 5; ++i) {
        const binding_list restored = store->lookup("user" + std::to_string(i) + "@example.com");
        ASSERT_TRUE(restored);
        const std::vector<binding> a = by_contact(*restored), b = by_contact(before[static_cast<std::size_t>(i)]);
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t j = 0; j < a.size(); ++j) {
            EXPECT_EQ(a[j].contact, b[j].contact);
            EXPECT_EQ(a[j].expires_ns, b[j].expires_ns);
            EXPECT_EQ(a[j].cseq, b[j].cseq);
            EXPECT_EQ(a[j].call_id, b[j].call_id);
        }
    }
}

TEST_F(sqlite_store_test, AWriteThatFailsChangesNothingAndIsNotStored) {
    { ASSERT_TRUE(open(at(0))); }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TRIGGER no BEFORE INSERT ON bindings BEGIN SELECT RAISE(ABORT, 'full'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    std::vector<std::string> reports;
    opened_store o = open_sqlite_store(file, at(0), [&](const std::string& why) { reports.push_back(why); });
    ASSERT_EQ(o.fault, store_fault::none) << o.error;
    for (std::int64_t t : {1, 1, 2}) {
        binding_list after;
        EXPECT_EQ(o.store->update("gina@example.com", reg({contact("sip:gina@198.18.0.26", 600)}, "g", 1).r, at(t),
                                  limits, after),
                  register_fault::not_stored);
        EXPECT_FALSE(after);
    }
    EXPECT_FALSE(o.store->lookup("gina@example.com"));
    EXPECT_EQ(answer_for(register_fault::not_stored).status, 503);
    // One report a second at most, counting what the previous one did not.
    EXPECT_EQ(reports, (std::vector<std::string>{
                           file + ": cannot write: full; 1 REGISTER(s) answered 503 since the last report",
                           file + ": cannot write: full; 2 REGISTER(s) answered 503 since the last report"}));
}

TEST_F(sqlite_store_test, AFileThatCannotServeIsRefusedNamingItAndTheFault) {
    {
        std::ofstream(file) << "this is not a database, it only has a name like one................................";
        const opened_store o = open_sqlite_store(file, at(0));
        EXPECT_EQ(o.fault, store_fault::not_a_database);
        EXPECT_FALSE(o.store);
        EXPECT_EQ(o.error, file + ": cannot read: file is not a database");
    }
    {
        const opened_store o = open_sqlite_store(dir, at(0));
        EXPECT_EQ(o.fault, store_fault::cannot_open);
        EXPECT_EQ(o.error, dir + ": cannot open: Is a directory");
    }
    {
        const std::string missing = dir + "/no/such/dir/bindings.db";
        const opened_store o = open_sqlite_store(missing, at(0));
        EXPECT_EQ(o.fault, store_fault::cannot_open);
        EXPECT_EQ(o.error, missing + ": cannot open: No such file or directory");
    }
}

TEST_F(sqlite_store_test, OneFileServesOneProcess) {
    auto first = open(at(0));
    ASSERT_TRUE(first);
    const opened_store second = open_sqlite_store(file, at(0));
    EXPECT_EQ(second.fault, store_fault::in_use);
    EXPECT_EQ(second.error, file + ": in use: another process has it as its bindings database");
    first.reset();
    EXPECT_TRUE(open(at(0)));  // free again once the first is gone (as after kill -9: the lock dies with it)
}

TEST_F(sqlite_store_test, AFileOfALaterSchemaIsRefused) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    const opened_store o = open_sqlite_store(file, at(0));
    EXPECT_EQ(o.fault, store_fault::unknown_schema);
    EXPECT_EQ(o.error, file + ": schema version 7 is newer than this sipfast's (1)");
}

} // namespace
} // namespace sipfast::registrar

namespace sipfast::registrar {
namespace {

reg_subscription watching(std::string call_id, std::uint64_t expires_ns) {
    reg_subscription sub;
    sub.aor = "alice@example.com";
    sub.identity = "sip:alice@example.com";
    sub.call_id = std::move(call_id);
    sub.local_tag = "ours1";
    sub.remote_tag = "w1";
    sub.local_uri = "<sip:alice@example.com>";
    sub.remote_uri = "\"Alice\" <sip:alice@example.com>;tag=w1";
    sub.remote_target = "sip:alice@198.51.100.7:5062;transport=tcp";
    sub.route_set = {"<sip:198.51.100.1;lr>", "<sip:p.example.com;lr;x=a,b>"};
    sub.received = {sip::transport::tcp, {}};
    (void)core::parse_ip_port("198.51.100.7:40001", 0, sub.received.source, true);
    sub.remote_cseq = 4;
    sub.local_cseq = 9;
    sub.version = 7;
    sub.expires_ns = expires_ns;
    return sub;
}

TEST_F(sqlite_store_test, RegSubscriptionsComeBackAfterAReopenAndLapsedOnesGo) {
    {
        std::unique_ptr<location_store> store = open(at(0));
        ASSERT_TRUE(store);
        // Expiries on the monotonic clock of this process (at(0) reads 100 s).
        ASSERT_TRUE(store->keep_subscription(watching("kept", (100 + 600) * s), at(0)));
        ASSERT_TRUE(store->keep_subscription(watching("lapses", (100 + 30) * s), at(0)));
        ASSERT_TRUE(store->keep_subscription(watching("dropped", (100 + 600) * s), at(0)));
        store->drop_subscription("dropped", "w1");
        reg_subscription moved = watching("kept", (100 + 900) * s);  // a refresh, written again
        moved.local_cseq = 10;
        moved.version = 8;
        ASSERT_TRUE(store->keep_subscription(moved, at(0)));
    }
    // 60 s later on the wall clock, in a process whose monotonic clock reads 5 s.
    opened_store o = open_sqlite_store(file, at(60, 5));
    ASSERT_EQ(o.fault, store_fault::none) << o.error;
    EXPECT_EQ(o.subscriptions, 1u);
    const std::vector<reg_subscription> back = o.store->restored_subscriptions();
    ASSERT_EQ(back.size(), 1u);
    const reg_subscription& b = back[0];
    const reg_subscription want = watching("kept", 0);
    EXPECT_EQ(b.call_id, "kept");
    EXPECT_EQ(b.aor, want.aor);
    EXPECT_EQ(b.identity, want.identity);
    EXPECT_EQ(b.local_tag, want.local_tag);
    EXPECT_EQ(b.remote_tag, want.remote_tag);
    EXPECT_EQ(b.local_uri, want.local_uri);
    EXPECT_EQ(b.remote_uri, want.remote_uri);
    EXPECT_EQ(b.remote_target, want.remote_target);
    EXPECT_EQ(b.route_set, want.route_set);
    EXPECT_EQ(b.received.transport, sip::transport::tcp);
    EXPECT_TRUE(b.received.source == want.received.source);
    EXPECT_EQ(b.remote_cseq, 4u);
    EXPECT_EQ(b.local_cseq, 10u);
    EXPECT_EQ(b.version, 8u);
    EXPECT_EQ(b.expires_ns, (5 + 840) * s);  // 900 s granted at 0, 60 s gone
}

} // namespace
} // namespace sipfast::registrar
