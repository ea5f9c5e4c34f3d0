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
