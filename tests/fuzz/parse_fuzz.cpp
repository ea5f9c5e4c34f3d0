// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: every scanner must give the same parse as the scalar reference, in datagram and
// stream framing, and none may crash or read out of bounds (built with ASan/UBSan).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "isa_compare.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (bool stream : {false, true}) {
        const std::string diff = sipfast::test::compare_isas(input, stream);
        if (!diff.empty()) {
            std::fprintf(stderr, "scanner disagreement (%s): %s\n", stream ? "stream" : "datagram", diff.c_str());
            std::abort();
        }
    }
    return 0;
}
