/* startup.c: what a bare-metal image needs before main: the vector table at
 * address 0, a reset handler that sets up C's memory, and fault handlers
 * that say what went wrong instead of hanging. No vendor SDK, no crt0.
 *
 * The FPU: the harness and the int8 export are integer-only and both boards
 * are built with -mfloat-abi=soft, so the FPU stays off; a stray
 * floating-point instruction then faults (UsageFault NOCP) and is reported,
 * and a library float routine shows in check.sh's nm check. Built with a
 * hard-float ABI (__ARM_FP defined), the reset handler turns it on. */
#include <stdint.h>

#include "fmt.h"
#include "semihost.h"
#include "stack.h"

/* from the linker script (sections.ld) */
extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];

int main(void);
void reset_handler(void) __attribute__((noreturn));
void mcu_fault_report(uint32_t exception, const uint32_t *frame, uint32_t exc_return)
    __attribute__((noreturn, used));

/* An exception's entry: r0 = its number, r1 = the frame the core stacked
 * (r0-r3, r12, lr, pc, xpsr: main runs on MSP, never PSP), r2 = EXC_RETURN.
 * The report runs below that frame; but when the frame is below the stack
 * region (the stack overflowed, on the M0 out of RAM) it restarts sp at the
 * top, so that the report itself does not fault (it never returns). Naked,
 * so nothing is pushed before the frame is read; Thumb-1 instructions only,
 * for the Cortex-M0. */
#define FAULT_ENTRY(name, number)                                                                 \
    __attribute__((naked)) static void name(void) {                                              \
        __asm__ volatile(".syntax unified\n\t"                                                    \
                         "movs r0, #" #number "\n\t"                                               \
                         "mrs r1, msp\n\t"                                                         \
                         "mov r2, lr\n\t"                                                          \
                         "ldr r3, =__stack_bottom\n\t"                                             \
                         "cmp r1, r3\n\t"                                                          \
                         "bhs 1f\n\t"                                                              \
                         "ldr r3, =__stack_top\n\t"                                                \
                         "mov sp, r3\n"                                                            \
                         "1:\tbl mcu_fault_report\n\t"                                             \
                         ".ltorg");                                                               \
    }
FAULT_ENTRY(nmi_entry, 2)
FAULT_ENTRY(hardfault_entry, 3)
FAULT_ENTRY(memmanage_entry, 4) /* 4-6: Armv7-M only; reserved on the M0 */
FAULT_ENTRY(busfault_entry, 5)
FAULT_ENTRY(usagefault_entry, 6)
FAULT_ENTRY(svcall_entry, 11)
FAULT_ENTRY(debugmon_entry, 12)
FAULT_ENTRY(pendsv_entry, 14)
FAULT_ENTRY(systick_entry, 15)

/* counter.c's, when linked; else an unexpected SysTick is a fault */
void SysTick_Handler(void) __attribute__((weak, alias("systick_entry")));

typedef void (*vector)(void);

/* The 16 system entries (no external interrupt is enabled): word 0 is the
 * initial sp, the top of RAM; word 1 the reset handler. */
__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
    (vector)(uintptr_t)__stack_top,
    reset_handler,
    nmi_entry,
    hardfault_entry,
    memmanage_entry,
    busfault_entry,
    usagefault_entry,
    0,
    0,
    0,
    0,
    svcall_entry,
    debugmon_entry,
    0,
    pendsv_entry,
    SysTick_Handler,
};

void reset_handler(void) {
    /* volatile: plain loops that GCC would turn into memcpy/memset calls */
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *(volatile uint32_t *)d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *(volatile uint32_t *)d++ = 0;
#ifdef __ARM_FP
    /* CPACR: full access to CP10 and CP11 (the FPU), before any float code */
    *(volatile uint32_t *)0xe000ed88u |= 0xfu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    stack_paint(); /* for the harness's high-water mark */
    sh_exit(main());
}

static const char *const exception_names[16] = {
    [2] = "NMI",          [3] = "HardFault",     [4] = "MemManage", [5] = "BusFault",
    [6] = "UsageFault",   [11] = "SVCall",       [12] = "DebugMonitor",
    [14] = "PendSV",      [15] = "SysTick (no handler)",
};

void mcu_fault_report(uint32_t exception, const uint32_t *frame, uint32_t exc_return) {
    char buf[160];
    fmt_line l;
    fmt_init(&l, buf, sizeof buf);
    fmt_str(&l, "mcu: FAULT: ");
    fmt_str(&l, exception_names[exception & 15] ? exception_names[exception & 15] : "exception");
    /* a frame outside the stack region cannot be read: the stack overflowed */
    uintptr_t f = (uintptr_t)frame;
    int in_stack = f >= (uintptr_t)__stack_bottom && f + 32 <= (uintptr_t)__stack_top;
    if (in_stack) {
        fmt_str(&l, " at pc 0x");
        fmt_hex(&l, frame[6], 8);
        fmt_str(&l, ", lr 0x");
        fmt_hex(&l, frame[5], 8);
    }
    fmt_str(&l, ", sp 0x");
    fmt_hex(&l, (uint32_t)(uintptr_t)frame, 8);
    if (!in_stack)
        fmt_str(&l, " (outside the stack region: a stack overflow?)");
    fmt_str(&l, ", exc_return 0x");
    fmt_hex(&l, exc_return, 8);
#if __ARM_ARCH >= 7
    /* Armv7-M's fault status registers (the M0 has none: reading them faults) */
    fmt_str(&l, ", cfsr 0x");
    fmt_hex(&l, *(volatile uint32_t *)0xe000ed28u, 8);
    fmt_str(&l, ", hfsr 0x");
    fmt_hex(&l, *(volatile uint32_t *)0xe000ed2cu, 8);
#endif
    fmt_str(&l, "\n");
    sh_write0(buf);
    sh_exit(3);
}
