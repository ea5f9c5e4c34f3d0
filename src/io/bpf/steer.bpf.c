/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sipfastd's reuseport program (BPF_PROG_TYPE_SK_REUSEPORT, docs/architecture.md "Steering"): the
 * kernel runs it for each datagram arriving on a listen address every worker has bound, and it picks
 * the socket of the worker that owns the message (steer_classify.h), so the shards hand nothing
 * over. What it cannot classify it leaves to the kernel's 4-tuple hash (SK_PASS without a
 * selection); the mailboxes stay as the fallback.
 *
 * Maps, filled by io/reuseport_steering.cpp before the program is attached:
 *   sf_sockets  REUSEPORT_SOCKARRAY: key group * sf_max_workers + worker, one group per UDP listen
 *               address (a program sees no group number: a socket of another group is refused with
 *               -EXDEV and the next group is tried);
 *   sf_config   the seed of the owner hash and the number of workers;
 *   sf_counts   per CPU: steered, left to the kernel, selection refused.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "steer_classify.h"

#define sf_max_workers 256
#define sf_max_groups 4
/* How many bytes of a datagram are read, in chunks of SF_CHUNK: a Call-ID or a top Via further in
 * is left to the kernel. */
#define sf_chunks 8

struct sf_config {
    __u64 seed;
    __u32 workers;
    __u32 groups;
};

/* The bytes being read and the classifier's state: in a map, not on the stack, so the verifier
 * sees unknown values at every step and checks the step once rather than every path through it. */
struct sf_scratch {
    struct sf_classify c;
    __u32 at; /* the cursor in bytes */
    __u32 n;  /* bytes of the chunk */
    __u8 bytes[SF_CHUNK_ROOM];
};

struct {
    __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
    __uint(max_entries, sf_max_workers * sf_max_groups);
    __type(key, __u32);
    __type(value, __u64);
} sf_sockets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sf_config);
} sf_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sf_scratch);
} sf_scratch SEC(".maps");

enum { sf_count_steered, sf_count_passed, sf_count_refused, sf_count_n };

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, sf_count_n);
    __type(key, __u32);
    __type(value, __u64);
} sf_counts SEC(".maps");

static __always_inline void count(__u32 what) {
    __u64* n = bpf_map_lookup_elem(&sf_counts, &what);
    if (n) *n += 1;
}

static long step(__u32 i, void* unused) {
    (void)i;
    (void)unused;
    const __u32 zero = 0;
    struct sf_scratch* s = bpf_map_lookup_elem(&sf_scratch, &zero);
    if (!s) return 1;
    return sf_scan_step(&s->c, s->bytes, &s->at, s->n);
}

SEC("sk_reuseport")
int sipfast_steer(struct sk_reuseport_md* md) {
    if (md->ip_protocol != IPPROTO_UDP) return SK_PASS;
    const __u32 zero = 0;
    const struct sf_config* cfg = bpf_map_lookup_elem(&sf_config, &zero);
    struct sf_scratch* s = bpf_map_lookup_elem(&sf_scratch, &zero);
    if (!cfg || !s || cfg->workers == 0) return SK_PASS;
    const __u32 workers = cfg->workers;
    const __u32 groups = cfg->groups;
    sf_classify_begin(&s->c, cfg->seed, workers);
    /* md->len counts the UDP header the datagram's bytes follow. */
    const __u32 len = md->len;
    __u32 at = 8;
    for (int k = 0; k < sf_chunks; ++k) {
        if (at >= len) break;
        __u32 n = len - at;
        if (n > SF_CHUNK) n = SF_CHUNK;
        if (n == 0) break;
        if (bpf_skb_load_bytes(md, at, s->bytes, n) != 0) break;
        s->at = 0;
        s->n = n;
        bpf_loop(n, step, 0, 0); /* each step takes a byte at least */
        if (s->c.result != sf_running) break;
        at += n;
    }
    if (s->c.result != sf_owner) {
        count(sf_count_passed);
        return SK_PASS;
    }
    const __u32 owner = s->c.owner;
    if (owner >= workers || owner >= sf_max_workers) {
        count(sf_count_refused);
        return SK_PASS;
    }
    for (__u32 g = 0; g < sf_max_groups; ++g) {
        if (g >= groups) break;
        __u32 key = g * sf_max_workers + owner;
        if (bpf_sk_select_reuseport(md, &sf_sockets, &key, 0) == 0) {
            count(sf_count_steered);
            return SK_PASS;
        }
    }
    count(sf_count_refused);
    return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
