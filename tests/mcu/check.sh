#!/bin/sh
# check.sh BOARD ELF HOST_SCORES MODEL_OBJECT...: one board of make check-mcu.
# Runs ELF under qemu-system-arm -M BOARD with -icount shift=0 (so SysTick
# counts instructions) and a timeout, then fails on a timeout, a fault, a
# non-zero exit, image lines that differ from HOST_SCORES (the host build's),
# or a floating-point routine in ELF; else prints the board's figures: flash
# (text + data), the model's share of it (its objects' text + data), RAM (the
# model's .data + .bss, its arena if its header names one, the stack's
# high-water), instructions per inference. MCU_FLASH_MAX, MCU_RAM_MAX (bytes):
# fail above them (flash without the test images, RAM as printed);
# MCU_ANCHORS=mlperf-resnet8 prints the figures beside MLPerf Tiny's
# published ResNet-8 results.
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

ram=$((mdata + mbss + stack))
flash_model=$((flash - imgs))
ins=$(sed -n 's/^mcu: instructions per inference: mean \([0-9]*\).*/\1/p' "$log")
if [ "${MCU_ANCHORS:-}" = mlperf-resnet8 ]; then
    # MLPerf Tiny v0.5 image classification (ResNet-8, CIFAR-10) on a
    # Cortex-M4 at 120 MHz: TFLite Micro's reference kernels 704 ms,
    # STM32Cube.AI 222 ms (133.4 KiB flash, 69.7 KiB RAM)
    awk -v i="$ins" -v f="$flash_model" -v r="$ram" 'BEGIN {
        printf "  anchors, MLPerf Tiny ResNet-8 on a Cortex-M4 at 120 MHz (published, cycles on silicon): TFLite Micro reference 704 ms = %.1f M cycles; STM32Cube.AI 222 ms = %.1f M cycles, flash 133.4 KiB, RAM 69.7 KiB\n", 704e-3 * 120, 222e-3 * 120
        printf "  here: %.2f M instructions per inference (QEMU counts instructions; a Cortex-M4 takes at least a cycle each): %.1fx fewer than TFLM reference cycles, %.2fx Cube.AI cycles; flash %.1f KiB (without the test images), RAM %.1f KiB\n", i / 1e6, 704e-3 * 120e6 / i, i / (222e-3 * 120e6), f / 1024, r / 1024
    }'
fi
if [ -n "${MCU_FLASH_MAX:-}" ] && [ "$flash_model" -gt "$MCU_FLASH_MAX" ]; then
    fail "flash $flash_model bytes (without the test images) is above $MCU_FLASH_MAX"
fi
if [ -n "${MCU_RAM_MAX:-}" ] && [ "$ram" -gt "$MCU_RAM_MAX" ]; then
    fail "RAM $ram bytes is above $MCU_RAM_MAX"
fi
