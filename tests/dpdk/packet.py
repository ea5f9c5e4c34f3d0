# SPDX-License-Identifier: Apache-2.0
"""What the DPDK tests share to build frames by hand."""
import struct


def csum(data):
    """The RFC 1071 Internet checksum of `data` (an odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
