/* semihost.c: the two semihosting calls the harness uses (see semihost.h).
 * A call is `bkpt 0xab` with the operation in r0 and its argument in r1; the
 * debugger (here QEMU) does the work and resumes after the bkpt. */
#include <stdint.h>

#include "semihost.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT 0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

static uint32_t sh_call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    /* "memory": the host reads (SYS_WRITE0) what r1 points at */
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_write0(const char *s) {
    sh_call(SYS_WRITE0, s);
}

void sh_exit(int status) {
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    sh_call(SYS_EXIT_EXTENDED, block);
    /* a host without SYS_EXIT_EXTENDED: plain SYS_EXIT, 0 or "error" */
    sh_call(SYS_EXIT, (const void *)(uintptr_t)(status ? ADP_STOPPED_RUNTIME_ERROR
                                                       : ADP_STOPPED_APPLICATION_EXIT));
    for (;;) {
    }
}
