#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""lib-callgraph.py - which files of lib/ call which, and the cycles.

Reads what each compiled object of lib/ defines and what it needs from
the others (nm: a call into another file is an undefined symbol there),
so the graph is the linker's, exact, and cannot miss a call the way a
source parser can. Only functions count (data such as the runner's
thread-local tps__self_ is read, not called). static inline helpers of
internal.h compile into
their callers: calling one is not an edge (they are the leaves the
lower modules share). Prints the file-level call graph and its cycles
(strongly connected components of more than one file); --check exits 1
on any cycle not listed in ALLOWED (docs/ARCHITECTURE.md says why each
would be allowed; today none is).

Usage: scripts/lib-callgraph.py [--check] [--dot] [BUILDDIR]  (after make)
"""
import glob
import os
import subprocess
import sys

ALLOWED = []


def graph(builddir):
    objs = sorted(o for o in glob.glob(os.path.join(builddir, "lib", "*.o")))
    if not objs:
        sys.exit("lib-callgraph: no objects in %s/lib: build first" % builddir)
    defined, needs = {}, {}
    for o in objs:
        name = os.path.basename(o)[:-2] + ".c"
        needs[name] = set()
        out = subprocess.run(["nm", o], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "T":  # code: calls, not data
                defined[parts[2]] = name
            elif len(parts) == 2 and parts[0] == "U":
                needs[name].add(parts[1])
    edges = set()
    for name, syms in needs.items():
        for sym in syms:
            if sym in defined and defined[sym] != name:
                edges.add((name, defined[sym]))
    return edges


def sccs(nodes, edges):
    adj = {n: [b for a, b in edges if a == n] for n in nodes}
    index, low, on, st, out, i = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = i[0]
        i[0] += 1
        st.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = st.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    edges = graph(args[0] if args else ".")
    nodes = {a for a, _ in edges} | {b for _, b in edges}
    if "--dot" in sys.argv:
        print("digraph lib {")
        for a, b in sorted(edges):
            print('  "%s" -> "%s";' % (a, b))
        print("}")
        return 0
    for a in sorted(nodes):
        calls = sorted(b for x, b in edges if x == a)
        if calls:
            print("%-14s -> %s" % (a, " ".join(calls)))
    cycles = sccs(nodes, edges)
    bad = [c for c in cycles if c not in ALLOWED]
    for c in cycles:
        print("cycle: %s%s" % (" ".join(c), "" if c in ALLOWED else "  (not allowed)"))
    if not cycles:
        print("no cycle across files")
    return 1 if bad and "--check" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
