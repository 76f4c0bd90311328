# SPDX-License-Identifier: MIT
# lib_callgraph.sh - calls in lib/ go down: no cycle across files in the
# linker's call graph of the built objects (scripts/lib-callgraph.py;
# docs/ARCHITECTURE.md has the order and why).
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm not found"; exit 77; }
python3 "$top_srcdir/scripts/lib-callgraph.py" --check "$top_builddir"
