#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a file's text as a C++ string_view constant: embed.py NAME INPUT OUTPUT."""
import sys

name, src, dst = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
delim = "SIPFAST_EMBED"
assert f"){delim}\"" not in text
with open(dst, "w", encoding="utf-8") as out:
    out.write(f'constexpr std::string_view {name} = R"{delim}({text}){delim}";\n')
