# SPDX-License-Identifier: MIT
# readme.sh - the README's C code works as printed: every ```c block of
# README.md (and the EXAMPLES program of man/tpserv.3) is compiled with -Wall -Wextra -Werror against the built
# header and library; each complete program (one with main) is linked,
# started on a free port ("127.0.0.1:0" as its first argument), must print
# "listening on HOST:PORT", answer a line "hello" with a reply containing
# it (tpclient talks to it), and exit 0 on SIGTERM.
: "${top_builddir:=.}" "${top_srcdir:=.}"
CC=${TPS_TEST_CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme-test.XXXXXX") || exit 1
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '
    /^```c[ \t]*$/ { n++; f = sprintf("%s/block%d.c", dir, n); inblk = 1; next }
    /^```/ && inblk { inblk = 0; close(f); next }
    inblk { print > f }
' "$top_srcdir/README.md"
set -- "$tmp"/block*.c
[ -e "$1" ] || { echo "FAIL: no \`\`\`c block in README.md"; exit 1; }
# tpserv(3)'s EXAMPLES program too, its roff escapes undone.
awk '
    /^\.Sh EXAMPLES/ { ex = 1; next }
    /^\.Sh / { ex = 0 }
    ex && /^\.Bd -literal/ { inblk = 1; next }
    inblk && /^\.Ed/ { inblk = 0; exit }
    inblk { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); print }
' "$top_srcdir/man/tpserv.3" >"$tmp/tpserv.3-example.c"
[ -s "$tmp/tpserv.3-example.c" ] || { echo "FAIL: no example program in man/tpserv.3"; exit 1; }
set -- "$@" "$tmp/tpserv.3-example.c"
fail=0
for src; do
    b=${src%.c}
    case $b in
    */tpserv.3-example) name="man/tpserv.3 EXAMPLES" ;;
    *) name="README.md $(basename "$b")" ;;
    esac
    # shellcheck disable=SC2086 # flags lists are meant to be split
    if ! $CC -std=gnu11 -Wall -Wextra -Werror $TPS_TEST_CFLAGS -I"$top_srcdir/lib" \
        -c "$src" -o "$b.o" 2>"$b.err"; then
        echo "FAIL: $name does not compile as printed:"
        cat "$b.err"
        fail=1
        continue
    fi
    if ! grep -q '^int main(' "$src"; then
        echo "ok: $name compiles (a fragment: not linked)"
        continue
    fi
    # -static: libtool links the uninstalled libtpserv.a, so the program is
    # a real binary (no wrapper script between the kill and the server).
    # shellcheck disable=SC2086
    if ! "$top_builddir/libtool" --mode=link --quiet $CC $TPS_TEST_CFLAGS -static \
        -o "$b" "$b.o" "$top_builddir/lib/libtpserv.la" >"$b.err" 2>&1; then
        echo "FAIL: $name does not link:"
        cat "$b.err"
        fail=1
        continue
    fi
    "$b" 127.0.0.1:0 >"$b.out" 2>"$b.stderr" &
    pid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$b.out")
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "FAIL: $name did not say 'listening on 127.0.0.1:PORT':"
        cat "$b.out" "$b.stderr"
        fail=1
        kill "$pid" 2>/dev/null
        pid=
        continue
    fi
    reply=$(printf 'hello\n' | "$top_builddir/client/tpclient" --timeout 5s 127.0.0.1 "$port")
    case $reply in
    *hello*) echo "ok: $name answered 'hello' with '$reply'" ;;
    *)
        echo "FAIL: $name answered 'hello' with '$reply'"
        fail=1
        ;;
    esac
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    pid=
    if [ $rc -ne 0 ]; then
        echo "FAIL: $name exited $rc on SIGTERM"
        cat "$b.stderr"
        fail=1
    else
        echo "ok: $name stopped on SIGTERM (exit 0)"
    fi
done
exit $fail
