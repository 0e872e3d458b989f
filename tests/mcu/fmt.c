/* fmt.c: see fmt.h. Output that does not fit is cut (the line stays
 * NUL-terminated); the harness's lines are far shorter than its buffer. */
#include "fmt.h"

void fmt_init(fmt_line *l, char *buf, size_t cap) {
    l->buf = buf;
    l->cap = cap;
    l->len = 0;
    buf[0] = '\0';
}

static void put(fmt_line *l, char c) {
    if (l->len + 1 < l->cap) {
        l->buf[l->len++] = c;
        l->buf[l->len] = '\0';
    }
}

void fmt_str(fmt_line *l, const char *s) {
    while (*s)
        put(l, *s++);
}

void fmt_udec(fmt_line *l, uint64_t v) {
    char d[20];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put(l, d[--n]);
}

void fmt_dec(fmt_line *l, int64_t v) {
    if (v < 0) {
        put(l, '-');
        fmt_udec(l, (uint64_t)0 - (uint64_t)v); /* INT64_MIN too */
    } else {
        fmt_udec(l, (uint64_t)v);
    }
}

void fmt_hex(fmt_line *l, uint32_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--)
        put(l, hex[(v >> (4 * i)) & 15u]);
}

void fmt_ratio(fmt_line *l, uint64_t num, uint64_t den, int decimals) {
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    uint64_t q = (num * scale + den / 2) / den; /* the harness's values stay far below 2^64 */
    fmt_udec(l, q / scale);
    if (decimals) {
        put(l, '.');
        uint64_t frac = q % scale;
        for (uint64_t s = scale / 10; s; s /= 10) {
            put(l, (char)('0' + frac / s));
            frac %= s;
        }
    }
}
