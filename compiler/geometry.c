/* geometry.c: a convolution's or pooling window's taps along one axis,
 * grouped into runs of outputs (or taps) that see the same taps (outputs):
 * the kernels style turns each run into one call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"

/* Taps [t0, t1) that output o sees along an axis (t1 <= t0: none). */
static void taps_of(int o, int k, int stride, int pad, int size, int *t0, int *t1) {
    int lo = pad - o * stride, hi = size + pad - o * stride; /* 0 <= o*s + t - pad < size */
    *t0 = lo > 0 ? lo : 0;
    *t1 = hi < k ? hi : k;
    if (*t1 < *t0)
        *t1 = *t0;
}

int axis_runs_by_output(int out, int k, int stride, int pad, int size, AxisRun *runs) {
    int n = 0;
    for (int o = 0; o < out; o++) {
        int t0, t1;
        taps_of(o, k, stride, pad, size, &t0, &t1);
        if (n && runs[n - 1].t0 == t0 && runs[n - 1].t1 == t1)
            runs[n - 1].end = o + 1;
        else
            runs[n++] = (AxisRun){o, o + 1, t0, t1};
    }
    return n;
}

int axis_runs_by_tap(int out, int k, int stride, int pad, int size, AxisRun *runs) {
    int n = 0;
    for (int t = 0; t < k; t++) {
        int o0 = out, o1 = out; /* outputs [o0, o1) that see tap t: contiguous */
        for (int o = 0; o < out; o++) {
            int t0, t1;
            taps_of(o, k, stride, pad, size, &t0, &t1);
            if (t >= t0 && t < t1) {
                o0 = o0 < o ? o0 : o;
                o1 = o + 1;
            }
        }
        if (o0 >= o1)
            o0 = o1 = 0;
        if (n && runs[n - 1].t0 == o0 && runs[n - 1].t1 == o1)
            runs[n - 1].end = t + 1;
        else
            runs[n++] = (AxisRun){t, t + 1, o0, o1};
    }
    return n;
}
