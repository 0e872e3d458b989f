/* clock.c: seconds on a monotonic clock, for the meter, the epoch line,
 * gnuplot's timeout and the JIT's compile time (its own file: none of
 * them depends on another for it). */
#include <time.h>

#include "lenet_app.h"

double lenet_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
