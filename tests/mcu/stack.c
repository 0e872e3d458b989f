/* stack.c: see stack.h. */
#include "stack.h"

#define STACK_PAINT 0xc5a5f00du

/* A leaf with no frame at -O2, so that its own sp is its caller's: the few
 * words between them, if any, read as used (an overestimate, never an
 * underestimate). */
void stack_paint(void) {
    uint32_t *sp = stack_sp();
    for (uint32_t *p = __stack_bottom; p < sp; p++)
        *(volatile uint32_t *)p = STACK_PAINT; /* volatile: not turned into a memset call */
}

uint32_t *stack_lowest_used(void) {
    uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT)
        p++;
    return p;
}
