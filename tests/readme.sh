# SPDX-License-Identifier: MIT
# readme.sh - the README's C code works as printed: every ```c block of
# README.md (and the EXAMPLES program of man/tpserv.3) is compiled with -Wall -Wextra -Werror against the built
# header and library; each complete program (one with main) is linked,
# started on a free port ("127.0.0.1:0" as its first argument), must print
# "listening on HOST:PORT", answer a line "hello" with a reply containing
# it (tpclient talks to it), and exit 0 on SIGTERM.
. "${top_srcdir:-.}/tests/testlib.sh"
need_built "$TPCLIENT"
CC=${TPS_TEST_CC:-cc}
tmp=$TMPD
awk -v dir="$tmp" '
    /^```c[ \t]*$/ { n++; f = sprintf("%s/block%d.c", dir, n); inblk = 1; next }
    /^```/ && inblk { inblk = 0; close(f); next }
    inblk { print > f }
' "$top_srcdir/README.md"
set -- "$tmp"/block*.c
[ -e "$1" ] || fail "no \`\`\`c block in README.md"
# tpserv(3)'s EXAMPLES program too, its roff escapes undone.
awk '
    /^\.Sh EXAMPLES/ { ex = 1; next }
    /^\.Sh / { ex = 0 }
    ex && /^\.Bd -literal/ { inblk = 1; next }
    inblk && /^\.Ed/ { inblk = 0; exit }
    inblk { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); print }
' "$top_srcdir/man/tpserv.3" >"$tmp/tpserv.3-example.c"
[ -s "$tmp/tpserv.3-example.c" ] || fail "no example program in man/tpserv.3"
set -- "$@" "$tmp/tpserv.3-example.c"
for src; do
    b=${src%.c}
    case $b in
    */tpserv.3-example) name="man/tpserv.3 EXAMPLES" ;;
    *) name="README.md $(basename "$b")" ;;
    esac
    # shellcheck disable=SC2086 # flags lists are meant to be split
    if ! $CC -std=gnu11 -Wall -Wextra -Werror $TPS_TEST_CFLAGS -I"$top_srcdir/lib" \
        -c "$src" -o "$b.o" 2>"$b.err"; then
        fail_later "$name does not compile as printed:"
        cat "$b.err"
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
        fail_later "$name does not link:"
        cat "$b.err"
        continue
    fi
    run=run-$(basename "$b")
    spawn "$run" "$b" 127.0.0.1:0
    pid=$SPAWN_PID
    port=
    listen_addr "$tmp/$run.out" "$pid" &&
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/$run.out")
    if [ -z "$port" ]; then
        fail_later "$name did not say 'listening on 127.0.0.1:PORT':"
        cat "$tmp/$run.out" "$tmp/$run.err"
        kill "$pid" 2>/dev/null
        reap "$pid" 30
        continue
    fi
    reply=$(printf 'hello\n' | "$TPCLIENT" --timeout 5s 127.0.0.1 "$port")
    case $reply in
    *hello*) echo "ok: $name answered 'hello' with '$reply'" ;;
    *) fail_later "$name answered 'hello' with '$reply'" ;;
    esac
    kill -TERM "$pid"
    reap "$pid" 30
    rc=$REAP_RC
    if [ $rc -ne 0 ]; then
        fail_later "$name exited $rc on SIGTERM"
    else
        echo "ok: $name stopped on SIGTERM (exit 0)"
    fi
done
finish
