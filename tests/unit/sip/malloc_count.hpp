// SPDX-License-Identifier: Apache-2.0
// Counts every malloc, calloc and realloc of the test executable that includes it (one translation
// unit each: it defines them) while `counting` is set. operator new and the standard containers end
// in malloc, so they are counted too.
#pragma once

#include <atomic>
#include <cstddef>

namespace {
std::atomic<long> allocations{0};
bool counting = false;
}

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);

extern "C" void* malloc(std::size_t n) {
    if (counting) ++allocations;
    return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t s) {
    if (counting) ++allocations;
    return __libc_calloc(n, s);
}
extern "C" void* realloc(void* p, std::size_t n) {
    if (counting) ++allocations;
    return __libc_realloc(p, n);
}
