// SPDX-License-Identifier: Apache-2.0
// sipfast-parse: parse one SIP message (or, with --stream, a TCP byte stream of them) and print what
// the parser decoded. Exit 0 valid, 1 invalid (reason on stderr), 2 usage or I/O error.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_parse.hpp"
#include <nlohmann/json.hpp>

#include "parse_summary.hpp"
#include "sipfast/sip/isa.hpp"
#include "sipfast/sip/parser.hpp"

namespace {

using namespace sipfast;

struct options {
    bool json = false;
    bool stream = false;
    bool list_isa = false;
    std::string isa;
    std::string corpus;
    std::string file;
};

std::size_t line_of(const std::string& data, std::size_t offset) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < offset && i < data.size(); ++i) line += data[i] == '\n';
    return line;
}

nlohmann::json to_json(const tools::summary& s) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : s) {
        if (v.empty()) j[k] = nullptr;
        else if (k == "status" || k == "via_port" || k == "max_forwards" || k == "content_length" ||
                 k == "expires" || k == "header_count" || k == "body_length")
            j[k] = std::stoul(v);
        else j[k] = v;
    }
    return j;
}

std::string brief(const sip::message& m) {
    std::string s = m.is_request() ? std::string(m.method_text) + " " + std::string(m.request_uri_text)
                                   : std::to_string(m.status_code) + " " + std::string(m.reason);
    return s + "  [" + std::to_string(m.headers.size()) + " headers, " + std::to_string(m.body.size()) +
           " body bytes, Call-ID " + std::string(m.call_id) + "]";
}

// Parses every .sip file under a folder: one line each, then a count. Files whose .expect says
// "error:" are malformed on purpose and count as rejected, not failed.
int run_corpus(const options& opt) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(opt.corpus, ec)) {
        std::cerr << "sipfast-parse: " << opt.corpus << ": not a folder\n";
        return 2;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(opt.corpus))
        if (e.path().extension() == ".sip") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const sip::implementation& isa = sip::active_implementation();
    std::cout << "sipfast-parse: scanner " << isa.name << " (" << isa.description << ")";
    if (!sip::active_implementation_note().empty()) std::cout << "; " << sip::active_implementation_note();
    std::cout << "\n";
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message msg;
    unsigned valid = 0, rejected = 0, failed = 0;
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        fs::path expect = f;
        expect.replace_extension(".expect");
        std::ifstream ein(expect);
        std::string first;
        std::getline(ein, first);
        const bool want_error = first.rfind("error:", 0) == 0;
        const sip::parse_result r = sip::parse_strict(data, msg, slots);
        const std::string name = fs::relative(f, opt.corpus).string();
        if (r.ok()) {
            std::cout << (want_error ? "FAIL " : "ok   ") << name << "  " << brief(msg) << '\n';
            (want_error ? failed : valid) += 1;
        } else {
            std::array<char, 160> buf{};
            std::cout << (want_error ? "400  " : "FAIL ") << name << "  " << sip::format_reason(r, buf) << '\n';
            (want_error ? rejected : failed) += 1;
        }
    }
    std::cout << files.size() << " messages: " << valid << " parsed, " << rejected
              << " rejected as malformed (as expected), " << failed << " unexpected\n";
    return failed == 0 ? 0 : 1;
}

int run(const options& opt) {
    if (opt.list_isa) {
        for (const sip::implementation* i : sip::implementations())
            std::cout << i->name << (i->supported() ? "" : " (not supported by this CPU)")
                      << (i == &sip::active_implementation() ? " (active)" : "") << '\n';
        return 0;
    }
    if (!opt.corpus.empty()) return run_corpus(opt);
    std::string data;
    const std::string name = opt.file.empty() || opt.file == "-" ? "<stdin>" : opt.file;
    if (name == "<stdin>") {
        data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        std::ifstream in(opt.file, std::ios::binary);
        if (!in) {
            std::cerr << "sipfast-parse: " << name << ": cannot open: " << std::strerror(errno) << '\n';
            return 2;
        }
        data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    sip::parse_options po;
    po.stream = opt.stream;
    if (!opt.isa.empty()) {
        po.isa = sip::find_implementation(opt.isa);
        if (po.isa == nullptr || !po.isa->supported()) {
            std::cerr << "sipfast-parse: --isa " << opt.isa << ": not available on this CPU\n";
            return 2;
        }
    }

    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message msg;
    nlohmann::json all = nlohmann::json::array();
    std::size_t at = 0;
    unsigned count = 0;
    do {
        const std::string_view rest(data.data() + at, data.size() - at);
        const sip::parse_result r = sip::parse_strict(rest, msg, slots, po);
        if (r.status == sip::parse_status::incomplete) {
            std::cerr << "sipfast-parse: " << name << ": line " << line_of(data, at)
                      << ": incomplete message at end of stream (" << rest.size() << " bytes)\n";
            return 1;
        }
        if (r.status == sip::parse_status::error) {
            std::array<char, 160> buf{};
            const std::size_t off = at + r.offset;
            std::cerr << "sipfast-parse: " << name << ": line " << line_of(data, off) << ": "
                      << sip::format_reason(r, buf) << " (" << sip::to_string(r.error) << ", byte "
                      << off << ")\n";
            return 1;
        }
        at += r.consumed;
        if (msg.kind == sip::message_kind::keepalive_ping || msg.kind == sip::message_kind::keepalive_pong) {
            if (opt.json) all.push_back({{"type", msg.kind == sip::message_kind::keepalive_ping ? "ping" : "pong"}});
            else std::cout << (msg.kind == sip::message_kind::keepalive_ping ? "keepalive: ping\n" : "keepalive: pong\n");
            continue;
        }
        const tools::summary s = tools::summarize(msg);
        if (opt.json) {
            all.push_back(to_json(s));
        } else {
            if (count++ > 0) std::cout << '\n';
            std::cout << tools::to_text(s);
        }
    } while (opt.stream && at < data.size());

    if (opt.json) std::cout << (opt.stream ? all.dump(2) : all.at(0).dump(2)) << '\n';
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Parse a SIP message and print what sipfast decoded.\n"
                 "Exit status: 0 valid, 1 invalid (reason on stderr), 2 usage error."};
    app.name("sipfast-parse");
    options opt;
    app.add_flag("--json", opt.json, "print JSON instead of key: value lines");
    app.add_flag("--stream", opt.stream,
                 "frame the input as a TCP byte stream of messages (Content-Length required)");
    app.add_option("--isa", opt.isa, "scanner to use: scalar, sse42, avx2, avx512 (default: best)");
    app.add_option("file", opt.file, "message file; - or none reads stdin");
    app.add_option("--corpus", opt.corpus, "parse every .sip file under this folder, one line each");
    app.add_flag("--list-isa", opt.list_isa, "list the scanners and which one is active");
    if (const auto status = cli::parse_command_line(app, argc, argv, "sipfast-parse")) return *status;
    return run(opt);
}
