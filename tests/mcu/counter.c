/* counter.c: SysTick as an instruction counter (see counter.h).
 *
 * Wraps: SysTick counts down 24 bits and reloads; each reload pends its
 * interrupt, whose handler counts it. A read masks interrupts and takes the
 * wrap count and the current value; a wrap that has happened but whose
 * interrupt is still pending (ICSR.PENDSTSET) is added, with the value read
 * again after it, so a read never loses or doubles a wrap. (COUNTFLAG alone
 * says only "at least one wrap since the last read".) The handler's few
 * instructions per wrap (one per 2^24 ticks at the full reload) are counted
 * with the code measured. */
#include "counter.h"

#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define SCB_ICSR (*(volatile uint32_t *)0xe000ed04u)
#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE_CPU 4u
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)

static volatile uint32_t wraps;
static uint32_t period; /* reload + 1 */

/* in startup.c's vector table (a weak default there) */
void SysTick_Handler(void) {
    wraps++;
}

void counter_start(uint32_t reload) {
    SYST_CSR = 0;
    SCB_ICSR = ICSR_PENDSTCLR; /* a wrap of the last count, not yet taken */
    SYST_RVR = reload;
    SYST_CVR = 0; /* any write zeroes it; it loads RVR on the next tick */
    period = reload + 1;
    wraps = 0;
    SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE_CPU;
}

uint64_t counter_ticks(void) {
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    uint32_t w = wraps, v = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        w++;
        v = SYST_CVR; /* surely after that wrap */
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    /* v counts down from reload to 0; 0 right after a start or a wrap */
    return (uint64_t)w * period + (v ? period - v : 0);
}

void counter_spin(uint32_t n) {
    /* unified syntax for both cores: GCC assumes divided syntax in inline
     * asm for Thumb-1 (the Cortex-M0); subs/bne are 16-bit on both */
    __asm__ volatile(".syntax unified\n"
                     "1:\tsubs %0, %0, #1\n\t"
                     "bne 1b"
                     : "+l"(n)
                     :
                     : "cc");
}
