// SPDX-License-Identifier: Apache-2.0
// What the reg event notifier costs (docs/architecture.md, "Reg event"): a shard's poll, per
// subscription whose bindings did not change (a lookup in the memory store and a pointer compare),
// and making the reginfo document of a NOTIFY, full (two contacts) and partial (one change).
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "sipfast/registrar/location_store.hpp"
#include "sipfast/registrar/reg_subscription.hpp"
#include "sipfast/registrar/reginfo.hpp"

namespace {

using namespace sipfast;
using namespace sipfast::registrar;

constexpr std::uint64_t s = 1'000'000'000;
const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

void bind(location_store& store, const std::string& aor, const std::string& contact) {
    contact_request c;
    c.uri = contact;
    c.has_expires = true;
    c.expires_s = 3600;
    register_request r;
    r.contacts = std::span<const contact_request>(&c, 1);
    r.call_id = "reg-" + aor;
    r.cseq = 1;
    binding_list after;
    (void)store.update(aor, r, {s, 0}, limits, after);
}

void BM_poll_unchanged(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto store = make_memory_store();
    subscription_table table(n);
    std::vector<reg_subscription*> subs;
    std::vector<std::string> aors;
    for (std::size_t i = 0; i < n; ++i) aors.push_back("user" + std::to_string(i) + "@example.com");
    for (std::size_t i = 0; i < n; ++i) {
        bind(*store, aors[i], "sip:u" + std::to_string(i) + "@198.51.100.7:5060");
        subscribe_request r;
        r.aor = aors[i];
        r.call_id = "sub-" + std::to_string(i);
        r.from_tag = "w";
        r.local_tag = "ours";
        r.cseq = 1;
        subs.push_back(table.subscribe(r, s, limits).sub);
    }
    std::vector<contact_report> out;
    binding_list hold;
    for (reg_subscription* sub : subs) (void)subscription_table::poll(*sub, store->lookup(sub->aor), 2 * s, out, hold);
    std::uint64_t now = 3 * s;
    for (auto _ : state) {
        for (reg_subscription* sub : subs) {
            const poll_result r = subscription_table::poll(*sub, store->lookup(sub->aor), now, out, hold);
            benchmark::DoNotOptimize(r);
        }
        now += 100'000'000;
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_poll_unchanged)->Arg(1000)->Arg(10000);

binding make(std::string contact, std::uint64_t expires_ns, std::uint32_t cseq) {
    binding b;
    b.contact = std::move(contact);
    b.expires_ns = expires_ns;
    b.call_id = "reg-1@198.51.100.7";
    b.cseq = cseq;
    return b;
}

void BM_reginfo_full(benchmark::State& state) {
    const binding_list l = std::make_shared<const std::vector<binding>>(
        std::vector<binding>{make("sip:alice@198.51.100.7:5060", 600 * s, 1), make("sip:alice@198.51.100.8:5060", 900 * s, 1)});
    std::vector<contact_report> out;
    std::array<char, 4096> room{};
    for (auto _ : state) {
        full_state(l, s, out);
        core::text_writer w(room);
        benchmark::DoNotOptimize(write_reginfo(w, {7, true, "sip:alice@example.com", {}, registration_state::active, out, s}));
    }
}
BENCHMARK(BM_reginfo_full);

void BM_reginfo_partial(benchmark::State& state) {
    const binding_list before = std::make_shared<const std::vector<binding>>(
        std::vector<binding>{make("sip:alice@198.51.100.7:5060", 600 * s, 1)});
    const binding_list after = std::make_shared<const std::vector<binding>>(
        std::vector<binding>{make("sip:alice@198.51.100.7:5060", 600 * s, 1), make("sip:alice@198.51.100.8:5060", 900 * s, 1)});
    std::vector<contact_report> out;
    std::array<char, 4096> room{};
    for (auto _ : state) {
        changes(before, s, after, 2 * s, out);
        core::text_writer w(room);
        benchmark::DoNotOptimize(write_reginfo(w, {8, false, "sip:alice@example.com", {}, registration_state::active, out, 2 * s}));
    }
}
BENCHMARK(BM_reginfo_partial);

} // namespace

BENCHMARK_MAIN();
