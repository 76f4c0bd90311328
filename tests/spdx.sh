# SPDX-License-Identifier: MIT
# spdx.sh - every tracked source, script and build file names its license
# (scripts/spdx.sh). Needs the git checkout (a tarball has no file list of
# its own to compare against): skips (77) outside one.
: "${top_srcdir:=.}"
cd "$top_srcdir" || exit 1
if ! git ls-files --error-unmatch configure.ac >/dev/null 2>&1; then
    echo "SKIP: not a git checkout"
    exit 77
fi
[ -f LICENSE ] || { echo "FAIL: no LICENSE"; exit 1; }
grep -q '^MIT License' LICENSE || { echo "FAIL: LICENSE is not the MIT license"; exit 1; }
sh scripts/spdx.sh
