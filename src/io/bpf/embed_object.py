#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a compiled BPF object as a C++ byte array: embed_object.py NAME INPUT OUTPUT."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read()
with open(dst, "w", encoding="ascii") as out:
    out.write(f"alignas(8) constexpr unsigned char {name}[] = {{\n")
    for i in range(0, len(data), 16):
        out.write("    " + ", ".join(str(b) for b in data[i:i + 16]) + ",\n")
    out.write("};\n")
