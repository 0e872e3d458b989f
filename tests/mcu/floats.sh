#!/bin/sh
# floats.sh FILE...: lists the floating-point routines FILE (an image or an
# object) defines or calls: the soft-float ABI's (__aeabi_fadd, __aeabi_i2f,
# __aeabi_dmul, __aeabi_cfcmpeq ...), libgcc's own names (__addsf3,
# __floatsisf, __fixdfsi, __extendsfdf2 ...) and the half-precision
# conversions. Exits 0 when there are none, 1 when there are some (or on an
# error). The int8 export on a Cortex-M0 must link none.
set -u
NM=${MCU_NM:-arm-none-eabi-nm}
found=$("$NM" "$@" | awk '{ print $NF }' |
        grep -E '^(__aeabi_(f|d|u?i2[fd]|u?l2[fd]|c[fd])|__(float|fix)|__gnu_[fh]2[fh]|__[a-z0-9]*[sd]f[0-9]?$)' |
        sort -u) || true
"$NM" "$@" > /dev/null || exit 1
[ -z "$found" ] && exit 0
echo "$found"
exit 1
