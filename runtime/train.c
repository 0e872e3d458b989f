/* train.c: the training loop, evaluation and the trainer's command line.
 * One implementation, called by emitted trainers and by `lenetc train`. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lenet.h"

double lenet_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- options ----------------------------------------------------------- */

void lenet_train_usage(const char *prog, const lenet_model *m, void *stream) {
    const lenet_hparams *h = &m->defaults;
    fprintf(stream,
            "usage: %s [options]\n"
            "Trains %s on MNIST and reports accuracy on the 10,000 t10k test images.\n"
            "\n"
            "  --data DIR       MNIST directory (default: $LENETC_DATA, ./data/mnist,\n"
            "                   ../shared/mnist, then the same next to the executable)\n"
            "  --epochs N       passes over the training set (spec: %d)\n"
            "  --batch B        samples per update (spec: %d)\n"
            "  --lr X           learning rate (spec: %g)\n"
            "  --optimizer O    adam or sgd (spec: %s)\n"
            "  --seed S         seed for initialisation and shuffling (spec: %llu)\n"
            "  --limit N        train on the first N training images only\n"
            "  --no-shuffle     keep the training images in file order\n"
            "  --init FILE      start from weights in a safetensors file\n"
            "  --save FILE      write the trained weights as safetensors\n"
            "  --quiet          print only the final line\n"
            "  --help           this text\n"
            "\n"
            "Each epoch prints: epoch N/M loss=... train_acc=... test_acc=... time=...s\n",
            prog, m->name, h->epochs, h->batch, (double)h->lr,
            h->optimizer == LENET_ADAM ? "adam" : "sgd", (unsigned long long)h->seed);
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int lenet_parse_train_args(const lenet_model *m, int argc, char **argv, lenet_train_options *o,
                           const char *prog) {
    memset(o, 0, sizeof *o);
    o->h = m->defaults;
    o->shuffle = 1;
    int lr_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            lenet_train_usage(prog, m, stdout);
            return 1;
        }
        if (!strcmp(a, "--no-shuffle")) {
            o->shuffle = 0;
            continue;
        }
        if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        static const char *const valued[] = {"--data", "--epochs", "--batch", "--lr",   "--seed",
                                             "--limit", "--save",  "--init",  "--optimizer", NULL};
        int known = 0;
        for (int k = 0; valued[k]; k++)
            known |= !strcmp(a, valued[k]);
        if (!known) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return -1;
        }
        if (!v) {
            fprintf(stderr, "%s: %s needs a value\n", prog, a);
            return -1;
        }
        i++;
        int bad = 0;
        if (!strcmp(a, "--data"))
            o->data_dir = v;
        else if (!strcmp(a, "--save"))
            o->save_path = v;
        else if (!strcmp(a, "--init"))
            o->init_path = v;
        else if (!strcmp(a, "--epochs"))
            bad = parse_long(v, 1, 100000, &n) || ((o->h.epochs = (int)n), 0);
        else if (!strcmp(a, "--batch"))
            bad = parse_long(v, 1, 65536, &n) || ((o->h.batch = (int)n), 0);
        else if (!strcmp(a, "--seed"))
            bad = parse_long(v, 0, 2147483647L, &n) || ((o->h.seed = (uint64_t)n), 0);
        else if (!strcmp(a, "--limit"))
            bad = parse_long(v, 1, 100000000L, &o->limit);
        else if (!strcmp(a, "--optimizer")) {
            if (!strcmp(v, "adam") || !strcmp(v, "sgd"))
                o->h.optimizer = v[0] == 'a' ? LENET_ADAM : LENET_SGD;
            else
                bad = 1;
        } else if (!strcmp(a, "--lr")) {
            char *end;
            double x = strtod(v, &end);
            bad = !*v || *end || !isfinite(x) || x <= 0 || x > 1e3;
            if (!bad) {
                o->h.lr = (float)x;
                lr_given = 1;
            }
        }
        if (bad) {
            fprintf(stderr, "%s: bad value '%s' for %s (see --help)\n", prog, v, a);
            return -1;
        }
    }
    /* switching optimiser without --lr takes Keras' default rate for it */
    if (!lr_given && o->h.optimizer != m->defaults.optimizer)
        o->h.lr = o->h.optimizer == LENET_SGD ? 0.01f : 0.001f;
    return 0;
}

/* ---- evaluation -------------------------------------------------------- */

double lenet_evaluate(const lenet_model *m, const float *params, const lenet_dataset *ds,
                      float *acts) {
    const int T = m->tile;
    int idx[LENET_MAX_TILE], correct = 0;
    if (ds->count == 0 || T > LENET_MAX_TILE)
        return 0;
    for (int start = 0; start < ds->count; start += T) {
        int n = ds->count - start < T ? ds->count - start : T;
        for (int b = 0; b < n; b++)
            idx[b] = start + b;
        lenet_load_tile(m, ds, idx, n, acts);
        m->forward(params, acts);
        for (int b = 0; b < n; b++)
            correct += lenet_argmax_lane(acts + m->logits_offset, m->n_classes, T, b) ==
                       ds->labels[start + b];
    }
    return (double)correct / ds->count;
}

/* ---- training ---------------------------------------------------------- */

int lenet_trainer_init(lenet_trainer *t, const lenet_model *m, const lenet_hparams *h) {
    memset(t, 0, sizeof *t);
    if (m->tile < 1 || m->tile > LENET_MAX_TILE)
        return -1;
    t->m = m;
    t->h = *h;
    const size_t P = m->n_params;
    t->mem = calloc(4 * P + 2 * m->act_floats, sizeof *t->mem);
    if (!t->mem)
        return -1;
    t->params = t->mem;
    t->grads = t->mem + P;
    t->adam_m = t->mem + 2 * P;
    t->adam_v = t->mem + 3 * P;
    t->acts = t->mem + 4 * P;
    t->dacts = t->acts + m->act_floats;
    lenet_init_params(m, t->params, h->seed);
    return 0;
}

void lenet_trainer_free(lenet_trainer *t) {
    free(t->mem);
    memset(t, 0, sizeof *t);
}

double lenet_trainer_step(lenet_trainer *t, const lenet_dataset *ds, const int *idx, int n,
                          int *correct) {
    const lenet_model *m = t->m;
    const int T = m->tile;
    double loss = 0;
    memset(t->grads, 0, m->n_params * sizeof *t->grads);
    for (int s = 0; s < n; s += T) {
        const int k = n - s < T ? n - s : T;
        uint8_t labels[LENET_MAX_TILE];
        for (int b = 0; b < k; b++)
            labels[b] = ds->labels[idx[s + b]];
        lenet_load_tile(m, ds, idx + s, k, t->acts);
        m->forward(t->params, t->acts);
        loss += lenet_softmax_xent(t->acts + m->logits_offset, m->n_classes, T, k, labels,
                                   1.0f / n, t->dacts + m->logits_offset, correct);
        m->backward(t->params, t->acts, t->dacts, t->grads);
    }
    t->step++;
    if (t->h.optimizer == LENET_ADAM)
        lenet_adam_step(t->params, t->grads, t->adam_m, t->adam_v, m->n_params, &t->h, t->step);
    else
        lenet_sgd_step(t->params, t->grads, m->n_params, t->h.lr);
    return loss;
}

static int check_data(const lenet_model *m, const lenet_dataset *ds, const char *what) {
    if (ds->rows != m->data_h || ds->cols != m->data_w || m->data_c != 1) {
        fprintf(stderr, "error: %s expects %dx%dx%d images; the %s set has %dx%dx1\n", m->name,
                m->data_h, m->data_w, m->data_c, what, ds->rows, ds->cols);
        return -1;
    }
    if (m->n_classes < 10) {
        fprintf(stderr, "error: %s gives %d class scores; the %s set has 10 classes\n", m->name,
                m->n_classes, what);
        return -1;
    }
    return 0;
}

int lenet_train(const lenet_model *m, const lenet_train_options *o) {
    lenet_error err = {{0}};
    lenet_dataset train = {0}, test = {0};
    lenet_trainer tr = {0};
    int rc = 1;
    int *order = NULL;
    if (lenet_load_mnist(o->data_dir, "train", &train, &err) ||
        lenet_load_mnist(o->data_dir, "t10k", &test, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        goto out;
    }
    if (check_data(m, &train, "training") || check_data(m, &test, "test"))
        goto out;
    const int B = o->h.batch;
    const int N = o->limit && o->limit < train.count ? (int)o->limit : train.count;
    order = malloc(sizeof *order * (size_t)train.count);
    if (!order || lenet_trainer_init(&tr, m, &o->h)) {
        fprintf(stderr, "error: out of memory\n");
        goto out;
    }
    if (o->init_path && lenet_load_safetensors(m, tr.params, o->init_path, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        goto out;
    }
    for (int i = 0; i < train.count; i++)
        order[i] = i;
    lenet_rng shuffle_rng;
    lenet_rng_seed(&shuffle_rng, o->h.seed ^ 0x53485546464c45ull); /* "SHUFFLE" */
    if (!o->quiet)
        printf("%s: %zu params; train on %d images, test on %d; batch %d, %s lr %g, seed %llu\n",
               m->name, m->n_params, N, test.count, B,
               o->h.optimizer == LENET_ADAM ? "adam" : "sgd", (double)o->h.lr,
               (unsigned long long)o->h.seed);
    fflush(stdout);

    for (int epoch = 1; epoch <= o->h.epochs; epoch++) {
        double t0 = lenet_seconds(), loss_sum = 0;
        int correct = 0;
        if (o->shuffle)
            for (int i = N - 1; i > 0; i--) {
                int j = (int)lenet_rng_below(&shuffle_rng, (uint32_t)i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        for (int start = 0; start < N; start += B) {
            const int nb = N - start < B ? N - start : B;
            loss_sum += lenet_trainer_step(&tr, &train, order + start, nb, &correct);
            if (!isfinite(loss_sum)) {
                fprintf(stderr, "error: the loss is not finite at epoch %d step %ld; stopping\n",
                        epoch, tr.step);
                goto out;
            }
        }
        double test_acc = lenet_evaluate(m, tr.params, &test, tr.acts);
        if (!o->quiet || epoch == o->h.epochs)
            printf("epoch %d/%d loss=%.4f train_acc=%.4f test_acc=%.4f time=%.2fs\n", epoch,
                   o->h.epochs, loss_sum / N, (double)correct / N, test_acc, lenet_seconds() - t0);
        fflush(stdout);
    }
    if (o->save_path) {
        if (lenet_save_safetensors(m, tr.params, o->save_path, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            goto out;
        }
        if (!o->quiet)
            printf("saved %s\n", o->save_path);
    }
    rc = 0;
out:
    lenet_free_dataset(&train);
    lenet_free_dataset(&test);
    lenet_trainer_free(&tr);
    free(order);
    return rc;
}

int lenet_train_main(int argc, char **argv, const lenet_model *m) {
    lenet_train_options o;
    int r = lenet_parse_train_args(m, argc, argv, &o, argv[0]);
    if (r)
        return r > 0 ? 0 : 2;
    return lenet_train(m, &o);
}
