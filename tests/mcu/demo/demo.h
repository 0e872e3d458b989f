/* demo.h: a stand-in for the int8 export (issue 21) with its interface, so
 * that the harness is proven before the export exists: one int8 dense layer
 * 784 -> 10 with pseudo-random weights (demo_weights.c, written by
 * weights.c at build time). Its scores mean nothing; its arithmetic is the
 * export's kind: integer only, int32 accumulators, fixed-point
 * requantization to int8. */
#ifndef DEMO_H
#define DEMO_H

#include <stdint.h>

#define DEMO_PIXELS 784
#define DEMO_CLASSES 10
/* the int32 accumulators, a local of demo_scores (no static state) */
#define DEMO_ARENA_BYTES 40
/* scores are DEMO_SCORES_SCALE * (q - DEMO_SCORES_ZERO), a nominal scale */
#define DEMO_SCORES_SCALE 0.0625f
#define DEMO_SCORES_ZERO 0

/* The class (the first highest score); the int8 scores in SCORES. */
int demo_scores(const uint8_t image[DEMO_PIXELS], int8_t scores[DEMO_CLASSES]);

#endif
