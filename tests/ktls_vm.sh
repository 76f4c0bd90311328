# SPDX-License-Identifier: MIT
# ktls_vm.sh - kernel TLS for real, on a kernel that has it. The build
# machine's kernel may lack the tls ULP (CI's does), so this boots Debian's
# own kernel in qemu (TCG: no KVM needed) with an initramfs made here: its
# init is tests/ktls_init (static), which loads tls.ko and the AEAD modules,
# serves a tls: listener with libtpserv and checks, with an OpenSSL client
# that never uses kTLS itself, that TLS 1.2 and 1.3 connections (AES-GCM
# and ChaCha20-Poly1305) echo byte for byte up to 1 MiB, TLS 1.2 with the
# kernel encrypting and decrypting ("tx+rx"), TLS 1.3 in user space
# ("none", also across a KeyUpdate), as tps_conn_tls(TPS_TLS_KTLS) reports
# and the stats count. init prints
# "KTLS-VM: PASS" or "KTLS-VM: FAIL: ..." on the serial console and powers
# off; this script reads the console.
#
# The kernel: the linux-image .deb that 'sh scripts/deps.sh test' downloads
# into /var/cache/tpserv (or TPS_KTLS_KERNEL_DEB=path), unpacked here (only
# vmlinuz and the modules), so the host's /boot is never touched.
# TPS_KTLS_OFF=1 runs the server with no_ktls: the test must then FAIL,
# which shows it can. TPS_KTLS_STRACE=1 measures the worker's syscalls per
# message on each path (strace -c inside the machine). Bounded by TPS_KTLS_VM_TIMEOUT seconds (default 170).
# Skips (77) only when qemu, cpio or the kernel package is missing (and in a
# build without OpenSSL, which has no TLS to test).
. "${top_srcdir:-.}/tests/testlib.sh"
init=$top_builddir/tests/ktls_init
[ -x "$init" ] || skip "tests/ktls_init is not built (a build without OpenSSL has no TLS)"
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need dpkg-deb dpkg

deb=${TPS_KTLS_KERNEL_DEB:-$(ls /var/cache/tpserv/linux-image-*.deb 2>/dev/null | sort -V | tail -n 1)}
[ -n "$deb" ] && [ -f "$deb" ] ||
    skip "no Debian kernel package in /var/cache/tpserv ('sh scripts/deps.sh test' downloads it)"
echo "kernel package: $deb"

# The modules in load order: tls.ko asks the crypto API for gcm(aes) and
# rfc7539(chacha20,poly1305), built from these templates; nothing in the
# machine can run modprobe, so init loads them first.
mods="crypto/gf128mul crypto/ghash-generic crypto/ctr crypto/gcm lib/crypto/libchacha
crypto/chacha_generic lib/crypto/libpoly1305 crypto/poly1305_generic crypto/chacha20poly1305
net/tls/tls"
k=$TMPD/kernel
mkdir -p "$k" || hard_error "cannot make $k"
set -- './boot/vmlinuz-*'
for m in $mods; do set -- "$@" "*/kernel/$m.ko*"; done
# tar fails on a pattern nothing matched; what is missing is named below.
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$k" --wildcards "$@" 2>"$TMPD/tar.err"
vmlinuz=$(ls "$k"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "no vmlinuz in $deb: $(cat "$TMPD/tar.err")"

root=$TMPD/root
mkdir -p "$root/m" "$root/certs" || hard_error "cannot make $root"
cp "$init" "$root/init" || hard_error "cannot copy $init"
for f in server.pem server.key ca.pem; do
    cp "$top_srcdir/tests/tls/$f" "$root/certs/" || hard_error "cannot copy tests/tls/$f"
done
: >"$root/modules.list"
for m in $mods; do
    f=$(ls "$k"/lib/modules/*/kernel/"$m".ko* 2>/dev/null | head -n 1)
    [ -n "$f" ] || fail "$deb has no $m.ko"
    name=$(basename "$m").ko
    case $f in
    *.ko) cp "$f" "$root/m/$name" ;;
    *.ko.xz) xz -dc "$f" >"$root/m/$name" ;;
    *.ko.zst) zstd -qdc "$f" >"$root/m/$name" ;;
    *) fail "$f: a module compression this test does not know" ;;
    esac || fail "cannot unpack $f"
    echo "/m/$name" >>"$root/modules.list"
done
# TPS_KTLS_STRACE=1: a measurement too (tests/ktls_init.c), with the
# host's strace and the libraries it needs copied in.
if [ "${TPS_KTLS_STRACE:-0}" = 1 ]; then
    need strace strace
    for f in $(command -v strace) $(ldd "$(command -v strace)" | grep -oE '/[^ ]+'); do
        mkdir -p "$root/$(dirname "$f")" && cp -L "$f" "$root/$f" || fail "cannot copy $f"
    done
    [ "$(command -v strace)" = /usr/bin/strace ] || fail "strace is not /usr/bin/strace"
fi
(cd "$root" && find . | cpio -o -H newc --quiet) >"$TMPD/initrd" || fail "cpio failed"

cmdline="console=ttyS0 panic=-1 loglevel=4 rdinit=/init"
[ "${TPS_KTLS_OFF:-0}" = 1 ] && cmdline="$cmdline TPS_KTLS_OFF=1"
[ "${TPS_KTLS_STRACE:-0}" = 1 ] && cmdline="$cmdline TPS_KTLS_STRACE=1"
console=$TMPD/console
register_log "$console"
FAIL_SHOW=$console
start=$(date +%s)
timeout "${TPS_KTLS_VM_TIMEOUT:-170}" qemu-system-x86_64 -machine pc,accel=tcg -cpu max -smp 1 \
    -m 384 -nodefaults -no-user-config -display none -no-reboot -serial "file:$console" \
    -kernel "$vmlinuz" -initrd "$TMPD/initrd" -append "$cmdline" >"$TMPD/qemu.out" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
tr -d '\r' <"$console" >"$console.txt" && mv "$console.txt" "$console"
grep '^KTLS-VM: ' "$console"
echo "qemu exited with $rc after ${elapsed}s (kernel $(basename "$vmlinuz"))"
[ "$rc" -eq 124 ] && fail "the machine did not power off within ${TPS_KTLS_VM_TIMEOUT:-170}s"
[ "$rc" -eq 0 ] || fail "qemu failed ($rc): $(cat "$TMPD/qemu.out")"
grep -q '^KTLS-VM: FAIL' "$console" && fail "the machine says: $(grep '^KTLS-VM: FAIL' "$console")"
grep -q '^KTLS-VM: PASS$' "$console" || fail "no verdict on the console (did init run?)"
echo "kernel TLS works in the machine"
