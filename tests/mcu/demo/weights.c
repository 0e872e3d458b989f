/* weights.c: a host tool that writes the demo's constants as C,
 *
 *   weights OUT.c
 *
 * from a fixed xorshift32 stream: the same file on every machine. Weights
 * int8 in -127..127 (symmetric, as TFLite's), biases int32, a Q31 multiplier
 * and a right shift per class chosen so that scores spread over int8's
 * range on MNIST digits (|acc| is some 10^5) rather than saturate. */
#include <stdint.h>
#include <stdio.h>

#define PIXELS 784
#define CLASSES 10

static uint32_t state = 0x2545f491u;

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: weights OUT.c\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fprintf(f, "/* the demo's constants, by tests/mcu/demo/weights.c */\n#include <stdint.h>\n\n");
    fprintf(f, "const int8_t demo_weights[%d][%d] = {\n", CLASSES, PIXELS);
    for (int c = 0; c < CLASSES; c++) {
        fprintf(f, "  {");
        for (int i = 0; i < PIXELS; i++)
            fprintf(f, "%s%d,", i % 16 ? "" : "\n   ", (int)(next() % 255) - 127);
        fprintf(f, "\n  },\n");
    }
    fprintf(f, "};\nconst int32_t demo_bias[%d] = {", CLASSES);
    for (int c = 0; c < CLASSES; c++)
        fprintf(f, "%d,", (int)(next() % 8193) - 4096);
    fprintf(f, "};\nconst int32_t demo_mult[%d] = {", CLASSES);
    for (int c = 0; c < CLASSES; c++)
        fprintf(f, "%ld,", (long)((1u << 30) + next() % (1u << 30)));
    fprintf(f, "};\nconst uint8_t demo_shift[%d] = {", CLASSES);
    for (int c = 0; c < CLASSES; c++)
        fprintf(f, "%d,", 11 + (int)(next() % 2));
    fprintf(f, "};\n");
    if (fclose(f)) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
