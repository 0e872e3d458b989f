/* run.c: the harness's main. It runs a model's NAME_scores on each test
 * image and prints one line per image,
 *
 *   img 17: f3 0a 7f ... class 3
 *
 * (the int8 scores in hex, then the class it returned). Built for a board
 * (see mcu.mk) it also calibrates the instruction counter and measures each
 * inference's instructions and stack; built for the host (-DMCU_HOST, plain
 * gcc) it prints only the same image lines, so that diff compares host and
 * board bit for bit.
 *
 * The model is chosen at build time:
 *   -DMCU_MODEL_HEADER='"demo.h"' -DMCU_MODEL=demo -DMCU_MODEL_UPPER=DEMO
 * for a header with DEMO_PIXELS, DEMO_CLASSES and
 *   int demo_scores(const uint8_t image[DEMO_PIXELS], int8_t scores[DEMO_CLASSES]);
 * optionally -DMCU_MACS=N, its multiply-adds per inference (instructions per
 * multiply-add are then printed). The images come from a file that
 * images.c writes (mcu_images, mcu_image_count, mcu_image_pixels). */
#include <stdint.h>

#include "fmt.h"

#include MCU_MODEL_HEADER

#define MCU_CAT_(a, b) a##b
#define MCU_CAT(a, b) MCU_CAT_(a, b)
#define PIXELS MCU_CAT(MCU_MODEL_UPPER, _PIXELS)
#define CLASSES MCU_CAT(MCU_MODEL_UPPER, _CLASSES)
#define SCORES MCU_CAT(MCU_MODEL, _scores)
#define MCU_STR_(x) #x
#define MCU_STR(x) MCU_STR_(x)

extern const uint8_t mcu_images[][PIXELS];
extern const unsigned mcu_image_count, mcu_image_pixels;

#ifdef MCU_HOST
#include <stdio.h>
static void say(const char *s) {
    fputs(s, stdout);
}
#else
#include "counter.h"
#include "semihost.h"
#include "stack.h"
static void say(const char *s) {
    sh_write0(s);
}
#endif

static char buf[192 + 3 * CLASSES]; /* the longest line: an image's, or calibration's */

static void image_line(unsigned i, const int8_t *scores, int cls) {
    fmt_line l;
    fmt_init(&l, buf, sizeof buf);
    fmt_str(&l, "img ");
    fmt_udec(&l, i);
    fmt_str(&l, ":");
    for (int c = 0; c < CLASSES; c++) {
        fmt_str(&l, " ");
        fmt_hex(&l, (uint8_t)scores[c], 2);
    }
    fmt_str(&l, " class ");
    fmt_dec(&l, cls);
    fmt_str(&l, "\n");
    say(buf);
}

static int fail(const char *why) {
    say("mcu: FAIL: ");
    say(why);
    say("\n");
    return 1;
}

#ifdef MCU_HOST

int main(void) {
    int8_t scores[CLASSES];
    if (mcu_image_pixels != PIXELS)
        return fail("the images file's pixels per image are not the model's");
    for (unsigned i = 0; i < mcu_image_count; i++) {
        int cls = SCORES(mcu_images[i], scores);
        image_line(i, scores, cls);
    }
    return 0;
}

#else

/* the calibration: CAL_N iterations of counter_spin's 2-instruction loop,
 * less a short run (its call and the reads cancel out) */
#define CAL_SHORT 1000u
#define CAL_N 1000000u
#define TICKS_FULL 0xffffffu /* SysTick's 24 bits: wraps every 2^24 ticks */
#define TICKS_SHORT 4095u    /* for the wrap test: a wrap every 4096 ticks */

static uint64_t spin_ticks(uint32_t n) {
    uint64_t t0 = counter_ticks();
    counter_spin(n);
    return counter_ticks() - t0;
}

static uint64_t cal_ticks(void) {
    uint64_t shorter = spin_ticks(CAL_SHORT);
    return spin_ticks(CAL_SHORT + CAL_N) - shorter;
}

/* Checks the scale (1000 / MCU_MHZ instructions per tick) on a loop of
 * known length, once with few wraps and once with ~12 (the wrap logic). */
static int calibrate(void) {
    fmt_line l;
    counter_start(TICKS_FULL);
    uint64_t full = cal_ticks();
    counter_start(TICKS_SHORT);
    uint64_t wrapped = cal_ticks();
    counter_start(TICKS_FULL);
    fmt_init(&l, buf, sizeof buf);
    fmt_str(&l, "mcu: calibration: ");
    fmt_udec(&l, 2 * (uint64_t)CAL_N);
    fmt_str(&l, " instructions in ");
    fmt_udec(&l, full);
    fmt_str(&l, " ticks, ");
    fmt_ratio(&l, 2 * (uint64_t)CAL_N, full ? full : 1, 3);
    fmt_str(&l, " per tick (expected ");
    fmt_ratio(&l, 1000, MCU_MHZ, 3);
    fmt_str(&l, "); wrapping every 4096 ticks: ");
    fmt_udec(&l, wrapped);
    fmt_str(&l, " ticks\n");
    say(buf);
    uint64_t want = 2 * (uint64_t)CAL_N, got = MCU_INSTRUCTIONS(full);
    if ((got > want ? got - want : want - got) > want / 1000)
        return fail("instructions per tick are not 1000/MCU_MHZ: is QEMU run with -icount shift=0?");
    if ((wrapped > full ? wrapped - full : full - wrapped) > full / 1000)
        return fail("the count differs with SysTick wrapping: counter.c loses or doubles wraps");
    return 0;
}

int main(void) {
    fmt_line l;
    int8_t scores[CLASSES];
    say("mcu: board " MCU_BOARD " (" MCU_STR(MCU_MHZ) " MHz), model " MCU_STR(MCU_MODEL) "\n");
    if (mcu_image_pixels != PIXELS)
        return fail("the images file's pixels per image are not the model's");
    if (calibrate())
        return 1;
    uint64_t sum = 0, min = UINT64_MAX, max = 0;
    uint32_t model_stack = 0;
    uint32_t *lowest = stack_lowest_used(); /* the harness's deepest so far */
    for (unsigned i = 0; i < mcu_image_count; i++) {
        stack_paint();
        uint32_t *sp = stack_sp();
        uint64_t t0 = counter_ticks();
        int cls = SCORES(mcu_images[i], scores);
        uint64_t t = counter_ticks() - t0;
        uint32_t *low = stack_lowest_used();
        if (low <= __stack_bottom)
            return fail("the stack reached the bottom of its region: it may have overflowed");
        if ((uint32_t)(sp - low) * 4 > model_stack)
            model_stack = (uint32_t)(sp - low) * 4;
        if (low < lowest)
            lowest = low;
        sum += t;
        min = t < min ? t : min;
        max = t > max ? t : max;
        image_line(i, scores, cls);
    }
    if (!mcu_image_count)
        return fail("no images");
    fmt_init(&l, buf, sizeof buf);
    fmt_str(&l, "mcu: instructions per inference: mean ");
    fmt_ratio(&l, MCU_INSTRUCTIONS(sum), mcu_image_count, 0);
    fmt_str(&l, ", min ");
    fmt_udec(&l, MCU_INSTRUCTIONS(min));
    fmt_str(&l, ", max ");
    fmt_udec(&l, MCU_INSTRUCTIONS(max));
    fmt_str(&l, " (");
    fmt_udec(&l, mcu_image_count);
    fmt_str(&l, " images; +-1 tick = ");
    fmt_ratio(&l, 1000, MCU_MHZ, 1);
    fmt_str(&l, ")\n");
    say(buf);
#ifdef MCU_MACS
    fmt_init(&l, buf, sizeof buf);
    fmt_str(&l, "mcu: instructions per multiply-add: ");
    fmt_ratio(&l, MCU_INSTRUCTIONS(sum), (uint64_t)mcu_image_count * (MCU_MACS), 2);
    fmt_str(&l, " (" MCU_STR(MCU_MACS) " per inference)\n");
    say(buf);
#endif
    uint32_t *last = stack_lowest_used(); /* the printing since the last paint */
    if (last < lowest)
        lowest = last;
    fmt_init(&l, buf, sizeof buf);
    fmt_str(&l, "mcu: stack high-water: ");
    fmt_udec(&l, model_stack);
    fmt_str(&l, " bytes in " MCU_STR(SCORES) " (below its caller's sp), ");
    fmt_udec(&l, (uint32_t)(__stack_top - lowest) * 4);
    fmt_str(&l, " for the whole harness, of ");
    fmt_udec(&l, (uint32_t)(__stack_top - __stack_bottom) * 4);
    fmt_str(&l, "\n");
    say(buf);
    say("mcu: ok\n");
    return 0;
}

#endif
