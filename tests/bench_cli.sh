#!/bin/sh
# SPDX-License-Identifier: MIT
# tpbench's command line: --help documents the flags, usage errors exit 2
# before doing anything, an unreachable target exits 1 with a clear message.
. "${top_srcdir:-.}/tests/bench_lib.sh"

"$TPBENCH" --help > "$TMPD/help" || fail "--help exit status"
for f in --connections --threads --duration --warmup --depth --rate --size --request \
         --expect --expect-len --expect-term --mode --json --hist --json-interval \
         --max-rate-under --active --timeout merge; do
    grep -q -- "$f" "$TMPD/help" || fail "--help does not mention $f"
done
for args in "-c 0 127.0.0.1:1" "--bogus 127.0.0.1:1" "-d 10x 127.0.0.1:1" "" \
            "--mode nope 127.0.0.1:1" "--expect x 127.0.0.1:1" "a:1 b:2"; do
    # shellcheck disable=SC2086
    "$TPBENCH" $args > /dev/null 2> "$TMPD/err"
    rc=$?
    [ $rc -eq 2 ] || fail "'$args' exit $rc, expected 2"
    grep -q "tpbench:" "$TMPD/err" || fail "'$args' gave no message"
done
port=$(free_port)
"$TPBENCH" -d 1s "127.0.0.1:$port" > /dev/null 2> "$TMPD/err"
rc=$?
[ $rc -eq 1 ] || fail "unreachable target exit $rc, expected 1"
grep -q "cannot connect to 127.0.0.1:$port" "$TMPD/err" || fail "no clear message: $(cat "$TMPD/err")"
"$TPBENCH" -d 1s "nonexistent.invalid:80" > /dev/null 2>&1 && fail "unresolvable host accepted"
"$TPBENCH" merge /nonexistent.json > /dev/null 2>&1 && fail "merge of a missing file succeeded"
echo "ok"
