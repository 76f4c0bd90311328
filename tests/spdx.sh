# SPDX-License-Identifier: MIT
# spdx.sh - every tracked source, script and build file names its license
# (scripts/spdx.sh). Needs the git checkout (a tarball has no file list of
# its own to compare against): skips (77) outside one.
. "${top_srcdir:-.}/tests/testlib.sh"
cd "$top_srcdir" || hard_error "cannot enter $top_srcdir"
git ls-files --error-unmatch configure.ac >/dev/null 2>&1 || skip "not a git checkout"
[ -f LICENSE ] || fail "no LICENSE"
grep -q '^MIT License' LICENSE || fail "LICENSE is not the MIT license"
sh scripts/spdx.sh || fail "files without their SPDX line (above; scripts/spdx.sh --fix adds it)"
finish
