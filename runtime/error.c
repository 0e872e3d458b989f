/* error.c: error messages carried back to the caller. */
#include <stdarg.h>
#include <stdio.h>

#include "lenet.h"

void lenet_set_error(lenet_error *err, const char *fmt, ...) {
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}
