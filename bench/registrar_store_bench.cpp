// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-registrar: what the registrar's store costs per REGISTER, in memory and in SQLite
// (bench/RESULTS.md, "Registrar stores"): a new binding, a refresh that moves only the expiry and
// CSeq (the common REGISTER by far), the same binding rewritten whole (its source port moved: a NAT
// rebinding), a retransmission (nothing written), and a lookup. The database goes in
// $SIPFAST_BENCH_DIR (default: the current directory), never /tmp, which may be in memory.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sipfast/registrar/sqlite_store.hpp"

namespace {

using namespace sipfast;
using namespace sipfast::registrar;

const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

enum class kind { memory, sqlite };

std::string database_path() {
    const char* dir = std::getenv("SIPFAST_BENCH_DIR");
    return (std::filesystem::path(dir != nullptr ? dir : ".") / ("sipfast-bench-" + std::to_string(::getpid()) + ".db"))
        .string();
}

/// A fresh store of `k`; a SQLite one on a file of its own, removed (with its WAL) when done.
struct fresh_store {
    std::string path;
    std::unique_ptr<location_store> store;

    fresh_store(kind k, benchmark::State& state) {
        if (k == kind::memory) {
            store = make_memory_store();
            return;
        }
        path = database_path();
        remove_files();
        opened_store o = open_sqlite_store(path, {1, 1'700'000'000'000'000'000});
        if (!o.store) state.SkipWithError(o.error.c_str());
        store = std::move(o.store);
    }
    ~fresh_store() {
        store.reset();
        remove_files();
    }
    void remove_files() const {
        if (path.empty()) return;
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
};

/// One REGISTER of `user`'s one contact, from 198.18.0.9:`port`.
struct one_register {
    std::string aor, uri, call_id;
    contact_request contact;
    register_request r;

    explicit one_register(const std::string& user, std::uint16_t port = 5060)
        : aor(user + "@example.com"), uri("sip:" + user + "@198.18.0.9:5070"), call_id("reg-" + user + "@198.18.0.9") {
        contact.uri = uri;
        r.contacts = {&contact, 1};
        r.call_id = call_id;
        r.cseq = 1;
        r.has_expires = true;
        r.expires_s = 3600;
        r.received.transport = sip::transport::udp;
        (void)core::parse_ip_port("198.18.0.9", port, r.received.source);
    }
};

/// The clock a benchmark runs on: a microsecond a REGISTER, so every refresh moves the expiry.
struct bench_clock {
    instant now{1'000'000'000, 1'700'000'000'000'000'000};
    const instant& tick() {
        now.monotonic_ns += 1000;
        now.unix_ns += 1000;
        return now;
    }
};

void run(benchmark::State& state, location_store& store, one_register& reg, bench_clock& c) {
    binding_list after;
    if (store.update(reg.aor, reg.r, c.tick(), limits, after) != register_fault::none) state.SkipWithError("refused");
    benchmark::DoNotOptimize(after);
}

void new_binding(benchmark::State& state, kind k) {
    fresh_store s(k, state);
    bench_clock c;
    std::uint64_t n = 0;
    for (auto _ : state) {
        one_register reg("user" + std::to_string(n++));
        run(state, *s.store, reg, c);
    }
}

// What new_binding spends building its requests, to take off its figures.
void build_request(benchmark::State& state) {
    std::uint64_t n = 0;
    for (auto _ : state) {
        one_register reg("user" + std::to_string(n++));
        benchmark::DoNotOptimize(reg);
    }
}

/// alice registers, then REGISTERs again, each first changed by `change`.
void again(benchmark::State& state, kind k, void (*change)(register_request&)) {
    fresh_store s(k, state);
    bench_clock c;
    one_register reg("alice");
    run(state, *s.store, reg, c);
    for (auto _ : state) {
        change(reg.r);
        run(state, *s.store, reg, c);
    }
}

// Only expiry and CSeq move: what most REGISTERs are.
void refresh(benchmark::State& state, kind k) {
    again(state, k, [](register_request& r) { ++r.cseq; });
}

// Its source port moved too (a NAT rebinding): the binding is written whole.
void whole_row(benchmark::State& state, kind k) {
    again(state, k, [](register_request& r) {
        ++r.cseq;
        r.received.source.port = static_cast<std::uint16_t>(r.received.source.port % 60000 + 1024);
    });
}

// The same Call-ID and CSeq: answered alike, nothing written.
void retransmission(benchmark::State& state, kind k) {
    again(state, k, [](register_request&) {});
}

void lookup(benchmark::State& state, kind k) {
    fresh_store s(k, state);
    bench_clock c;
    for (int i = 0; i < 10000; ++i) {
        one_register reg("user" + std::to_string(i));
        run(state, *s.store, reg, c);
    }
    const std::string aor = "user4242@example.com";
    for (auto _ : state) benchmark::DoNotOptimize(s.store->lookup(aor));
}

BENCHMARK(build_request);
BENCHMARK_CAPTURE(new_binding, memory, kind::memory);
BENCHMARK_CAPTURE(new_binding, sqlite, kind::sqlite);
BENCHMARK_CAPTURE(refresh, memory, kind::memory);
BENCHMARK_CAPTURE(refresh, sqlite, kind::sqlite);
BENCHMARK_CAPTURE(whole_row, sqlite, kind::sqlite);
BENCHMARK_CAPTURE(retransmission, sqlite, kind::sqlite);
BENCHMARK_CAPTURE(lookup, memory, kind::memory);
BENCHMARK_CAPTURE(lookup, sqlite, kind::sqlite);

} // namespace

BENCHMARK_MAIN();
