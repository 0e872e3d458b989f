/* lenet.h: the lenetc runtime, shared by emitted trainers and the JIT: all
 * of it, for programs and tests that use the runtime as a library.
 *
 * The runtime owns everything but the network's passes: data loading,
 * initialisation, loss, optimiser, the training loop and safetensors I/O.
 * Each folder of runtime/ has its header, included here; generated code
 * includes only lenet_model.h (the model descriptor and the kernels).
 */
#ifndef LENET_H
#define LENET_H

#include "lenet_model.h"  /* the model descriptor, tensors, lenet_kernels.h */
#include "lenet_target.h" /* kernels/: instruction sets and their kernels */
#include "lenet_core.h"   /* core/: errors, rng, tiles, loss, optimisers, threads, trainer */
#include "lenet_data.h"   /* data/: IDX, CIFAR-10, image folders, decoding, pixels */
#include "lenet_io.h"     /* io/: safetensors, provenance, checkpoints, atomic writes */
#include "lenet_app.h"    /* app/: train, eval, predict, options, meter, plots, clock */

#endif
