/* lenet_kernels.h: the arithmetic that generated code calls.
 *
 * The generated C for a model (the "kernels" code style) holds every shape
 * and offset as a literal and does no arithmetic itself: each layer calls
 * these kernels, which gcc compiled into the runtime once per target (sse2,
 * avx2, avx512 on x86-64; neon on aarch64), each with the vector width and
 * register blocking of its instruction set. Both paths make the same calls:
 * an emitted build binds them to its target's kernels by name (it defines
 * LENET_TARGET, below), the JIT hands tcc the chosen target's function
 * pointers. So for one target both paths compute the same bits.
 *
 * tcc compiles this text in front of the JIT's code: it stays plain C99,
 * without #include.
 *
 * Activations of a tile of T samples are batch-innermost (float[C*H*W][T]),
 * so the kernels see them as runs of adjacent values: "groups" of `width`
 * values (a row of output positions times T lanes, or one position's T
 * lanes), placed by strides. The terms of a sum (a convolution's taps, a
 * dense layer's inputs) form a box of up to three dimensions, k = (k0, k1,
 * k2) with k2 fastest, each term's offset a sum of strides: sizes, padding
 * and stride all become literals in a descriptor, and the generated code
 * stays a few lines per layer whatever the sizes.
 */
#ifndef LENET_KERNELS_H
#define LENET_KERNELS_H

/* What a pass is for. Most layers compute the same either way; those that
 * train differently (dropout, batch statistics) read this.
 *
 * A layer that needs the whole batch's statistics (batchnorm) splits a
 * training step's passes into parts: part k of the forward pass ends with
 * the sums the next such layer needs, over this tile's samples, in sums;
 * the trainer runs a part over every tile of the batch, adds the tiles'
 * sums in tile order into batch_sums, then runs the next part. The
 * backward pass runs its parts the other way, from the last to 0.
 * Evaluation runs the whole forward pass in one call. */
typedef struct {
    int training;       /* 1 in a training step; 0 in evaluation, prediction */
    unsigned long long seed; /* the step's stream (lenet_step_seed); 0 if not training */
    int sample;         /* the batch position of the tile's lane 0 */
    /* training with batch statistics only: */
    int part;           /* the part of the pass to run */
    int lanes;          /* lanes of this tile holding samples (the rest: padding) */
    int batch;          /* samples in the whole batch */
    double *sums;       /* this tile's sums (model's `sums` doubles) */
    const double *batch_sums; /* every tile's sums added, in tile order */
} lenet_pass;

/* libm's, which the tanh and sigmoid activations and batchnorm call: the JIT binds these
 * very functions, an emitted build links them (-lm), so both compute the
 * same bits. */
float tanhf(float);
float expf(float);
double tanh(double);
double exp(double);
double sqrt(double); /* batchnorm's 1 / sqrt(var + eps), in double */

/* Flags of lenet_gemm (lenet_depthwise: LENET_RELU). */
#define LENET_ACCUMULATE 1 /* C += A x B, instead of C = bias + A x B */
#define LENET_RELU 2       /* then C = max(C, 0) */

/* C(m, g, j) = bias[m] + sum over k of A(m, k) * B(k, g, j), where
 *   A(m, k)    = a[m * a_row + k0 * a_k[0] + k1 * a_k[1] + k2 * a_k[2]]
 *   B(k, g, j) = b[k0 * b_k[0] + k1 * b_k[1] + k2 * b_k[2] + g0 * b_g[0] + g1 * b_g[1] + j]
 *   C(m, g, j) = c[m * c_row + g0 * c_g[0] + g1 * c_g[1] + j]
 * for m < m, k < k[0] x k[1] x k[2], g < groups[0] x groups[1], j < width.
 * Each sum starts from bias[m] (0 when bias is NULL; C itself with
 * LENET_ACCUMULATE) and adds its terms in k order. */
typedef struct {
    int m, k[3], groups[2], width, flags;
    long a_row, a_k[3], b_k[3], b_g[2], c_row, c_g[2];
} lenet_gemm;

/* Weight gradients, a sum over groups and lanes:
 *   C(m, k) += sum over g, j of A(m, g, j) * B(k, g, j)
 *   A(m, g, j) = a[m * a_row + g0 * a_g[0] + g1 * a_g[1] + j]
 *   B(k, g, j) = b[k0 * b_k[0] + k1 * b_k[1] + k2 * b_k[2] + g0 * b_g[0] + g1 * b_g[1] + j]
 *   C(m, k)    = c[m * c_row + k0 * c_k[0] + k1 * c_k[1] + k2 * c_k[2]]
 * lenet_?sum_rows adds A alone: out[m] += sum over g, j of A(m, g, j)
 * (bias gradients). */
typedef struct {
    int m, k[3], groups[2], width;
    long a_row, a_g[2], b_k[3], b_g[2], c_row, c_k[3];
} lenet_gemm_dot;

/* Pooling windows over a C x H x W tile of T lanes: output (c, oy, ox)
 * covers rows oy * stride .. + size and columns ox * stride .. + size.
 * flags: LENET_RELU (max only), a relu after the pool fused into it. */
typedef struct {
    int c, h, w, oh, ow, size, stride, tile, flags;
} lenet_window;

/* A depthwise convolution of a C x H x W tile of T lanes: input channel ch
 * gives `mult` output channels, co = ch * mult + j, of OH x OW:
 *   out[co][oy][ox] = bias[co] + sum over ky, kx of
 *                     w[co][ky][kx] * in[ch][oy * stride + ky - pt][ox * stride + kx - pl]
 * with a k x k kernel, taps in the padding left out (flags: LENET_RELU). */
typedef struct {
    int c, h, w, mult, oh, ow, k, stride, pt, pl, tile, flags;
} lenet_depthwise;

/* Without a target (the JIT) these names are bound by the JIT to the chosen
 * target's kernels; an emitted build defines LENET_TARGET (avx2, ...) and
 * calls that target's kernels in the runtime library by name. */
#ifdef LENET_TARGET
#define LENET_KCAT_(t, n) lenet_##t##_##n
#define LENET_KCAT(t, n) LENET_KCAT_(t, n)
#define lenet_sgemm LENET_KCAT(LENET_TARGET, sgemm)
#define lenet_dgemm LENET_KCAT(LENET_TARGET, dgemm)
#define lenet_sgemm_dot LENET_KCAT(LENET_TARGET, sgemm_dot)
#define lenet_dgemm_dot LENET_KCAT(LENET_TARGET, dgemm_dot)
#define lenet_ssum_rows LENET_KCAT(LENET_TARGET, ssum_rows)
#define lenet_dsum_rows LENET_KCAT(LENET_TARGET, dsum_rows)
#define lenet_stranspose LENET_KCAT(LENET_TARGET, stranspose)
#define lenet_dtranspose LENET_KCAT(LENET_TARGET, dtranspose)
#define lenet_smaxpool_forward LENET_KCAT(LENET_TARGET, smaxpool_forward)
#define lenet_dmaxpool_forward LENET_KCAT(LENET_TARGET, dmaxpool_forward)
#define lenet_smaxpool_backward LENET_KCAT(LENET_TARGET, smaxpool_backward)
#define lenet_dmaxpool_backward LENET_KCAT(LENET_TARGET, dmaxpool_backward)
#define lenet_savgpool_forward LENET_KCAT(LENET_TARGET, savgpool_forward)
#define lenet_davgpool_forward LENET_KCAT(LENET_TARGET, davgpool_forward)
#define lenet_savgpool_backward LENET_KCAT(LENET_TARGET, savgpool_backward)
#define lenet_davgpool_backward LENET_KCAT(LENET_TARGET, davgpool_backward)
#define lenet_srelu_forward LENET_KCAT(LENET_TARGET, srelu_forward)
#define lenet_drelu_forward LENET_KCAT(LENET_TARGET, drelu_forward)
#define lenet_srelu_backward LENET_KCAT(LENET_TARGET, srelu_backward)
#define lenet_drelu_backward LENET_KCAT(LENET_TARGET, drelu_backward)
#define lenet_szero LENET_KCAT(LENET_TARGET, szero)
#define lenet_dzero LENET_KCAT(LENET_TARGET, dzero)
#define lenet_sbn_sums LENET_KCAT(LENET_TARGET, sbn_sums)
#define lenet_dbn_sums LENET_KCAT(LENET_TARGET, dbn_sums)
#define lenet_sbn_normalize LENET_KCAT(LENET_TARGET, sbn_normalize)
#define lenet_dbn_normalize LENET_KCAT(LENET_TARGET, dbn_normalize)
#define lenet_sbn_affine LENET_KCAT(LENET_TARGET, sbn_affine)
#define lenet_dbn_affine LENET_KCAT(LENET_TARGET, dbn_affine)
#define lenet_sbn_grad LENET_KCAT(LENET_TARGET, sbn_grad)
#define lenet_dbn_grad LENET_KCAT(LENET_TARGET, dbn_grad)
#define lenet_sdepthwise_forward LENET_KCAT(LENET_TARGET, sdepthwise_forward)
#define lenet_ddepthwise_forward LENET_KCAT(LENET_TARGET, ddepthwise_forward)
#define lenet_sdepthwise_input_grad LENET_KCAT(LENET_TARGET, sdepthwise_input_grad)
#define lenet_ddepthwise_input_grad LENET_KCAT(LENET_TARGET, ddepthwise_input_grad)
#define lenet_sdepthwise_weight_grad LENET_KCAT(LENET_TARGET, sdepthwise_weight_grad)
#define lenet_ddepthwise_weight_grad LENET_KCAT(LENET_TARGET, ddepthwise_weight_grad)
#endif

/* float (s) and double (d, for the gradient checks) */
void lenet_sgemm(const lenet_gemm *g, const float *a, const float *b, float *c,
                 const float *bias);
void lenet_dgemm(const lenet_gemm *g, const double *a, const double *b, double *c,
                 const double *bias);
void lenet_sgemm_dot(const lenet_gemm_dot *g, const float *a, const float *b, float *c);
void lenet_dgemm_dot(const lenet_gemm_dot *g, const double *a, const double *b, double *c);
void lenet_ssum_rows(const lenet_gemm_dot *g, const float *a, float *out);
void lenet_dsum_rows(const lenet_gemm_dot *g, const double *a, double *out);
/* dst[c][r] = src[r][c] for a rows x cols src */
void lenet_stranspose(long rows, long cols, const float *src, float *dst);
void lenet_dtranspose(long rows, long cols, const double *src, double *dst);
/* max: out = the window's max, taken as the loop style takes it; backward
 * zeroes din, then gives each window's dout to the first position holding
 * its max (a window of NaNs: to its first position). With LENET_RELU, out
 * = max(the max, 0) (relu and max commute: the same bits as the relu
 * layer after the pool) and a window's dout is given only where its out
 * is positive (the relu's gradient rule), as 0 elsewhere. */
void lenet_smaxpool_forward(const lenet_window *w, const float *in, float *out);
void lenet_dmaxpool_forward(const lenet_window *w, const double *in, double *out);
void lenet_smaxpool_backward(const lenet_window *w, const float *in, const float *out,
                             const float *dout, float *din);
void lenet_dmaxpool_backward(const lenet_window *w, const double *in, const double *out,
                             const double *dout, double *din);
/* average: out = (the window's sum in (ky, kx) order) * (1 / size^2);
 * backward zeroes din, then adds dout * (1 / size^2) over each window */
void lenet_savgpool_forward(const lenet_window *w, const float *in, float *out);
void lenet_davgpool_forward(const lenet_window *w, const double *in, double *out);
void lenet_savgpool_backward(const lenet_window *w, const float *dout, float *din);
void lenet_davgpool_backward(const lenet_window *w, const double *dout, double *din);
/* out = max(in, 0); din = out > 0 ? dout : 0 (din may be dout) */
void lenet_srelu_forward(long n, const float *in, float *out);
void lenet_drelu_forward(long n, const double *in, double *out);
void lenet_srelu_backward(long n, const float *out, const float *dout, float *din);
void lenet_drelu_backward(long n, const double *out, const double *dout, double *din);
void lenet_szero(long n, float *p);
void lenet_dzero(long n, double *p);
/* Depthwise convolution (lenet_depthwise): forward sums bias (0 when NULL),
 * then the taps in (ky, kx) order; the input gradient writes din, each
 * value summed over its output channels j, then its output positions in
 * (oy, ox) order (the loop style's); the weight gradient adds the sums over
 * positions and lanes of dout x in to gw, and of dout to gb (unless NULL). */
void lenet_sdepthwise_forward(const lenet_depthwise *d, const float *w, const float *in,
                              float *out, const float *bias);
void lenet_ddepthwise_forward(const lenet_depthwise *d, const double *w, const double *in,
                              double *out, const double *bias);
void lenet_sdepthwise_input_grad(const lenet_depthwise *d, const float *w, const float *dout,
                                 float *din);
void lenet_ddepthwise_input_grad(const lenet_depthwise *d, const double *w, const double *dout,
                                 double *din);
void lenet_sdepthwise_weight_grad(const lenet_depthwise *d, const float *dout, const float *in,
                                  float *gw, float *gb);
void lenet_ddepthwise_weight_grad(const lenet_depthwise *d, const double *dout, const double *in,
                                  double *gw, double *gb);
/* Batch normalisation of c channels of s positions x tile lanes, of which
 * the first `lanes` hold samples (the rest: padding). Per channel:
 *   bn_sums       sums[ch] = sum of x, sums[c + ch] = sum of x * y (y = x:
 *                 the squares), over positions and the sample lanes, in
 *                 double: each lane's sum over positions, then the lanes in
 *                 order
 *   bn_normalize  xhat = (x - mean) * invstd (0 in padding), out = gamma
 *                 xhat + beta
 *   bn_affine     out = x * scale + shift
 *   bn_grad       din = k (dout - mean_dout - xhat mean_dot) (0 in padding)
 * (per-channel arguments are arrays of c) */
void lenet_sbn_sums(int c, long s, int tile, int lanes, const float *x, const float *y,
                    double *sums);
void lenet_dbn_sums(int c, long s, int tile, int lanes, const double *x, const double *y,
                    double *sums);
void lenet_sbn_normalize(int c, long s, int tile, int lanes, const float *x, const float *mean,
                         const float *invstd, const float *gamma, const float *beta,
                         float *xhat, float *out);
void lenet_dbn_normalize(int c, long s, int tile, int lanes, const double *x,
                         const double *mean, const double *invstd, const double *gamma,
                         const double *beta, double *xhat, double *out);
void lenet_sbn_affine(int c, long s, int tile, const float *x, const float *scale,
                      const float *shift, float *out);
void lenet_dbn_affine(int c, long s, int tile, const double *x, const double *scale,
                      const double *shift, double *out);
void lenet_sbn_grad(int c, long s, int tile, int lanes, const float *dout, const float *xhat,
                    const float *k, const float *mean_dout, const float *mean_dot, float *din);
void lenet_dbn_grad(int c, long s, int tile, int lanes, const double *dout, const double *xhat,
                    const double *k, const double *mean_dout, const double *mean_dot,
                    double *din);

#endif
