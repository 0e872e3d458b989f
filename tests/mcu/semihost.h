/* semihost.h: output and exit through Arm semihosting (`bkpt 0xab`), which
 * qemu-system-arm -semihosting serves: the only I/O a bare-metal image has
 * here, with no UART driver and no newlib stdio (whose printf links
 * floating-point routines). */
#ifndef MCU_SEMIHOST_H
#define MCU_SEMIHOST_H

/* SYS_WRITE0: writes a NUL-terminated string to the host's console. */
void sh_write0(const char *s);

/* SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit and STATUS: QEMU exits
 * with STATUS (plain SYS_EXIT on AArch32 carries no status, only 0 or 1). */
void sh_exit(int status) __attribute__((noreturn));

#endif
