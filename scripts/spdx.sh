#!/bin/sh
# SPDX-License-Identifier: MIT
# spdx.sh [--fix] - every source, script and build file tracked by git
# carries "SPDX-License-Identifier: MIT" on its first line (the second
# after a #! line). Without --fix, lists the files that lack it and exits 1;
# with --fix, adds the line in the file's comment syntax. Run from the top
# of a git checkout; tests/spdx.sh runs it from make check.
set -eu
fix=0
[ "${1:-}" = --fix ] && fix=1
tag="SPDX-License-Identifier: MIT"
missing=0
for f in $(git ls-files | grep -E '(\.(c|h|sh|py|am|ac|in|pc\.in|clang-format)|^\.ci/run|^debian/(rules|control|[^/]*\.(install|links|docs|manpages|symbols))|^\.gitignore|^man/[^/]*\.[1-9])$'); do
    [ -f "$f" ] || continue
    first=$(head -n 1 "$f")
    case $first in .so\ *) continue ;; esac # a one-line man page link
    case $first in '#!'*) line=$(sed -n 2p "$f") ;; *) line=$first ;; esac
    case $line in *"$tag"*) continue ;; esac
    if [ $fix -eq 0 ]; then
        echo "spdx: $f: no '$tag' on its first line"
        missing=1
        continue
    fi
    case $f in
    *.c | *.h) c="/* $tag */" ;;
    man/*) c=".\\\" $tag" ;;
    debian/*.symbols) c="# $tag" ;;
    *) c="# $tag" ;;
    esac
    case $first in
    '#!'*) { echo "$first"; echo "$c"; tail -n +2 "$f"; } >"$f.spdx" ;;
    *) { echo "$c"; cat "$f"; } >"$f.spdx" ;;
    esac
    chmod --reference="$f" "$f.spdx"
    mv "$f.spdx" "$f"
    echo "spdx: added to $f"
done
exit $missing
