/* kernels_avx512.c: the kernels for x86-64-v4 (AVX-512): 16 floats per zmm register, 32 registers.
 * The Makefile builds this file with the target's flags (lenet_target's
 * cflags) and FMA contraction on; see kernels.h. */
#if defined(__x86_64__)
#define TARGET avx512
#define VBYTES 64
#define GEMM_MR 8 /* gemm: 8 rows x 3 vectors = 24 accumulators */
#define GEMM_NV 3
#define DOT_MR 4  /* weight gradients: 4 x 6 = 24 accumulators */
#define DOT_KR 6
#define DW_R 12    /* depthwise: 12 output positions at once */
#include "kernels_target.h"
#endif
