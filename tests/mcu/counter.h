/* counter.h: instructions counted with SysTick. Under `qemu-system-arm
 * -icount shift=0` virtual time advances 1 ns per instruction, so SysTick on
 * the processor clock ticks once per 1000/MCU_MHZ instructions: 40 on
 * mps2-an386 (25 MHz), 62.5 on microbit (16 MHz). run.c checks that scale
 * with counter_spin before it trusts it. */
#ifndef MCU_COUNTER_H
#define MCU_COUNTER_H

#include <stdint.h>

#ifndef MCU_MHZ
#error "MCU_MHZ (the board's processor clock in MHz) must be defined"
#endif

/* Instructions in TICKS (integer: 62.5 is 1000/16). */
#define MCU_INSTRUCTIONS(ticks) ((uint64_t)(ticks) * 1000u / MCU_MHZ)

/* (Re)starts the count at 0 with SysTick reloading every RELOAD + 1 ticks
 * (1 <= RELOAD <= 0xffffff, SysTick's 24 bits); its interrupt counts the
 * wraps, so a measurement may be any length. */
void counter_start(uint32_t reload);
/* Ticks since counter_start, wraps included. */
uint64_t counter_ticks(void);
/* A loop of exactly 2 * N instructions (subs, bne; N >= 1): the known
 * count that calibrates the scale. */
void counter_spin(uint32_t n);

#endif
