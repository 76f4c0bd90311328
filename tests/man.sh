# SPDX-License-Identifier: MIT
# man.sh - the man pages are clean and complete:
#  - every page in man/ passes `mandoc -Tlint -W warning` and renders
#    without a warning from man -l (warnings fail);
#    every .so link points at a page that exists;
#  - every option the parsers of tpserver, tpclient and tpbench know
#    (tests/flagnames prints them from the parsers' own tables) is an item
#    (.It Fl ...) of the program's page, and every option item of the page
#    is one the parser knows;
#  - every function declared in lib/tpserv.h (and every symbol the built
#    libtpserv.so exports) is named (.Nm) and declared (.Fn) in tpserv(3)
#    and has its own man/FUNCTION.3 link, installed by Makefile.am; every
#    TPS_OPT_* and TPS_STAT_* of the header is in tpserv(3).
# Skips (77) only when mandoc is missing ('sh scripts/deps.sh test').
. "${top_srcdir:-.}/tests/testlib.sh"
need mandoc mandoc
man=$top_srcdir/man

# 1. Lint.
n=0
for page in "$man"/*.[1-9]; do
    case $(head -n 1 "$page") in
    .so\ *)
        target=$(sed -n '1s/^\.so man[1-9]\///p' "$page")
        [ -f "$man/$target" ] || fail_later "$page: .so to a missing page '$target'"
        continue
        ;;
    esac
    n=$((n + 1))
    out=$(mandoc -Tlint -W warning "$page" 2>&1) || fail_later "mandoc -Tlint: $out"
    # What a reader's man(1) says too (groff: a line it cannot break), as
    # installcheck does for the installed pages.
    if command -v man >/dev/null 2>&1; then
        out=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null)
        [ -z "$out" ] || fail_later "man -l $page: $out"
    fi
done
[ $n -ge 5 ] || fail_later "only $n man pages in $man"
echo "linted: $n pages"

# 2. Flags, both ways.
flags=$("$top_builddir/tests/flagnames") || fail "tests/flagnames failed"
for prog in tpserver tpclient tpbench; do
    page=$man/$prog.1
    # The option items: every "Fl X" of an ".It" line, "\-" unescaped.
    documented=$(grep '^\.It .*Fl ' "$page" |
        sed 's/\\-/-/g' |
        grep -oE 'Fl [^ ]+' | sed 's/^Fl /-/' | tr -d '|' | sort -u)
    known=$(printf '%s\n' "$flags" | sed -n "s/^$prog //p" | sort -u)
    for f in $known; do
        printf '%s\n' "$documented" | grep -qxF -- "$f" ||
            fail_later "$prog: $f is in the parser but not an option item of man/$prog.1"
    done
    for f in $documented; do
        printf '%s\n' "$known" | grep -qxF -- "$f" ||
            fail_later "$prog: man/$prog.1 documents $f, which the parser does not know"
    done
    echo "checked: $prog: $(printf '%s\n' "$known" | wc -l) parser flags checked against man/$prog.1"
done

# 3. Functions, options and statistics of the library.
page=$man/tpserv.3
fns=$(sed 's|/\*.*\*/||' "$top_srcdir/lib/tpserv.h" |
    grep -E '^[a-z].*\btps_[a-z0-9_]+\(' | grep -v '^typedef' |
    sed -E 's/.*\b(tps_[a-z0-9_]+)\(.*/\1/' | sort -u)
[ -n "$fns" ] || fail_later "no function found in lib/tpserv.h"
so=$top_builddir/lib/.libs/libtpserv.so
if [ -f "$so" ] && command -v nm >/dev/null 2>&1; then
    for s in $(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}'); do
        printf '%s\n' "$fns" | grep -qxF "$s" || fail_later "libtpserv.so exports $s, not declared in tpserv.h"
    done
fi
for f in $fns; do
    grep -qE "^\.Nm $f( ,)?\$" "$page" || fail_later "$f: not in the NAME section (.Nm) of man/tpserv.3"
    grep -qE "^\.Fn $f( |\$)" "$page" || fail_later "$f: not declared (.Fn) in man/tpserv.3"
    [ -f "$man/$f.3" ] || fail_later "$f: no man/$f.3 (a '.so man3/tpserv.3' link)"
    grep -qE "(^|[[:space:]])man/$f\.3([[:space:]]|\$)" "$top_srcdir/Makefile.am" ||
        fail_later "$f: man/$f.3 is not installed by Makefile.am"
done
echo "checked: $(printf '%s\n' "$fns" | wc -l) functions of tpserv.h in tpserv(3)"
for m in OPT STAT; do
    names=$(sed -n "/^#define TPS_$(echo $m | sed 's/OPT/OPTION/')_MAP/,/^\$/p" "$top_srcdir/lib/tpserv.h" |
        grep -oE '\bX\([A-Z_]+' | sed "s/^X(/TPS_${m}_/")
    [ -n "$names" ] || fail_later "no TPS_${m}_* found in tpserv.h"
    for v in $names; do
        grep -qE "Dv .*\\b$v\\b" "$page" || fail_later "$v: not in man/tpserv.3"
    done
    echo "checked: $(printf '%s\n' "$names" | wc -l) TPS_${m}_* in tpserv(3)"
done
finish
