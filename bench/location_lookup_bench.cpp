// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-location: lookups per second per reader thread while a writer re-registers
// (bench/RESULTS.md, "Location lookups under a writer"). Every shard reads the registrar's bindings
// for each call to a registered user, and the shard that owns a REGISTER writes them; this puts the
// designs for that side by side:
//
//   tbb       TBB's concurrent_hash_map of immutable snapshots, as binding_map was (a copy of it is
//             here, so the comparison outlives it): a lookup takes the bucket's and the element's
//             read locks to copy one shared_ptr.
//   snapshot  snapshot_table (src/registrar/snapshot_table.hpp): buckets swapped whole by writers,
//             searched without a lock, freed after a grace period.
//   locked    64 shards of std::unordered_map, each under a std::shared_mutex: the plain answer.
//   snapshot_peek  snapshot_table read inside a read_section without copying the shared_ptr (peek):
//             not what location_store offers; what its shared_ptr costs.
//
// Each run registers `aors` users ("user1234@example.com", one contact each), starts `writers`
// threads that re-register random users for as long as it lasts (apply_register and a new snapshot,
// as a REGISTER does), as fast as they can (pace 0) or `pace` times a second, and times benchmark
// threads that each look up random users as target.cpp does for a call: the key written into a stack
// buffer (write_aor), the lookup, the first live binding. lookups_per_s is per reader thread;
// writes_per_s is all writers'. update/* is a writer alone: what each design costs a REGISTER.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <oneapi/tbb/concurrent_hash_map.h>
#include <xxhash.h>

#include "binding_map.hpp"
#include "snapshot_table.hpp"

namespace {

using namespace sipfast;
using namespace sipfast::registrar;

const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

struct xxh3_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const noexcept { return XXH3_64bits(k.data(), k.size()); }
};

/// binding_map as it was before snapshot_table (commit b409a6c): TBB's concurrent hash map.
class tbb_design {
public:
    [[nodiscard]] binding_list find(std::string_view aor) const {
        map::const_accessor a;
        if (!map_.find(a, aor)) return nullptr;
        return a->second;
    }
    void update(std::string_view aor, const register_request& r, std::uint64_t now_ns) {
        map::accessor a;
        (void)map_.insert(a, std::string(aor));
        std::vector<binding> next;
        if (next_bindings(a->second, r, now_ns, limits, next) == register_fault::none)
            a->second = next.empty() ? nullptr : std::make_shared<const std::vector<binding>>(std::move(next));
    }

private:
    struct aor_hash_compare {
        using is_transparent = void;
        static std::size_t hash(std::string_view k) noexcept { return XXH3_64bits(k.data(), k.size()); }
        static bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
    };
    using map = oneapi::tbb::concurrent_hash_map<std::string, binding_list, aor_hash_compare>;
    mutable map map_;
};

/// The first live binding of `list`, as target.cpp takes it; null when none is live.
const binding* first_live(const std::vector<binding>* list, std::uint64_t now_ns) {
    if (list != nullptr)
        for (const binding& b : *list)
            if (b.live(now_ns)) return &b;
    return nullptr;
}

class snapshot_design {
public:
    [[nodiscard]] binding_list find(std::string_view aor) const { return table_.find(aor); }
    void update(std::string_view aor, const register_request& r, std::uint64_t now_ns) {
        snapshot_table::writer w(table_, aor);
        std::vector<binding> next;
        if (next_bindings(w.current(), r, now_ns, limits, next) == register_fault::none)
            w.publish(next.empty() ? nullptr : std::make_shared<const std::vector<binding>>(std::move(next)), 0);
    }

protected:
    snapshot_table table_;
};

/// The same table read without a reference (snapshot_table::peek): what a lookup would cost if
/// location_store let its caller read the bindings inside the lookup instead of returning a
/// shared_ptr.
class peek_design : public snapshot_design {
public:
    [[nodiscard]] bool route(std::string_view aor, std::uint64_t now_ns) const {
        const read_section section;
        const binding* b = first_live(table_.peek(aor, section), now_ns);
        benchmark::DoNotOptimize(b);
        return b != nullptr;
    }
};

class locked_design {
public:
    [[nodiscard]] binding_list find(std::string_view aor) const {
        const std::size_t h = xxh3_hash{}(aor);
        const shard& s = shards_[h % shards];
        const std::shared_lock<std::shared_mutex> l(s.m);
        const auto i = s.map.find(aor);
        return i == s.map.end() ? nullptr : i->second;
    }
    void update(std::string_view aor, const register_request& r, std::uint64_t now_ns) {
        shard& s = shards_[xxh3_hash{}(aor) % shards];
        const std::unique_lock<std::shared_mutex> l(s.m);
        binding_list& list = s.map[std::string(aor)];
        std::vector<binding> next;
        if (next_bindings(list, r, now_ns, limits, next) == register_fault::none)
            list = next.empty() ? nullptr : std::make_shared<const std::vector<binding>>(std::move(next));
    }

private:
    static constexpr std::size_t shards = 64;
    struct alignas(64) shard {
        mutable std::shared_mutex m;
        std::unordered_map<std::string, binding_list, xxh3_hash, std::equal_to<>> map;
    };
    std::array<shard, shards> shards_;
};

/// "user<n>@example.com" in `buf`, as write_aor writes the key of a Request-URI.
std::string_view aor_of(std::uint64_t n, std::array<char, 48>& buf) {
    constexpr std::string_view user = "user", domain = "@example.com";
    char* p = buf.data();
    for (const char c : user) *p++ = c;
    p = std::to_chars(p, buf.data() + 24, n).ptr;
    for (const char c : domain) *p++ = c;
    return {buf.data(), static_cast<std::size_t>(p - buf.data())};
}

/// xorshift64*: a thread's own sequence of users, cheap next to a lookup.
struct random_users {
    std::uint64_t s;
    std::uint64_t count;
    std::uint64_t next() noexcept {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return ((s * std::uint64_t{0x2545F4914F6CDD1D}) >> 32) % count;
    }
};

/// A REGISTER of one contact for `aor`, from 198.18.0.9, at CSeq `cseq`.
struct one_register {
    std::string uri, call_id;
    contact_request contact;
    register_request r;

    one_register(std::string_view aor, std::uint32_t cseq)
        : uri("sip:" + std::string(aor.substr(0, aor.find('@'))) + "@198.18.0.9:5070"), call_id("reg-" + std::string(aor)) {
        contact.uri = uri;
        r.contacts = {&contact, 1};
        r.call_id = call_id;
        r.cseq = cseq;
        r.has_expires = true;
        r.expires_s = 3600;
        r.received.transport = sip::transport::udp;
        (void)core::parse_ip_port("198.18.0.9", 5060, r.received.source);
    }
};

/// The store the benchmark threads share, with its writers running: made by thread 0 before the
/// timed loop (Google Benchmark holds every thread at the loop's start until all are there) and
/// stopped by it after (and at the loop's end).
template <class Design>
struct shared_run {
    Design store;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> writes{0};
    std::vector<std::thread> writers;
    static constexpr std::uint64_t clock_ns = 1'000'000'000;  // when the users first register

    /// `pace`: writes a second per writer, 0 for as many as it can. A paced writer spins between
    /// writes, as a shard's loop would be busy with other work.
    shared_run(std::uint64_t aors, int writer_count, std::int64_t pace) {
        std::array<char, 48> buf{};
        for (std::uint64_t n = 0; n < aors; ++n) {
            const std::string_view aor = aor_of(n, buf);
            store.update(aor, one_register(aor, 1).r, clock_ns);
        }
        for (int w = 0; w < writer_count; ++w)
            writers.emplace_back([this, aors, w, pace] {
                random_users users{std::uint64_t{0x9E3779B97F4A7C15} * static_cast<std::uint64_t>(w + 7), aors};
                std::array<char, 48> key{};
                std::uint32_t cseq = 2;
                std::uint64_t now_ns = clock_ns;
                std::uint64_t n = 0;
                const auto start = std::chrono::steady_clock::now();
                const std::chrono::nanoseconds period{pace > 0 ? 1'000'000'000 / pace : 0};
                while (!stop.load(std::memory_order_relaxed)) {
                    const std::string_view aor = aor_of(users.next(), key);
                    now_ns += 1000;  // a later expiry each time: every write is a new snapshot
                    store.update(aor, one_register(aor, cseq++).r, now_ns);
                    ++n;
                    if (pace > 0)
                        while (std::chrono::steady_clock::now() - start < period * static_cast<std::int64_t>(n) &&
                               !stop.load(std::memory_order_relaxed)) {
                        }
                }
                writes.fetch_add(n, std::memory_order_relaxed);
            });
    }
    ~shared_run() { halt(); }
    void halt() {
        stop.store(true);
        for (std::thread& t : writers) t.join();
        writers.clear();
    }
};

template <class Design>
bool route(const Design& store, std::string_view aor, std::uint64_t now_ns) {
    if constexpr (requires { store.route(aor, now_ns); }) {
        return store.route(aor, now_ns);
    } else {
        const binding_list list = store.find(aor);
        const binding* b = first_live(list.get(), now_ns);
        benchmark::DoNotOptimize(b);
        return b != nullptr;
    }
}

template <class Design>
void lookup(benchmark::State& state) {
    static std::unique_ptr<shared_run<Design>> run;
    const auto aors = static_cast<std::uint64_t>(state.range(0));
    if (state.thread_index() == 0) run = std::make_unique<shared_run<Design>>(aors, static_cast<int>(state.range(1)), state.range(2));
    const auto started = std::chrono::steady_clock::now();

    random_users users{std::uint64_t{0xD1B54A32D192ED03} * static_cast<std::uint64_t>(state.thread_index() + 1), aors};
    std::array<char, 48> key{};
    std::uint64_t missing = 0;
    // Not `run`'s: other threads may only touch it inside the loop, once thread 0 has made it.
    const std::uint64_t now_ns = shared_run<Design>::clock_ns + 1;
    for (auto _ : state) {
        // As target.cpp routes a call: the list, then its first live binding.
        if (!route(run->store, aor_of(users.next(), key), now_ns)) ++missing;
    }

    state.counters["lookups_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kAvgThreadsRate);
    state.counters["missing"] = static_cast<double>(missing);
    if (state.thread_index() == 0) {
        run->halt();
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        state.counters["writes_per_s"] = static_cast<double>(run->writes.load()) / took.count();
        run.reset();
    }
}

/// What a REGISTER's write costs the writer in each design, with no reader.
template <class Design>
void update(benchmark::State& state) {
    const auto aors = static_cast<std::uint64_t>(state.range(0));
    shared_run<Design> run(aors, 0, 0);
    random_users users{std::uint64_t{0x9E3779B97F4A7C15}, aors};
    std::array<char, 48> key{};
    std::uint32_t cseq = 2;
    std::uint64_t now_ns = run.clock_ns;
    for (auto _ : state) {
        const std::string_view aor = aor_of(users.next(), key);
        now_ns += 1000;
        run.store.update(aor, one_register(aor, cseq++).r, now_ns);
    }
    state.SetItemsProcessed(state.iterations());
}

void configure(benchmark::internal::Benchmark* b) {
    b->ArgNames({"aors", "writers", "pace"});
    for (const std::int64_t aors : {10'000, 100'000}) {
        b->Args({aors, 0, 0});
        b->Args({aors, 1, 0});       // as many writes as it can make
        b->Args({aors, 1, 10'000});  // 10 000 a second: 30 times a million users refreshing hourly
    }
    b->Threads(1)->Threads(2)->UseRealTime();
}

BENCHMARK(lookup<tbb_design>)->Name("lookup/tbb")->Apply(configure);
BENCHMARK(lookup<snapshot_design>)->Name("lookup/snapshot")->Apply(configure);
BENCHMARK(lookup<locked_design>)->Name("lookup/locked")->Apply(configure);
BENCHMARK(lookup<peek_design>)->Name("lookup/snapshot_peek")->Apply(configure);
BENCHMARK(update<tbb_design>)->Name("update/tbb")->ArgName("aors")->Arg(10'000)->Arg(100'000);
BENCHMARK(update<snapshot_design>)->Name("update/snapshot")->ArgName("aors")->Arg(10'000)->Arg(100'000);
BENCHMARK(update<locked_design>)->Name("update/locked")->ArgName("aors")->Arg(10'000)->Arg(100'000);

} // namespace

BENCHMARK_MAIN();
