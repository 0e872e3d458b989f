/* kernels_avx2.c: the kernels for x86-64-v3 (AVX2 + FMA): 8 floats per ymm register, 16 registers.
 * The Makefile builds this file with the target's flags (lenet_target's
 * cflags) and FMA contraction on; see kernels.h. */
#if defined(__x86_64__)
#define TARGET avx2
#define VBYTES 32
#define GEMM_MR 6 /* gemm: 6 rows x 2 vectors = 12 accumulators */
#define GEMM_NV 2
#define DOT_MR 3  /* weight gradients: 3 x 4 = 12 accumulators */
#define DOT_KR 4
#define DW_R 8    /* depthwise: 8 output positions at once */
#define DW_EDGES 1 /* depthwise: a block at a row's edge unchecked */
#include "kernels_target.h"
#endif
