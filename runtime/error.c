/* error.c: error messages carried back to the caller, and numbers in
 * messages as people write them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lenet.h"

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
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, v);
        if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    return buf;
}
