// SPDX-License-Identifier: Apache-2.0
// A USIM for the IMS tests (ims_test.py): what a phone's SIM computes from an AKA nonce with its K
// and OPc (TS 33.102 §6.3.3), so a test can answer sipfastd's challenges as a real phone would.
//   usim answer K OPC NONCE         -> "SQN RES" (SQN as an integer, RES in hex) after checking MAC-A
//   usim resync K OPC NONCE SEQ_MS  -> the auts parameter claiming the USIM has seen SEQ_MS
// Exit status 1 with a reason on stderr when the nonce is bad or its AUTN does not verify.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sipfast/auth/aka.hpp"

namespace {

using namespace sipfast::auth;

bool hex_block(std::string_view text, block& out) {
    if (text.size() != 32) return false;
    for (std::size_t i = 0; i < 16; ++i) {
        const std::string byte(text.substr(2 * i, 2));
        char* end = nullptr;
        out[i] = static_cast<std::uint8_t>(std::strtoul(byte.c_str(), &end, 16));
        if (end != byte.c_str() + 2) return false;
    }
    return true;
}

int fail(const char* what) {
    std::fprintf(stderr, "usim: %s\n", what);
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 5) return fail("usage: usim answer|resync K OPC NONCE [SEQ_MS]");
    const std::string_view verb = argv[1];
    block k{}, opc{};
    if (!hex_block(argv[2], k) || !hex_block(argv[3], opc)) return fail("K and OPc are 32 hexadecimal digits");
    const milenage usim(k, opc);
    aka_nonce_parts nonce;
    if (parse_aka_nonce(argv[4], nonce) != aka_error::none) return fail("the nonce is not RAND, AUTN and server data in base64");
    sqn_bytes sqn{};
    amf_bytes amf{};
    if (open_autn(usim, nonce.rand, nonce.autn, sqn, amf) != aka_error::none) return fail("AUTN does not verify (MAC-A)");
    if (verb == "answer") {
        const std::optional<res_bytes> res = usim.f2(nonce.rand);
        if (!res) return fail("OpenSSL failed");
        std::printf("%llu ", static_cast<unsigned long long>(sqn_value(sqn)));
        for (std::uint8_t b : *res) std::printf("%02x", b);
        std::printf("\n");
        return 0;
    }
    if (verb == "resync" && argc == 6) {
        auts_bytes auts{};
        const std::uint64_t seq_ms = std::strtoull(argv[5], nullptr, 10);
        if (make_auts(usim, nonce.rand, sqn_from_value(seq_ms << sqn_generator::ind_bits), auts) != aka_error::none)
            return fail("OpenSSL failed");
        std::printf("%.*s\n", 20, encode_auts(auts).view().data());
        return 0;
    }
    return fail("usage: usim answer|resync K OPC NONCE [SEQ_MS]");
}
