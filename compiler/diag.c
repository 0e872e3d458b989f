/* diag.c: error messages (and warnings) that point at the spec, chibicc style:
 *
 *   models/bad.yaml:7:17: error: unknown key 'filtres' in conv layer
 *       - conv: {filtres: 6, kernel: 3}
 *                ^
 */
#include <stdio.h>
#include <string.h>

#include "lenetc.h"

/* Whether p[0..n) is well-formed UTF-8 without control bytes (tabs aside):
 * only such a line may be echoed to a terminal. */
static bool printable_line(const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        int more = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (more < 0 || (c < 0x20 && c != '\t') || c == 0x7f || i + (size_t)more >= n + !more)
            return false; /* a bad lead byte, a control byte, or cut short */
        for (int k = 1; k <= more; k++)
            if ((s[i + (size_t)k] >> 6) != 2)
                return false;
        i += 1 + (size_t)more;
    }
    return true;
}

/* Appends the source line and a caret under col to buf (cap bytes, used
 * of them taken), if the line is printable. */
static void append_caret(const Diag *d, char *buf, size_t cap, size_t used, int line, int col) {
    const char *p = d->src;
    for (int l = 1; p && l < line; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p || !*p)
        return;
    size_t n = strcspn(p, "\n");
    if (n > 160)
        return; /* too long to be useful on a terminal */
    if (!printable_line(p, n))
        return; /* control bytes or broken UTF-8 would garble the terminal */
    int w = snprintf(buf + used, cap - used, "\n    %.*s\n    %*s^", (int)n, p,
                     col > 1 ? col - 1 : 0, "");
    (void)w;
}

int error_at(Diag *d, int line, int col, const char *fmt, ...) {
    if (d->failed)
        return -1; /* keep the first error: later ones follow from it */
    d->failed = true;
    int n;
    if (line > 0)
        n = snprintf(d->msg, sizeof d->msg, "%s:%d:%d: error: ", d->file, line, col);
    else
        n = snprintf(d->msg, sizeof d->msg, "%s: error: ", d->file);
    if (n < 0 || (size_t)n >= sizeof d->msg)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(d->msg + n, sizeof d->msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (m >= 0 && (size_t)(n + m) < sizeof d->msg - 200 && line > 0)
        append_caret(d, d->msg, sizeof d->msg, (size_t)(n + m), line, col);
    return -1;
}

void warn_at(Diag *d, int line, int col, const char *fmt, ...) {
    char one[512];
    int n = line > 0 ? snprintf(one, sizeof one, "%s:%d:%d: warning: ", d->file, line, col)
                     : snprintf(one, sizeof one, "%s: warning: ", d->file);
    if (n < 0 || (size_t)n >= sizeof one)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(one + n, sizeof one - (size_t)n, fmt, ap);
    va_end(ap);
    if (m >= 0 && (size_t)(n + m) < sizeof one - 200 && line > 0)
        append_caret(d, one, sizeof one, (size_t)(n + m), line, col);
    size_t used = strlen(d->warnings);
    if (used + strlen(one) + 2 < sizeof d->warnings) { /* else: enough said */
        snprintf(d->warnings + used, sizeof d->warnings - used, "%s\n", one);
        d->n_warnings++;
    }
}
