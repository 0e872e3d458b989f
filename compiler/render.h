/* render.h: what the renderers share (render.c, render_window.c,
 * render_dense.c, render_conv.c, render_batchnorm.c): an operation's code
 * in one style, and each file's table of them by OpKind
 * (NULL: an operation the file does not write). */
#ifndef LENETC_RENDER_H
#define LENETC_RENDER_H

#include "lenetc.h"

typedef void (*RenderFn)(Emitter *e, const Op *op);

/* render_conv.c: convolutions */
extern const RenderFn render_conv_loops[N_OPS], render_conv_unrolled[N_OPS],
    render_conv_kernels[N_OPS];
/* render_dense.c: dense layers */
extern const RenderFn render_dense_loops[N_OPS], render_dense_unrolled[N_OPS],
    render_dense_kernels[N_OPS];
/* render_batchnorm.c: batch normalisation (the loops serve the unrolled
 * style too) */
extern const RenderFn render_batchnorm_loops[N_OPS], render_batchnorm_kernels[N_OPS];
/* render_window.c: pooling */
extern const RenderFn render_window_loops[N_OPS], render_window_unrolled[N_OPS],
    render_window_kernels[N_OPS];

#endif
