/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hash that decides which shard owns a call, in C that compiles three ways: as C++ in the
 * shards (core/shard_hash.hpp), as BPF C in the kernel's reuseport program (src/io/bpf/steer.bpf.c),
 * which steers each datagram to the worker that owns it, and as C++ again in the test that proves
 * both agree on the corpus. One text, so the kernel and the shards cannot drift apart.
 *
 * Why not XXH3 (call_id_hash, still what the tables place buckets by): the kernel program reads a
 * datagram a byte at a time and has no room for XXH3's stripes. This one is a word-wise
 * multiply-xor a BPF program computes as the bytes go by:
 *
 *   h = seed
 *   for each 8-byte little-endian word w of the Call-ID (the last one zero-padded):
 *       h = (h ^ w) * K;  h ^= h >> 29
 *   h ^= length;  h = fmix64(h)          (MurmurHash3's finalizer)
 *   owner = ((h >> 32) * shards) >> 32   (multiply-shift, as before)
 *
 * Every step is a bijection of h, so two Call-IDs collide only through the seed, which each process
 * draws at start (core::steer_seed) and hands to its kernel program.
 */
#ifndef SIPFAST_CORE_STEER_HASH_H
#define SIPFAST_CORE_STEER_HASH_H

#if defined(__bpf__)
#include <linux/types.h>
typedef __u64 sf_u64;
typedef __u32 sf_u32;
typedef __u8 sf_u8;
#else
#include <stdint.h>
typedef uint64_t sf_u64;
typedef uint32_t sf_u32;
typedef uint8_t sf_u8;
#endif

#ifdef __cplusplus
#define SF_CAST(type, value) static_cast<type>(value)
#define SF_INLINE inline
#else
#define SF_CAST(type, value) ((type)(value))
#define SF_INLINE static inline __attribute__((always_inline))
#endif

#define SF_STEER_K 0x9E3779B97F4A7C15ULL

SF_INLINE sf_u64 sf_steer_mix(sf_u64 h, sf_u64 word) {
    h = (h ^ word) * SF_STEER_K;
    return h ^ (h >> 29);
}

SF_INLINE sf_u64 sf_steer_final(sf_u64 h, sf_u64 length) {
    h ^= length;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/* The shard of [0, shards) that owns hash h. */
SF_INLINE sf_u32 sf_steer_owner(sf_u64 h, sf_u32 shards) {
    return SF_CAST(sf_u32, ((h >> 32) * shards) >> 32);
}

/* The hash over bytes arriving one at a time: what the kernel program computes. */
struct sf_steer_stream {
    sf_u64 h;
    sf_u64 word;    /* the bytes of the word being filled, little-endian */
    sf_u32 length;  /* bytes pushed */
};

SF_INLINE void sf_steer_begin(struct sf_steer_stream* s, sf_u64 seed) {
    s->h = seed;
    s->word = 0;
    s->length = 0;
}

SF_INLINE void sf_steer_push(struct sf_steer_stream* s, sf_u8 byte) {
    s->word |= SF_CAST(sf_u64, byte) << ((s->length & 7u) * 8u);
    s->length += 1;
    if ((s->length & 7u) == 0) {
        s->h = sf_steer_mix(s->h, s->word);
        s->word = 0;
    }
}

SF_INLINE sf_u64 sf_steer_end(const struct sf_steer_stream* s) {
    sf_u64 h = s->h;
    if ((s->length & 7u) != 0) h = sf_steer_mix(h, s->word);
    return sf_steer_final(h, s->length);
}

#endif /* SIPFAST_CORE_STEER_HASH_H */
