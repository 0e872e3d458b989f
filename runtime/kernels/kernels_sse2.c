/* kernels_sse2.c: the kernels for x86-64 (SSE2, no FMA): 4 floats per xmm register, 16 registers.
 * The Makefile builds this file with the target's flags (lenet_target's
 * cflags) and FMA contraction on; see kernels.h. */
#if defined(__x86_64__)
#define TARGET sse2
#define VBYTES 16
#define GEMM_MR 4 /* gemm: 4 rows x 2 vectors = 8 accumulators */
#define GEMM_NV 2
#define DOT_MR 3  /* weight gradients: 3 x 3 = 9 accumulators */
#define DOT_KR 3
#define DW_R 8    /* depthwise: 8 output positions at once */
#define DW_EDGES 1 /* depthwise: a block at a row's edge unchecked */
#include "kernels_target.h"
#endif
