/* loss.c: softmax cross-entropy on logits, computed stably:
 * loss = log(sum_k exp(z_k - max)) - (z_y - max), dL/dz_k = p_k - [k == y]. */
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
    double total = 0;
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
        total += log(sum) - (logits[y * tile + b] - max);
        for (int c = 0; c < k; c++) {
            double p = exp(logits[c * tile + b] - max) / sum;
            dlogits[c * tile + b] = (float)((p - (c == y)) * grad_scale);
        }
        *correct += best == y;
    }
    return total;
}
