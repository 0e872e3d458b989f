/* threads.c: a persistent set of worker threads for the training loop.
 *
 * Threads are created once, with the trainer; each step hands every worker
 * the same job and waits for all of them; a job may hold barriers. The caller's thread is worker 0,
 * so one thread means no threads at all. Which worker does which part of a
 * job is fixed by its number, never by timing: results do not depend on
 * scheduling.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "lenet_core.h"

/* A step takes about a millisecond and its serial part tens of microseconds:
 * waking a sleeping thread costs as much, so waiters spin a while (about
 * half a millisecond) before they sleep. */
#define SPINS 20000

struct lenet_threads {
    int n;                     /* workers, including the caller */
    pthread_t *threads;        /* n - 1 of them */
    pthread_mutex_t lock;      /* guards sleeping on `changed` */
    pthread_cond_t changed;    /* any counter below moved */
    atomic_ulong round;        /* bumped to start a job */
    atomic_ulong done;         /* bumped when the last worker finishes it */
    atomic_int running;        /* workers still in this job */
    atomic_ulong phase;        /* bumped when a barrier opens */
    atomic_int arrived;        /* workers at the current barrier */
    atomic_int quit;
    lenet_threads_fn fn;
    void *ctx;
};

typedef struct {
    lenet_threads *set;
    int id;
} worker_arg;

static void pause_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until *v != old: spins, then sleeps. */
static void wait_change(lenet_threads *set, atomic_ulong *v, unsigned long old) {
    for (int i = 0; i < SPINS; i++) {
        if (atomic_load_explicit(v, memory_order_acquire) != old)
            return;
        pause_cpu();
    }
    pthread_mutex_lock(&set->lock);
    while (atomic_load(v) == old)
        pthread_cond_wait(&set->changed, &set->lock);
    pthread_mutex_unlock(&set->lock);
}

static void bump(lenet_threads *set, atomic_ulong *v) {
    pthread_mutex_lock(&set->lock);
    atomic_fetch_add(v, 1);
    pthread_cond_broadcast(&set->changed);
    pthread_mutex_unlock(&set->lock);
}

static void finish(lenet_threads *set) {
    if (atomic_fetch_sub(&set->running, 1) == 1)
        bump(set, &set->done);
}

static void *worker_main(void *p) {
    worker_arg a = *(worker_arg *)p;
    free(p);
    lenet_threads *set = a.set;
    unsigned long seen = 0;
    for (;;) {
        wait_change(set, &set->round, seen);
        seen++;
        if (atomic_load(&set->quit))
            return NULL;
        set->fn(set->ctx, a.id, set->n);
        finish(set);
    }
}

void lenet_threads_barrier(lenet_threads *set) {
    if (!set || set->n == 1)
        return;
    unsigned long phase = atomic_load(&set->phase);
    if (atomic_fetch_add(&set->arrived, 1) == set->n - 1) {
        atomic_store(&set->arrived, 0);
        bump(set, &set->phase);
    } else {
        wait_change(set, &set->phase, phase);
    }
}

int lenet_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > LENET_MAX_THREADS ? LENET_MAX_THREADS : (int)n;
}

lenet_threads *lenet_threads_create(int n) {
    lenet_threads *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    set->n = n < 1 ? 1 : n;
    pthread_mutex_init(&set->lock, NULL);
    pthread_cond_init(&set->changed, NULL);
    if (set->n > 1) {
        set->threads = calloc((size_t)set->n - 1, sizeof *set->threads);
        if (!set->threads) {
            set->n = 1;
            lenet_threads_free(set);
            return NULL;
        }
    }
    for (int i = 1; i < set->n; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) {
            a->set = set;
            a->id = i;
        }
        if (!a || pthread_create(&set->threads[i - 1], NULL, worker_main, a) != 0) {
            free(a);
            set->n = i; /* run with the workers that started */
            break;
        }
    }
    return set;
}

int lenet_threads_size(const lenet_threads *set) { return set ? set->n : 1; }

void lenet_threads_run(lenet_threads *set, lenet_threads_fn fn, void *ctx) {
    if (!set || set->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    unsigned long done = atomic_load(&set->done);
    set->fn = fn;
    set->ctx = ctx;
    atomic_store(&set->running, set->n);
    bump(set, &set->round); /* publishes fn and ctx (release) */
    fn(ctx, 0, set->n);
    finish(set);
    wait_change(set, &set->done, done);
}

void lenet_threads_free(lenet_threads *set) {
    if (!set)
        return;
    atomic_store(&set->quit, 1);
    bump(set, &set->round);
    for (int i = 1; i < set->n; i++)
        pthread_join(set->threads[i - 1], NULL);
    free(set->threads);
    pthread_mutex_destroy(&set->lock);
    pthread_cond_destroy(&set->changed);
    free(set);
}
