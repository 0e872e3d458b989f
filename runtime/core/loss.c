/* loss.c: softmax cross-entropy on logits, computed stably:
 * loss = log(sum_k exp(z_k - max)) - (z_y - max), dL/dz_k = p_k - [k == y];
 * with label smoothing e the target [k == y] becomes (1 - e) [k == y] + e / K. */
#include <math.h>

#include "lenet_core.h"

int lenet_argmax_lane(const float *logits, int k, int tile, int lane) {
    int best = 0;
    for (int c = 1; c < k; c++)
        if (logits[c * tile + lane] > logits[best * tile + lane])
            best = c;
    return best;
}

double lenet_softmax_xent(const float *logits, int k, int tile, int n, const uint8_t *labels,
                          float grad_scale, float *dlogits, int *correct) {
    return lenet_softmax_xent_smoothed(logits, k, tile, n, labels, 0, grad_scale, dlogits,
                                       correct);
}

double lenet_softmax_xent_smoothed(const float *logits, int k, int tile, int n,
                                   const uint8_t *labels, float smoothing, float grad_scale,
                                   float *dlogits, int *correct) {
    double total = 0;
    /* the target: 1 - smoothing + smoothing / k for the label, smoothing / k
     * for the rest (PyTorch's and Keras' label smoothing) */
    const double rest = (double)smoothing / k, top = 1.0 - smoothing + rest;
    for (int b = 0; b < tile; b++) {
        if (b >= n) {
            for (int c = 0; c < k; c++)
                dlogits[c * tile + b] = 0;
            continue;
        }
        int y = labels[b];
        int best = lenet_argmax_lane(logits, k, tile, b);
        double max = logits[best * tile + b];
        double sum = 0;
        for (int c = 0; c < k; c++)
            sum += exp(logits[c * tile + b] - max);
        if (smoothing == 0) {
            total += log(sum) - (logits[y * tile + b] - max);
        } else { /* -sum of target_c log p_c */
            double dot = 0;
            for (int c = 0; c < k; c++)
                dot += (c == y ? top : rest) * (logits[c * tile + b] - max);
            total += log(sum) - dot;
        }
        for (int c = 0; c < k; c++) {
            double p = exp(logits[c * tile + b] - max) / sum;
            /* smoothing 0: top is 1 and rest 0 exactly, the one-hot target */
            dlogits[c * tile + b] = (float)((p - (c == y ? top : rest)) * grad_scale);
        }
        *correct += best == y;
    }
    return total;
}
