/* fmt.h: a line of text built in a caller's buffer, with decimal and hex
 * integers: all the formatting the harness needs, without printf (newlib's
 * pulls in floating-point code, which the Cortex-M0 image must not link).
 * Portable C99: the host build of run.c formats its score lines with the
 * same code, so that host and board lines can be compared with diff. */
#ifndef MCU_FMT_H
#define MCU_FMT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap; /* bytes in buf, the NUL included */
    size_t len;
} fmt_line;

void fmt_init(fmt_line *l, char *buf, size_t cap);
void fmt_str(fmt_line *l, const char *s);
void fmt_udec(fmt_line *l, uint64_t v);
void fmt_dec(fmt_line *l, int64_t v);
/* V's low DIGITS hex digits (lower case, zero padded, no 0x). */
void fmt_hex(fmt_line *l, uint32_t v, int digits);
/* NUM / DEN with DECIMALS decimals, rounded half up (NUM, DEN > 0). */
void fmt_ratio(fmt_line *l, uint64_t num, uint64_t den, int decimals);

#endif
