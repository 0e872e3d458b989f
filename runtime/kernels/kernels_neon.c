/* kernels_neon.c: the kernels for aarch64 (NEON, FMA): 4 floats per q register, 32 registers.
 * The Makefile builds this file with the target's flags (lenet_target's
 * cflags) and FMA contraction on; see kernels.h. */
#if defined(__aarch64__)
#define TARGET neon
#define VBYTES 16
#define GEMM_MR 6 /* gemm: 6 rows x 4 vectors = 24 accumulators */
#define GEMM_NV 4
#define DOT_MR 4  /* weight gradients: 4 x 6 = 24 accumulators */
#define DOT_KR 6
#define DW_R 12    /* depthwise: 12 output positions at once */
#include "kernels_target.h"
#endif
