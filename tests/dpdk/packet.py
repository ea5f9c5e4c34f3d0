# SPDX-License-Identifier: Apache-2.0
"""What the DPDK tests share to build frames by hand."""
import re
import struct


def csum(data):
    """The RFC 1071 Internet checksum of `data` (an odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def totals(log):
    """The last end-of-run `totals:` line of a log as {title: n}; a label's share of a row (the
    "(outbox_full 2)" after "dropped 2") as "title label"."""
    lines = [line for line in log.splitlines() if "totals: " in line]
    if not lines:
        return {}
    out = {}
    for m in re.finditer(r"([^,()]+?) (\d+)(?: \(([^)]*)\))?(?:, |$)", lines[-1].split("totals: ", 1)[1]):
        title, n, detail = m.groups()
        out[title] = int(n)
        for part in (detail or "").split(", "):
            if part:
                label, v = part.rsplit(" ", 1)
                out[f"{title} {label}"] = int(v)
    return out


# The branch key the replays give sipfast-dpdk (SIPFAST_BRANCH_SECRET), so the answers in a pcap
# written before the run can carry branches it verifies.
BRANCH_SECRET = "000102030405060708090a0b0c0d0e0f"


def siphash24(key, data):
    """SipHash-2-4 of `data` under the 128-bit `key` (two 64-bit words), as sipfast computes it."""
    mask = (1 << 64) - 1

    def rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & mask

    k0, k1 = key
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rounds(n):
        for _ in range(n):
            v[0] = (v[0] + v[1]) & mask; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & mask; v[3] = rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & mask; v[3] = rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & mask; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)

    tail = len(data) % 8
    words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data) - tail, 8)]
    words.append(int.from_bytes(data[len(data) - tail:], "little") | ((len(data) & 0xff) << 56))
    for m in words:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xff
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def our_branch(shard_and_middle, call_id, cseq, loop):
    """sipfast's branch `z9hG4bKsf` + shard_and_middle ("0000.0123456789abcdef": shard, dot, the
    stateless request hash) + MAC + "." + loop (16 hex digits), for the request of `call_id` and
    `cseq` number, under BRANCH_SECRET."""
    before = "z9hG4bKsf" + shard_and_middle
    key = (int(BRANCH_SECRET[:16], 16), int(BRANCH_SECRET[16:], 16))
    mac = siphash24(key, (before + loop).encode() + cseq.to_bytes(8, "little") + call_id.encode())
    return f"{before}{mac:016x}.{loop}"


def dialog_mark(call_id):
    """The mark (sfd) sipfast's Record-Route carries for the dialog of `call_id`, under BRANCH_SECRET."""
    key = (int(BRANCH_SECRET[:16], 16), int(BRANCH_SECRET[16:], 16))
    return f"{siphash24(key, b'dialog' + call_id.encode()):016x}"
