/* meter.c: what a training run shows while it runs.
 *
 * On a terminal, a live bar per epoch, as Keras' fit draws it:
 *   Epoch 1/2 [=========>....................] 156/469 loss 0.4123 - 98.1k img/s - ETA 0.4s
 * redrawn at most ten times a second and replaced by the epoch's line when
 * it ends; anywhere else (a pipe, a CI log) only the epoch lines. --log
 * FILE.csv gets a row per step and per epoch, for plotting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lenet_app.h"
#include "lenet_core.h"

#define BAR 30

int lenet_meter_open(lenet_meter *mt, int quiet, const char *log_path, lenet_error *err) {
    memset(mt, 0, sizeof *mt);
    mt->tty = !quiet && isatty(fileno(stdout));
    mt->start = lenet_seconds();
    if (log_path) {
        mt->log = fopen(log_path, "w");
        if (!mt->log) {
            lenet_set_error(err, "%s: cannot write: %s", log_path, strerror(errno));
            return -1;
        }
        fputs("kind,epoch,step,images,loss,train_acc,val_loss,val_acc,test_loss,test_acc,"
              "seconds\n", mt->log);
    }
    return 0;
}

static void draw(lenet_meter *mt, int epoch, int epochs, int done, int total, double loss,
                 double secs) {
    char bar[BAR + 1];
    int fill = total ? (int)((long)BAR * done / total) : BAR;
    for (int i = 0; i < BAR; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : '.';
    bar[BAR] = '\0';
    double rate = secs > 0 ? done / secs : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    printf("\rEpoch %d/%d [%s] %d/%d loss %.4f - %.1fk img/s - ETA %.1fs\033[K", epoch, epochs,
           bar, done, total, loss, rate / 1000, eta);
    fflush(stdout);
}

void lenet_meter_step(lenet_meter *mt, int epoch, int epochs, long step, int done, int total,
                      double batch_loss, int batch_n, int batch_correct, double epoch_loss,
                      double epoch_secs) {
    double now = lenet_seconds();
    if (mt->log)
        fprintf(mt->log, "step,%d,%ld,%d,%.6f,%.6f,,,,,%.3f\n", epoch, step, done,
                batch_loss / batch_n, (double)batch_correct / batch_n, now - mt->start);
    if (mt->tty && (now - mt->last_draw >= 0.1 || done == total)) {
        draw(mt, epoch, epochs, done, total, epoch_loss, epoch_secs);
        mt->last_draw = now;
        mt->drawn = 1;
    }
}

/* a score, or nothing for one not taken */
static void field(FILE *f, double v) {
    if (v == v)
        fprintf(f, "%.6f", v);
    fputc(',', f);
}

void lenet_meter_epoch(lenet_meter *mt, int epoch, long step, int images, const lenet_scores *s) {
    if (mt->drawn) { /* the epoch line takes the bar's place */
        printf("\r\033[K");
        mt->drawn = 0;
    }
    if (mt->log) {
        fprintf(mt->log, "epoch,%d,%ld,%d,", epoch, step, images);
        const double v[] = {s->loss, s->train_acc, s->val_loss, s->val_acc, s->test_loss,
                            s->test_acc};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            field(mt->log, v[i]);
        fprintf(mt->log, "%.3f\n", lenet_seconds() - mt->start);
        fflush(mt->log);
    }
}

int lenet_meter_close(lenet_meter *mt, lenet_error *err, const char *log_path) {
    int rc = 0;
    if (mt->log && (fclose(mt->log) != 0)) {
        lenet_set_error(err, "%s: write failed: %s", log_path, strerror(errno));
        rc = -1;
    }
    mt->log = NULL;
    return rc;
}
