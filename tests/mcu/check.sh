#!/bin/sh
# check.sh BOARD ELF HOST_SCORES MODEL_OBJECT...: one board of make check-mcu.
# Runs ELF under qemu-system-arm -M BOARD with -icount shift=0 (so SysTick
# counts instructions) and a timeout, then fails on a timeout, a fault, a
# non-zero exit, image lines that differ from HOST_SCORES (the host build's),
# or a floating-point routine in ELF; else prints the board's figures: flash
# (text + data), the model's share of it (its objects' text + data), RAM (the
# model's .data + .bss, its arena if its header names one, the stack's
# high-water), instructions per inference.
set -u
board=$1 elf=$2 host=$3
shift 3
QEMU=${MCU_QEMU:-qemu-system-arm}
TIMEOUT=${MCU_TIMEOUT:-120}
SIZE=${MCU_SIZE:-arm-none-eabi-size}
dir=$(dirname "$elf")
log=$dir/qemu.log
here=$(dirname "$0")

fail() {
    echo "check-mcu: $board: FAIL: $*"
    exit 1
}

t0=$(date +%s.%N)
timeout "$TIMEOUT" "$QEMU" -M "$board" -nographic -semihosting -icount shift=0 \
    -kernel "$elf" < /dev/null > "$log" 2>&1
rc=$?
t1=$(date +%s.%N)
if [ $rc -eq 124 ]; then
    tail -5 "$log"
    fail "timed out after $TIMEOUT s (log: $log)"
fi
grep '^mcu: FAULT' "$log" && fail "the image faulted (log: $log)"
if grep -q '^qemu: fatal: Lockup' "$log"; then
    grep '^qemu: fatal' "$log"
    fail "the core locked up: a fault while taking a fault (log: $log)"
fi
if [ $rc -ne 0 ]; then
    tail -5 "$log"
    fail "exit status $rc (log: $log)"
fi
grep '^img ' "$log" > "$dir/scores"
[ -s "$dir/scores" ] || fail "no image lines (log: $log)"
if ! diff "$host" "$dir/scores" > "$dir/scores.diff"; then
    head -6 "$dir/scores.diff"
    fail "$(grep -c '^>' "$dir/scores.diff") of $(wc -l < "$host") image lines differ from the host's (see $dir/scores.diff)"
fi
if floats=$("$here/floats.sh" "$elf"); then :; else
    fail "links floating-point routines: $(echo $floats)"
fi

# Berkeley format: text (code, constants, exidx), data, bss
set -- $("$SIZE" -B "$elf" | tail -1) "$@"
flash=$(($1 + $2))
shift 6
mtext=0 mdata=0 mbss=0
for o in "$@"; do
    set -- $("$SIZE" -B "$o" | tail -1)
    mtext=$((mtext + $1)) mdata=$((mdata + $2)) mbss=$((mbss + $3))
done
imgs=$(${MCU_NM:-arm-none-eabi-nm} -S "$elf" | awk '$4 == "mcu_images" { print $2 }')
imgs=$((0x${imgs:-0}))
stack=$(sed -n 's/^mcu: stack high-water: \([0-9]*\) bytes in.*/\1/p' "$log")
harness_stack=$(sed -n 's/.*), \([0-9]*\) for the whole harness.*/\1/p' "$log")
echo "check-mcu: $board: $(wc -l < "$host") images, scores bit-identical to the host's; no floating-point routine linked; $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s in QEMU"
sed -n 's/^mcu: calibration: /  calibration: /p; s/^mcu: instructions per /  instructions per /p' "$log"
echo "  flash: $flash bytes in all ($((flash - imgs)) without the test images), the model's objects $((mtext + mdata))"
echo "  RAM: the model's .data + .bss $((mdata + mbss)) bytes + stack $stack bytes below its caller's sp = $((mdata + mbss + stack)) bytes${MCU_ARENA:+ (its arena, $MCU_ARENA bytes, is on that stack)}; the harness's stack $harness_stack bytes"
