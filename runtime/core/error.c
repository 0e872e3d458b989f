/* error.c: error messages carried back to the caller, and numbers in
 * messages as people write them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lenet_core.h"

void lenet_set_error(lenet_error *err, const char *fmt, ...) {
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

const char *lenet_shortest(double v, int is_float, char buf[32]) {
    if (is_float)
        v = (float)v;
    /* a whole number as one: 1000, not %g's 1e+03 */
    if (v == (double)(long long)v && v > -1e15 && v < 1e15) {
        snprintf(buf, 32, "%s%lld", v == 0 && signbit(v) ? "-" : "", (long long)v);
        return buf;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, v);
        if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    return buf;
}
