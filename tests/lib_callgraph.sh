# SPDX-License-Identifier: MIT
# lib_callgraph.sh - calls in lib/ go down: no cycle across files in the
# linker's call graph of the built objects (scripts/lib-callgraph.py;
# docs/ARCHITECTURE.md has the order and why).
. "${top_srcdir:-.}/tests/testlib.sh"
need python3 python3
need nm binutils
python3 "$top_srcdir/scripts/lib-callgraph.py" --check "$top_builddir" ||
    fail "calls in lib/ do not all go down (above)"
finish
