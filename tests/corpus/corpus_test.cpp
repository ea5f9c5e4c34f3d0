// SPDX-License-Identifier: Apache-2.0
// The golden corpus: every .sip file under the corpus folder parses, with every implementation and in
// both framings, to what its .expect file says. Valid messages expect the summary sipfast-parse
// prints; malformed ones expect "error: <parse_error>" and "header: <name or other>".
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "parse_summary.hpp"
#include "sipfast/sip/isa.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path corpus_dir() {
    const char* dir = std::getenv("SIPFAST_CORPUS");
    return dir ? fs::path(dir) : fs::path("tests/corpus");
}

std::vector<fs::path> corpus_files() {
    std::vector<fs::path> files;
    if (!fs::exists(corpus_dir())) return files;
    for (const auto& e : fs::recursive_directory_iterator(corpus_dir()))
        if (e.path().extension() == ".sip") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string outcome(const std::string& input, const sip::implementation* isa, bool stream,
                    sip::parse_result& r) {
    std::vector<sip::header> slots(sip::default_header_slots);
    sip::message msg;
    sip::parse_options opt;
    opt.isa = isa;
    opt.stream = stream;
    r = sip::parse_strict(input, msg, slots, opt);
    if (r.status == sip::parse_status::error) {
        const std::string_view h = sip::header_name(r.header);
        return "error: " + std::string(sip::to_string(r.error)) + "\nheader: " +
               (h.empty() ? std::string("other") : std::string(h)) + "\n";
    }
    if (r.status == sip::parse_status::incomplete) return "incomplete\n";
    return tools::to_text(tools::summarize(msg));
}

class Corpus : public ::testing::TestWithParam<fs::path> {};

TEST_P(Corpus, MatchesExpectedParseWithEveryImplementation) {
    const fs::path sip_file = GetParam();
    fs::path expect_file = sip_file;
    expect_file.replace_extension(".expect");
    ASSERT_TRUE(fs::exists(expect_file)) << expect_file;
    const std::string input = read_file(sip_file);
    const std::string expected = read_file(expect_file);
    const bool valid = expected.rfind("error:", 0) != 0;
    for (const sip::implementation* isa : sip::implementations()) {
        if (!isa->supported()) continue;
        sip::parse_result r;
        EXPECT_EQ(outcome(input, isa, false, r), expected) << isa->name << " datagram";
        if (valid) {
            EXPECT_EQ(r.consumed, input.size()) << isa->name;
            // The same bytes on a stream: one message, and every proper prefix is incomplete.
            if (expected.find("\ncontent_length:\n") == std::string::npos) {
                EXPECT_EQ(outcome(input, isa, true, r), expected) << isa->name << " stream";
                for (std::size_t n = 0; n < input.size(); ++n) {
                    sip::parse_result pr;
                    ASSERT_EQ(outcome(input.substr(0, n), isa, true, pr), "incomplete\n")
                        << isa->name << " prefix of " << n << " bytes";
                }
            }
        }
    }
}

std::string test_name(const ::testing::TestParamInfo<fs::path>& info) {
    std::string n = info.param.parent_path().filename().string() + "_" + info.param.stem().string();
    for (char& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return n;
}

INSTANTIATE_TEST_SUITE_P(Files, Corpus, ::testing::ValuesIn(corpus_files()), test_name);

TEST(CorpusFiles, AreThere) { EXPECT_GE(corpus_files().size(), 60u) << corpus_dir(); }

} // namespace
} // namespace sipfast
