/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which worker a datagram belongs to, decided a byte at a time: the kernel's reuseport program
 * (steer.bpf.c) feeds it a SIP message's bytes, and tests/unit/io/steer_classify_test.cpp feeds it
 * the corpus natively and checks it against proxy::message_owner. The same rules as the shards:
 *
 *   - a request belongs to owner_shard(owner_hash(Call-ID)): the value of the first `Call-ID:` or
 *     `i:` header (names in any case, blanks before the colon and around the value skipped);
 *   - a response to the shard written in our branch of its top Via (`Via:` or `v:`):
 *     `z9hG4bKsf` and four lower-case hex digits (txn/branch.hpp);
 *   - anything else, or anything this cannot read with certainty (a folded or empty value, a Call-ID
 *     with a blank inside, a Via without our branch), is sf_unknown: the kernel picks a socket as it
 *     always did and the shard that reads it hands it over if it is not the owner. A wrong guess
 *     here costs one hand-over, never a misrouted call.
 *
 * A state machine over single bytes, with no pointer into the message and no loop, so the BPF
 * verifier checks one step once (the program runs it under bpf_loop).
 */
#ifndef SIPFAST_IO_STEER_CLASSIFY_H
#define SIPFAST_IO_STEER_CLASSIFY_H

#include "sipfast/core/steer_hash.h"

enum { sf_running = 0, sf_owner = 1, sf_unknown = 2 };

enum {
    sf_start_line,    /* the first line: "SIP/" makes it a response */
    sf_skip_line,     /* to the end of a line that is not ours */
    sf_name,          /* a header's name */
    sf_after_name,    /* blanks between the name and its colon */
    sf_value_blanks,  /* blanks after the colon */
    sf_call_id,
    sf_call_id_trail, /* blanks after the Call-ID: only the line's end may follow */
    sf_via,           /* in the top Via's value, up to a ';' */
    sf_param,         /* a Via parameter's name: "branch"? */
    sf_param_eq,      /* blanks after "branch", before '=' */
    sf_branch_blanks, /* blanks after '=' */
    sf_branch,        /* the branch: our prefix, then the shard */
};

struct sf_classify {
    struct sf_steer_stream hash;
    sf_u32 shards;
    sf_u32 owner; /* the answer, when result is sf_owner */
    sf_u32 value; /* the branch's shard digits so far */
    sf_u8 state;
    sf_u8 result;
    sf_u8 response;
    sf_u8 pos;  /* characters matched of what is being matched */
    sf_u8 name; /* which names the header's may still be: 1 the long one, 2 the compact one */
};

SF_INLINE void sf_classify_begin(struct sf_classify* c, sf_u64 seed, sf_u32 shards) {
    sf_steer_begin(&c->hash, seed);
    c->shards = shards;
    c->owner = 0;
    c->value = 0;
    c->state = sf_start_line;
    c->result = shards == 0 ? sf_unknown : sf_running;
    c->response = 0;
    c->pos = 0;
    c->name = 3;
}

SF_INLINE int sf_blank(sf_u8 b) { return b == ' ' || b == '\t'; }
SF_INLINE sf_u8 sf_lower(sf_u8 b) { return b >= 'A' && b <= 'Z' ? SF_CAST(sf_u8, b + 32) : b; }

/* The long header name we look for, character `pos` (0 past its end). */
SF_INLINE sf_u8 sf_long_name(sf_u8 response, sf_u8 pos) {
    if (response) {
        switch (pos) {
        case 0: return 'v';
        case 1: return 'i';
        case 2: return 'a';
        default: return 0;
        }
    }
    switch (pos) {
    case 0: return 'c';
    case 1: return 'a';
    case 2: return 'l';
    case 3: return 'l';
    case 4: return '-';
    case 5: return 'i';
    case 6: return 'd';
    default: return 0;
    }
}

SF_INLINE sf_u8 sf_branch_name(sf_u8 pos) {
    switch (pos) {
    case 0: return 'b';
    case 1: return 'r';
    case 2: return 'a';
    case 3: return 'n';
    case 4: return 'c';
    case 5: return 'h';
    default: return 0;
    }
}

/* txn::our_branch::prefix, "z9hG4bKsf", compared as it is written. */
SF_INLINE sf_u8 sf_our_prefix(sf_u8 pos) {
    switch (pos) {
    case 0: return 'z';
    case 1: return '9';
    case 2: return 'h';
    case 3: return 'G';
    case 4: return '4';
    case 5: return 'b';
    case 6: return 'K';
    case 7: return 's';
    case 8: return 'f';
    default: return 0;
    }
}

/* A byte of the top Via's value outside the branch parameter. */
SF_INLINE void sf_via_byte(struct sf_classify* c, sf_u8 b) {
    if (b == ';') {
        c->state = sf_param;
        c->pos = 0;
    } else if (b == ',' || b == '\r' || b == '\n') {
        c->result = sf_unknown; /* the top Via ends without a branch of ours */
    }
}

SF_INLINE void sf_branch_byte(struct sf_classify* c, sf_u8 b) {
    if (c->pos < 9) {
        if (b != sf_our_prefix(c->pos)) {
            c->result = sf_unknown; /* not our branch: the kernel picks */
            return;
        }
        c->pos = SF_CAST(sf_u8, c->pos + 1);
        return;
    }
    sf_u32 d;
    if (b >= '0' && b <= '9') d = SF_CAST(sf_u32, b - '0');
    else if (b >= 'a' && b <= 'f') d = SF_CAST(sf_u32, b - 'a' + 10);
    else {
        c->result = sf_unknown;
        return;
    }
    c->value = c->value * 16 + d;
    c->pos = SF_CAST(sf_u8, c->pos + 1);
    if (c->pos == 13) {
        if (c->value < c->shards) {
            c->owner = c->value;
            c->result = sf_owner;
        } else {
            c->result = sf_unknown;
        }
    }
}

SF_INLINE void sf_next_line(struct sf_classify* c) {
    c->state = sf_name;
    c->pos = 0;
    c->name = 3;
}

/* Feeds one byte; returns c->result (sf_running while more bytes may decide). */
SF_INLINE sf_u8 sf_classify_step(struct sf_classify* c, sf_u8 b) {
    if (c->result != sf_running) return c->result;
    switch (c->state) {
    case sf_start_line:
        if (b == '\n') {
            sf_next_line(c);
        } else if (c->pos < 4) {
            const sf_u8 want = c->pos == 0 ? 's' : c->pos == 1 ? 'i' : c->pos == 2 ? 'p' : '/';
            if (sf_lower(b) == want) {
                c->pos = SF_CAST(sf_u8, c->pos + 1);
                if (c->pos == 4) {
                    c->response = 1;
                    c->state = sf_skip_line; /* the rest of the line a word at a time */
                }
            } else {
                c->state = sf_skip_line; /* a request */
            }
        }
        break;
    case sf_skip_line:
        if (b == '\n') sf_next_line(c);
        break;
    case sf_name:
        if (c->pos == 0 && (b == '\r' || b == '\n')) {
            c->result = sf_unknown; /* the end of the headers, and no header of ours */
        } else if (c->pos == 0 && sf_blank(b)) {
            c->state = sf_skip_line; /* a folded line continues the header before */
        } else if (b == ':' || sf_blank(b)) {
            const sf_u8 long_end = c->response ? 3 : 7;
            const int ours = ((c->name & 1) && c->pos == long_end) || ((c->name & 2) && c->pos == 1);
            if (!ours) c->state = sf_skip_line;
            else c->state = b == ':' ? sf_value_blanks : sf_after_name;
        } else if (b == '\n') {
            sf_next_line(c);
        } else {
            const sf_u8 l = sf_lower(b);
            sf_u8 still = 0;
            if ((c->name & 1) && l == sf_long_name(c->response, c->pos)) still |= 1;
            if ((c->name & 2) && c->pos == 0 && l == (c->response ? 'v' : 'i')) still |= 2;
            c->name = still;
            c->pos = SF_CAST(sf_u8, c->pos + 1);
            if (still == 0) c->state = sf_skip_line;
        }
        break;
    case sf_after_name:
        if (b == ':') c->state = sf_value_blanks;
        else if (b == '\n') sf_next_line(c);
        else if (!sf_blank(b)) c->state = sf_skip_line;
        break;
    case sf_value_blanks:
        if (sf_blank(b)) break;
        if (b == '\r' || b == '\n') {
            c->result = sf_unknown; /* an empty or folded value */
        } else if (c->response) {
            c->state = sf_via;
            sf_via_byte(c, b);
        } else {
            c->state = sf_call_id;
            sf_steer_push(&c->hash, b);
        }
        break;
    case sf_call_id:
        if (b == '\r' || b == '\n') {
            c->owner = sf_steer_owner(sf_steer_end(&c->hash), c->shards);
            c->result = sf_owner;
        } else if (sf_blank(b)) {
            c->state = sf_call_id_trail;
        } else {
            sf_steer_push(&c->hash, b);
        }
        break;
    case sf_call_id_trail:
        if (b == '\r' || b == '\n') {
            c->owner = sf_steer_owner(sf_steer_end(&c->hash), c->shards);
            c->result = sf_owner;
        } else if (!sf_blank(b)) {
            c->result = sf_unknown; /* a blank inside a Call-ID: not one the parser takes */
        }
        break;
    case sf_via:
        sf_via_byte(c, b);
        break;
    case sf_param:
        if (c->pos == 0 && sf_blank(b)) break;
        if (c->pos < 6 && sf_lower(b) == sf_branch_name(c->pos)) {
            c->pos = SF_CAST(sf_u8, c->pos + 1);
        } else if (c->pos == 6 && b == '=') {
            c->state = sf_branch_blanks;
        } else if (c->pos == 6 && sf_blank(b)) {
            c->state = sf_param_eq;
        } else {
            c->state = sf_via;
            sf_via_byte(c, b);
        }
        break;
    case sf_param_eq:
        if (b == '=') c->state = sf_branch_blanks;
        else if (!sf_blank(b)) {
            c->state = sf_via;
            sf_via_byte(c, b);
        }
        break;
    case sf_branch_blanks:
        if (sf_blank(b)) break;
        c->state = sf_branch;
        c->pos = 0;
        c->value = 0;
        sf_branch_byte(c, b);
        break;
    case sf_branch:
        sf_branch_byte(c, b);
        break;
    default:
        c->result = sf_unknown;
        break;
    }
    return c->result;
}

/*
 * One step over a chunk of a datagram, bytes[0, n) with n <= 512 in a buffer of at least
 * SF_CHUNK_ROOM bytes: what steer.bpf.c runs under bpf_loop (at most n steps), with *at the cursor.
 * Most of a message is lines that are not ours, so those are skipped a word at a time (the first
 * '\n' of 8 bytes found with the has-zero-byte trick); every other byte goes through
 * sf_classify_step. Returns nonzero when the chunk is done or the answer is known.
 */
#define SF_CHUNK 512u
#define SF_CHUNK_ROOM (SF_CHUNK + 8u)

SF_INLINE int sf_scan_step(struct sf_classify* c, const sf_u8* bytes, sf_u32* at, sf_u32 n) {
    const sf_u32 i = *at & (SF_CHUNK - 1);
    if (*at >= n || c->result != sf_running) return 1;
    if (c->state == sf_skip_line) {
        sf_u64 w = 0;
        for (sf_u32 k = 0; k < 8; ++k) w |= SF_CAST(sf_u64, bytes[i + k]) << (8 * k);
        const sf_u64 x = w ^ 0x0a0a0a0a0a0a0a0aULL;
        sf_u64 z = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
        if (z == 0) {
            *at = i + 8; /* no line feed in these 8 bytes */
            return 0;
        }
        sf_u32 first = 0; /* the lowest flagged byte is the first line feed (flags above it may be false) */
        if ((z & 0xffffffffULL) == 0) {
            first += 4;
            z >>= 32;
        }
        if ((z & 0xffffULL) == 0) {
            first += 2;
            z >>= 16;
        }
        if ((z & 0xffULL) == 0) first += 1;
        if (i + first >= n) {
            *at = n; /* beyond the chunk: stale bytes */
            return 1;
        }
        sf_next_line(c);
        *at = i + first + 1;
        return 0;
    }
    *at = i + 1;
    return sf_classify_step(c, bytes[i]) != sf_running;
}

#endif /* SIPFAST_IO_STEER_CLASSIFY_H */
