// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-auth: what authenticating one registration costs, IMS AKA against password digest,
// side by side in one run (bench/RESULTS.md, "AKA against MD5 digest"). One registration is two
// REGISTERs through the stages a shard runs them by (parse, validate, local routing, sec-agree,
// authentication): the first challenged 401, the second carrying the answer and proved. AKA's
// challenge makes a vector (RAND from OpenSSL, Milenage's f1-f5: six AES blocks) where digest's
// makes an HMAC nonce; AKA's check computes f2 again before the same MD5 digest. The phone's own
// work (its USIM, its MD5) is made once, outside the loop. Nonce-counts are not kept (one answer
// serves every iteration), which both sides are spared alike.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "sipfast/auth/aka.hpp"
#include "sipfast/auth/digest.hpp"
#include "sipfast/auth/nonce.hpp"
#include "sipfast/core/net_address.hpp"
#include "sipfast/proxy/request_context.hpp"
#include "sipfast/proxy/stages/authenticate.hpp"
#include "sipfast/proxy/stages/local_route.hpp"
#include "sipfast/proxy/stages/sec_agree.hpp"
#include "sipfast/proxy/stages/validate.hpp"
#include "sipfast/sip/parser.hpp"

namespace {

using namespace sipfast;

constexpr auth::block k{0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
constexpr auth::block opc{0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
constexpr std::string_view impi = "001010123456712@ims.example";

struct registrar_edge {
    proxy::proxy_config config;
    auth::nonce_source nonces;
    std::vector<sip::header> slots = std::vector<sip::header>(sip::default_header_slots);
    std::array<char, 1024> room{};
    std::array<char, 2048> security_server{};

    registrar_edge() {
        core::net_address us;
        (void)core::parse_ip_port("198.18.0.1:5060", 5060, us);
        config.listen.push_back({sip::transport::udp, us});
        config.domains = {"ims.example"};
        config.serve_registrations = true;
        config.auth.mode = proxy::auth_mode::registrations;
        config.auth.algorithms = {auth::algorithm::md5};
        auto users = std::make_shared<auth::user_directory>();
        users->add_password("alice", "ims.example", "secret");
        config.auth.users = users;
        auto subscribers = std::make_shared<auth::subscriber_directory>();
        (void)subscribers->add(impi, {"001010123456712@ims.example"}, k, opc, {0x80, 0x00}, 0);
        config.auth.subscribers = subscribers;
    }

    /// The stages a REGISTER goes through before the registrar: their verdict.
    proxy::verdict run(const std::string& text, std::uint64_t now_ns) {
        sip::message m;
        (void)sip::parse(text, m, slots);
        core::net_address phone;
        (void)core::parse_ip_port("198.18.0.9:5070", 5060, phone);
        const proxy::inbound in{text, phone, &config.listen[0]};
        sip::message_editor editor(text);
        const proxy::local_identity local(config);
        proxy::request_context ctx(in, m, editor, local);
        proxy::verdict v = proxy::validate(ctx);
        if (v.go_on()) v = proxy::route_locally(ctx);
        if (v.go_on()) v = proxy::sec_agree(ctx, security_server);
        if (v.go_on()) v = proxy::authenticate(ctx, {&nonces, nullptr, now_ns, room});
        return v;
    }
};

std::string register_as(std::string_view user, std::string_view authorization) {
    return "REGISTER sip:ims.example SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKreg1;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:" + std::string(user) + "@ims.example>;tag=r1\r\nTo: <sip:" + std::string(user) +
           "@ims.example>\r\nCall-ID: reg-1@198.18.0.9\r\nCSeq: 1 REGISTER\r\nContact: <sip:" + std::string(user) +
           "@198.18.0.9:5070>\r\nExpires: 600\r\n" + std::string(authorization) + "Content-Length: 0\r\n\r\n";
}

std::string nonce_in(std::string_view extra) {
    std::smatch m;
    const std::string e(extra);
    return std::regex_search(e, m, std::regex("nonce=\"([^\"]+)\"")) ? m[1].str() : std::string();
}

std::string authorization(std::string_view user, std::string_view nonce, std::string_view ha1, std::string_view alg) {
    auth::credentials c;
    c.username = user;
    c.realm = "ims.example";
    c.nonce = nonce;
    c.uri = "sip:ims.example";
    c.cnonce = "0a4f113b";
    c.qop = "auth";
    c.nc = "00000001";
    c.alg = auth::algorithm::md5;
    const auth::hex_digest r = auth::response_for(c, ha1, "REGISTER");
    return "Authorization: Digest username=\"" + std::string(user) + "\", realm=\"ims.example\", nonce=\"" +
           std::string(nonce) + "\", uri=\"sip:ims.example\", response=\"" + std::string(r.view()) + "\", algorithm=" +
           std::string(alg) + ", cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n";
}

void registrations(benchmark::State& state, bool aka) {
    registrar_edge edge;
    const std::string user = aka ? "001010123456712" : "alice";
    const std::string first = aka ? register_as(user, "Authorization: Digest username=\"" + std::string(impi) +
                                                           "\", realm=\"ims.example\", uri=\"sip:ims.example\", nonce=\"\", response=\"\"\r\n")
                                  : register_as(user, "");
    const std::string nonce = nonce_in(edge.run(first, 1).extra);
    std::string second;
    if (aka) {
        auth::aka_nonce_parts parts;
        (void)auth::parse_aka_nonce(nonce, parts);
        const auth::res_bytes res = *auth::milenage(k, opc).f2(parts.rand);
        second = register_as(user, authorization(impi, nonce, auth::aka_ha1(impi, "ims.example", res).view(), "AKAv1-MD5"));
    } else {
        second = register_as(user, authorization(user, nonce, auth::ha1(auth::algorithm::md5, user, "ims.example", "secret").view(), "MD5"));
    }
    if (edge.run(second, 2).status != 0 || edge.run(first, 2).status != 401) {
        state.SkipWithError("the registration is not challenged then proved");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(edge.run(first, 3).status);
        benchmark::DoNotOptimize(edge.run(second, 3).status);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel("registrations");
}

void BM_RegistrationMd5Digest(benchmark::State& state) { registrations(state, false); }
void BM_RegistrationAka(benchmark::State& state) { registrations(state, true); }
BENCHMARK(BM_RegistrationMd5Digest);
BENCHMARK(BM_RegistrationAka);

// The pieces of AKA's price: a vector (RAND, Milenage), and f2 alone (the check).
void BM_AkaVector(benchmark::State& state) {
    const auth::milenage m(k, opc);
    auth::sqn_generator sqn;
    for (auto _ : state) {
        auth::block rand{};
        auth::sqn_bytes s{};
        auth::aka_vector v;
        (void)auth::make_rand(rand);
        (void)sqn.next(s);
        benchmark::DoNotOptimize(auth::make_aka_vector(m, s, {0x80, 0x00}, rand, v));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AkaVector);

void BM_AkaF2(benchmark::State& state) {
    const auth::milenage m(k, opc);
    const auth::block rand{1, 2, 3};
    for (auto _ : state) benchmark::DoNotOptimize(m.f2(rand));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AkaF2);

} // namespace

BENCHMARK_MAIN();
