/* kernels_target.h: one target's kernels, in float and in double, and the
 * JIT's table of them. kernels_<target>.c defines the target's settings
 * (see kernels.h) and includes this. */
#define REAL float
#include "kernels.h"
#undef REAL
#define REAL double
#define REAL_IS_DOUBLE
#include "kernels.h"

KERNEL_SYMBOLS(KSYMBOLS(TARGET));
