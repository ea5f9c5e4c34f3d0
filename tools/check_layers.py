#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The header half of the layering check (docs/architecture.md, "Parts").

The linker checks what a part's objects call (src/meson.build); this checks what its files include,
which the linker misses when a use is inline only. A part's files are its public headers
(include/sipfast/PART/) and its sources, with every private header they reach by a quoted include.
Each may include "sipfast/Y/..." only for Y the part itself or a part it may use, and a private
header only from its own folders.

    check_layers.py ROOT --part NAME USES SOURCE... [--part ...]

USES is the comma-separated list of every part NAME may use (direct or not), as src/meson.build
declares it; SOURCE are the part's source files. Prints one line per fault; exit status 1 if any.
"""
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def parse(argv):
    root = Path(argv[0]).resolve()
    groups = []
    for arg in argv[1:]:
        if arg == '--part':
            groups.append([])
        elif groups:
            groups[-1].append(arg)
        else:
            sys.exit(f'check_layers: {arg}: expected --part first')
    parts = []
    for g in groups:
        if len(g) < 2:
            sys.exit('check_layers: --part needs NAME and USES')
        parts.append((g[0], {u for u in g[1].split(',') if u}, [Path(s).resolve() for s in g[2:]]))
    return root, parts


def check_part(root, name, uses, sources, known):
    faults = []
    homes = [root / 'include' / 'sipfast' / name, root / 'src' / name]
    todo = sorted(homes[0].rglob('*.hpp')) + sorted(sources)
    seen = set(todo)
    while todo:
        path = todo.pop()
        for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(2)
            where = f'{path.relative_to(root)}:{number}'
            if target.startswith('sipfast/'):
                other = target.split('/')[1]
                if other in known and other != name and other not in uses:
                    allowed = ', '.join(sorted(uses)) or 'no other part'
                    faults.append(f'{where}: {name} includes "{target}", but {name} may use {allowed} only')
                continue
            if m.group(1) != '"':
                continue
            found = [c.resolve() for c in [path.parent / target] + [h / target for h in homes] if c.is_file()]
            if not found:
                continue  # generated in the build folder (embedded_config.inc)
            header = found[0]
            if not any(header.is_relative_to(h) for h in homes):
                faults.append(f'{where}: {name} includes "{target}", a private header of another folder')
                continue
            if header not in seen:
                seen.add(header)
                todo.append(header)
    return faults


def main():
    root, parts = parse(sys.argv[1:])
    known = {p[0] for p in parts}
    faults = []
    for name, uses, sources in parts:
        faults += check_part(root, name, uses, sources, known)
    for f in faults:
        print(f)
    print(f'check_layers: {len(parts)} parts, {len(faults)} faults')
    return 1 if faults else 0


if __name__ == '__main__':
    sys.exit(main())
