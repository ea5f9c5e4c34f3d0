// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-parse: the seed corpus parsed by each sipfast scanner, libosip2 and sofia-sip in one
// run, each giving its full parse, with items/s = messages/s; the ratios come last.
//
//   build/bench/sipfast-bench-parse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "isa/scan.hpp"  // private: the structural index alone, as the floor of a parse
#include "sipfast/sip/isa.hpp"
#include "sipfast/sip/name_addr.hpp"
#include "sipfast/sip/parser.hpp"
#include "sipfast/sip/via.hpp"

namespace {

using namespace sipfast;

// One of each kind the proxy carries: IMS REGISTER, INVITE with SDP, 18x and 200 with SDP, ACK,
// BYE, SUBSCRIBE, NOTIFY with a body, MESSAGE.
constexpr const char* corpus_files[] = {
    "seed/000_01_register_tcp.sip",         "seed/003_02_invite_sdp.sip",
    "seed/002_09_183_session_progress.sip", "seed/002_12_200_ok_a_leg.sip",
    "seed/000_15_ack_from_ue1.sip",         "seed/000_17_bye_from_ue1.sip",
    "seed/000_03_subscribe_reg_udp.sip",    "seed/004_07_notify_reginfo_xml.sip",
    "extra/message_sms.sip",
};
constexpr const char* invite_file = "seed/003_02_invite_sdp.sip";  // 976 bytes, SDP body

std::string corpus_dir() {
    const char* env = std::getenv("SIPFAST_CORPUS");
    return env ? env : SIPFAST_CORPUS_DIR;
}

std::string load(const std::string& name) {
    std::ifstream in(corpus_dir() + "/" + name, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "sipfast-bench-parse: cannot read %s/%s\n", corpus_dir().c_str(), name.c_str());
        std::exit(2);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct workload {
    std::vector<std::string> messages;
    std::size_t bytes = 0;
};

const workload& corpus() {
    static const workload w = [] {
        workload x;
        for (const char* f : corpus_files) x.messages.push_back(load(f));
        for (const auto& m : x.messages) x.bytes += m.size();
        return x;
    }();
    return w;
}

const workload& invite() {
    static const workload w = [] {
        workload x;
        x.messages.push_back(load(invite_file));
        x.bytes = x.messages[0].size();
        return x;
    }();
    return w;
}

void finish(benchmark::State& state, const workload& w) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.messages.size()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(w.bytes));
}

void bm_sipfast(benchmark::State& state, const sip::implementation* isa, const workload& w) {
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message msg;
    sip::parse_options opt;
    opt.isa = isa;
    for (const auto& m : w.messages) {
        if (!sip::parse(m, msg, slots, opt).ok()) {
            state.SkipWithError("sipfast rejected a corpus message");
            return;
        }
    }
    for (auto _ : state) {
        for (const auto& m : w.messages) {
            const sip::parse_result r = sip::parse(m, msg, slots, opt);
            benchmark::DoNotOptimize(r);
            benchmark::DoNotOptimize(msg);
        }
    }
    finish(state, w);
}

// Like for like with libosip2 and sofia-sip, which decode every header they know into a tree:
// sipfast's parse, then every Via, Route, Record-Route and Contact value decoded as well (the
// proxy decodes only the top Via and what a stage asks for). Returns the values decoded.
std::size_t decode_all(const sip::message& msg) noexcept {
    // From and To, which parse leaves to first use, as the peers decode them.
    std::size_t n = (msg.from.get() != nullptr ? 1u : 0u) + (msg.to.get() != nullptr ? 1u : 0u);
    for (const sip::header& h : msg.headers) {
        std::string_view rest = h.value;
        switch (h.id) {
        case sip::header_id::via:
            while (!rest.empty()) {
                sip::via v;
                if (sip::parse_via(rest, v, &rest) != sip::parse_error::none) break;
                ++n;
            }
            break;
        case sip::header_id::route:
        case sip::header_id::record_route:
            while (!rest.empty()) {
                sip::name_addr a;
                if (sip::parse_name_addr(rest, a, &rest) != sip::parse_error::none) break;
                ++n;
            }
            break;
        case sip::header_id::contact:
            while (!rest.empty()) {
                sip::contact c;
                if (sip::parse_contact(rest, c, &rest) != sip::parse_error::none) break;
                ++n;
            }
            break;
        default: break;
        }
    }
    return n;
}

void bm_sipfast_all(benchmark::State& state, const sip::implementation* isa, const workload& w) {
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message msg;
    sip::parse_options opt;
    opt.isa = isa;
    for (auto _ : state) {
        for (const auto& m : w.messages) {
            const sip::parse_result r = sip::parse(m, msg, slots, opt);
            benchmark::DoNotOptimize(r);
            benchmark::DoNotOptimize(decode_all(msg));
        }
    }
    finish(state, w);
}

// The structural index alone (lines, names, values; no start line, no header decoding): what a
// parse cannot go below with this design, measured beside the full parse.
void bm_index(benchmark::State& state, const sip::implementation* isa, const workload& w) {
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::detail::scan_output out;
    out.slots = slots.data();
    out.capacity = slots.size();
    for (auto _ : state) {
        for (const auto& m : w.messages) {
            isa->scan(m.data(), m.size(), out);
            benchmark::DoNotOptimize(out);
        }
    }
    finish(state, w);
}

void bm_osip2(benchmark::State& state, const workload& w) {
    for (const auto& m : w.messages) {
        osip_message_t* sip = nullptr;
        osip_message_init(&sip);
        const int rc = osip_message_parse(sip, m.data(), m.size());
        osip_message_free(sip);
        if (rc != 0) {
            state.SkipWithError("osip2 rejected a corpus message");
            return;
        }
    }
    for (auto _ : state) {
        for (const auto& m : w.messages) {
            osip_message_t* sip = nullptr;
            osip_message_init(&sip);
            benchmark::DoNotOptimize(osip_message_parse(sip, m.data(), m.size()));
            osip_message_free(sip);
        }
    }
    finish(state, w);
}

void bm_sofia(benchmark::State& state, const workload& w) {
    msg_mclass_t const* mc = sip_default_mclass();
    for (const auto& m : w.messages) {
        msg_t* msg = msg_make(mc, 0, m.data(), static_cast<isize_t>(m.size()));
        const bool ok = msg != nullptr && sip_object(msg) != nullptr && sip_object(msg)->sip_call_id != nullptr &&
                        !(sip_object(msg)->sip_flags & MSG_FLG_ERROR);
        if (msg) msg_destroy(msg);
        if (!ok) {
            state.SkipWithError("sofia-sip rejected a corpus message");
            return;
        }
    }
    for (auto _ : state) {
        for (const auto& m : w.messages) {
            msg_t* msg = msg_make(mc, 0, m.data(), static_cast<isize_t>(m.size()));
            benchmark::DoNotOptimize(sip_object(msg));
            msg_destroy(msg);
        }
    }
    finish(state, w);
}

// Keeps each benchmark's time per message (median when repeated) to print the ratios at the end,
// and hands every run to the reporter --benchmark_format asks for (console or json).
class ratio_reporter : public benchmark::BenchmarkReporter {
public:
    explicit ratio_reporter(std::string_view format) {
        if (format == "json") inner_ = std::make_unique<benchmark::JSONReporter>();
        else inner_ = std::make_unique<benchmark::ConsoleReporter>();
        machine_readable_ = format == "json";
    }
    bool ReportContext(const Context& context) override {
        inner_->SetOutputStream(&GetOutputStream());
        inner_->SetErrorStream(&GetErrorStream());
        return inner_->ReportContext(context);
    }
    void ReportRuns(const std::vector<Run>& runs) override {
        inner_->ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.error_occurred) continue;
            const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type == Run::RT_Aggregate && !median) continue;
            const std::string name = r.run_name.function_name;
            const auto it = r.counters.find("items_per_second");
            if (it == r.counters.end()) continue;
            if (median || !times_.count(name)) times_[name] = 1e9 / it->second.value;
        }
    }
    void Finalize() override { inner_->Finalize(); }
    const std::map<std::string, double>& ns_per_message() const { return times_; }
    // JSON on stdout stays parseable: the ratio table then goes to stderr.
    [[nodiscard]] std::FILE* table_stream() const { return machine_readable_ ? stderr : stdout; }

private:
    std::unique_ptr<benchmark::BenchmarkReporter> inner_;
    bool machine_readable_ = false;
    std::map<std::string, double> times_;
};

// --loop PARSER ROUNDS: parse the corpus ROUNDS times with one parser (sipfast_<isa>, osip2, sofia or
// none) and exit, for instruction counts under callgrind, which do not move with machine noise.
int loop(std::string_view parser, long rounds) {
    const workload& w = corpus();
    long ok = 0;
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message msg;
    msg_mclass_t const* mc = sip_default_mclass();
    // sipfast_all_<isa>: the like-for-like parse (every Via, Route, Record-Route and Contact decoded).
    const bool all = parser.rfind("sipfast_all_", 0) == 0;
    const sip::implementation* isa = all ? sip::find_implementation(parser.substr(12))
                                         : parser.rfind("sipfast_", 0) == 0 ? sip::find_implementation(parser.substr(8))
                                                                            : nullptr;
    if (parser.rfind("sipfast_", 0) == 0 && (isa == nullptr || !isa->supported())) {
        std::fprintf(stderr, "sipfast-bench-parse: --loop %.*s: no such scanner on this CPU\n",
                     static_cast<int>(parser.size()), parser.data());
        return 2;
    }
    sip::parse_options opt;
    opt.isa = isa;
    for (long r = 0; r < rounds; ++r) {
        for (const auto& m : w.messages) {
            if (isa) {
                ok += sip::parse(m, msg, slots, opt).ok();
                if (all) benchmark::DoNotOptimize(decode_all(msg));
            } else if (parser == "osip2") {
                osip_message_t* o = nullptr;
                osip_message_init(&o);
                ok += osip_message_parse(o, m.data(), m.size()) == 0;
                osip_message_free(o);
            } else if (parser == "sofia") {
                msg_t* x = msg_make(mc, 0, m.data(), static_cast<isize_t>(m.size()));
                ok += sip_object(x) != nullptr;
                msg_destroy(x);
            }
        }
    }
    std::printf("%ld messages parsed by %.*s\n", ok, static_cast<int>(parser.size()), parser.data());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    parser_init();
    if (argc == 4 && std::string_view(argv[1]) == "--loop") return loop(argv[2], std::atol(argv[3]));
    std::string_view format = "console";
    for (int i = 1; i < argc; ++i)
        if (std::string_view a = argv[i]; a.starts_with("--benchmark_format=")) format = a.substr(19);
    benchmark::Initialize(&argc, argv);
    std::vector<std::string> isas;
    for (const sip::implementation* isa : sip::implementations()) {
        if (!isa->supported()) continue;
        isas.emplace_back(isa->name);
        benchmark::RegisterBenchmark(("parse/sipfast_" + std::string(isa->name) + "/corpus").c_str(),
                                     [isa](benchmark::State& s) { bm_sipfast(s, isa, corpus()); });
        benchmark::RegisterBenchmark(("parse/sipfast_" + std::string(isa->name) + "/invite_sdp").c_str(),
                                     [isa](benchmark::State& s) { bm_sipfast(s, isa, invite()); });
        benchmark::RegisterBenchmark(("parse_all/sipfast_" + std::string(isa->name) + "/corpus").c_str(),
                                     [isa](benchmark::State& s) { bm_sipfast_all(s, isa, corpus()); });
        benchmark::RegisterBenchmark(("index/sipfast_" + std::string(isa->name) + "/corpus").c_str(),
                                     [isa](benchmark::State& s) { bm_index(s, isa, corpus()); });
    }
    benchmark::RegisterBenchmark("parse/osip2/corpus", [](benchmark::State& s) { bm_osip2(s, corpus()); });
    benchmark::RegisterBenchmark("parse/osip2/invite_sdp", [](benchmark::State& s) { bm_osip2(s, invite()); });
    benchmark::RegisterBenchmark("parse/sofia/corpus", [](benchmark::State& s) { bm_sofia(s, corpus()); });
    benchmark::RegisterBenchmark("parse/sofia/invite_sdp", [](benchmark::State& s) { bm_sofia(s, invite()); });

    ratio_reporter reporter(format);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    const auto& t = reporter.ns_per_message();
    std::FILE* out = reporter.table_stream();
    const auto at = [&](const std::string& n) { const auto i = t.find(n); return i == t.end() ? 0.0 : i->second; };
    std::fprintf(out, "\nns per message (median where repeated); speed ratio = peer time / sipfast time\n");
    std::fprintf(out, "%-16s %12s %12s %14s %14s %16s %14s %14s\n", "sipfast", "corpus ns", "INVITE ns", "x libosip2",
                "x sofia-sip", "index-only ns", "all-lists ns", "x osip2/sofia");
    for (const std::string& isa : isas) {
        const double c = at("parse/sipfast_" + isa + "/corpus");
        const double i = at("parse/sipfast_" + isa + "/invite_sdp");
        if (c <= 0) continue;
        const double all = at("parse_all/sipfast_" + isa + "/corpus");
        std::fprintf(out, "%-16s %12.1f %12.1f %13.1fx %13.1fx %16.1f %14.1f %6.1fx/%.1fx\n", isa.c_str(), c, i,
                    at("parse/osip2/corpus") / c, at("parse/sofia/corpus") / c, at("index/sipfast_" + isa + "/corpus"), all,
                    all > 0 ? at("parse/osip2/corpus") / all : 0.0, all > 0 ? at("parse/sofia/corpus") / all : 0.0);
    }
    std::fprintf(out, "%-16s %12.1f %12.1f\n", "libosip2", at("parse/osip2/corpus"), at("parse/osip2/invite_sdp"));
    std::fprintf(out, "%-16s %12.1f %12.1f\n", "sofia-sip", at("parse/sofia/corpus"), at("parse/sofia/invite_sdp"));
    return 0;
}
