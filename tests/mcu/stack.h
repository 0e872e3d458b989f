/* stack.h: the stack's high-water mark by painting: every free word below
 * sp is set to a pattern, and after the code under test has run, the lowest
 * word that no longer holds it is as deep as the stack went. (A word written
 * with the pattern's own value would be missed: a one-in-2^32 chance.)
 * Exceptions taken meanwhile (SysTick's) stack onto the same region. */
#ifndef MCU_STACK_H
#define MCU_STACK_H

#include <stdint.h>

/* the stack region, from the linker script */
extern uint32_t __stack_bottom[], __stack_top[];

static inline uint32_t *stack_sp(void) {
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Paints [__stack_bottom, sp). */
void stack_paint(void);
/* The lowest word of the region that is not paint (__stack_top if none);
 * __stack_bottom itself means the stack may have overflowed the region. */
uint32_t *stack_lowest_used(void);

#endif
