/* pool.c: a persistent pool of worker threads for the training loop.
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

#include "lenet.h"

/* A step takes about a millisecond and its serial part tens of microseconds:
 * waking a sleeping thread costs as much, so waiters spin a while (about
 * half a millisecond) before they sleep. */
#define SPINS 20000

struct lenet_pool {
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
    lenet_pool_fn fn;
    void *ctx;
};

typedef struct {
    lenet_pool *pool;
    int id;
} worker_arg;

static void pause_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until *v != old: spins, then sleeps. */
static void wait_change(lenet_pool *pool, atomic_ulong *v, unsigned long old) {
    for (int i = 0; i < SPINS; i++) {
        if (atomic_load_explicit(v, memory_order_acquire) != old)
            return;
        pause_cpu();
    }
    pthread_mutex_lock(&pool->lock);
    while (atomic_load(v) == old)
        pthread_cond_wait(&pool->changed, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

static void bump(lenet_pool *pool, atomic_ulong *v) {
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(v, 1);
    pthread_cond_broadcast(&pool->changed);
    pthread_mutex_unlock(&pool->lock);
}

static void finish(lenet_pool *pool) {
    if (atomic_fetch_sub(&pool->running, 1) == 1)
        bump(pool, &pool->done);
}

static void *worker_main(void *p) {
    worker_arg a = *(worker_arg *)p;
    free(p);
    lenet_pool *pool = a.pool;
    unsigned long seen = 0;
    for (;;) {
        wait_change(pool, &pool->round, seen);
        seen++;
        if (atomic_load(&pool->quit))
            return NULL;
        pool->fn(pool->ctx, a.id, pool->n);
        finish(pool);
    }
}

void lenet_pool_barrier(lenet_pool *pool) {
    if (!pool || pool->n == 1)
        return;
    unsigned long phase = atomic_load(&pool->phase);
    if (atomic_fetch_add(&pool->arrived, 1) == pool->n - 1) {
        atomic_store(&pool->arrived, 0);
        bump(pool, &pool->phase);
    } else {
        wait_change(pool, &pool->phase, phase);
    }
}

int lenet_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > LENET_MAX_THREADS ? LENET_MAX_THREADS : (int)n;
}

lenet_pool *lenet_pool_create(int n) {
    lenet_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->n = n < 1 ? 1 : n;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->changed, NULL);
    if (pool->n > 1) {
        pool->threads = calloc((size_t)pool->n - 1, sizeof *pool->threads);
        if (!pool->threads) {
            pool->n = 1;
            lenet_pool_free(pool);
            return NULL;
        }
    }
    for (int i = 1; i < pool->n; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) {
            a->pool = pool;
            a->id = i;
        }
        if (!a || pthread_create(&pool->threads[i - 1], NULL, worker_main, a) != 0) {
            free(a);
            pool->n = i; /* run with the workers that started */
            break;
        }
    }
    return pool;
}

int lenet_pool_size(const lenet_pool *pool) { return pool ? pool->n : 1; }

void lenet_pool_run(lenet_pool *pool, lenet_pool_fn fn, void *ctx) {
    if (!pool || pool->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    unsigned long done = atomic_load(&pool->done);
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->running, pool->n);
    bump(pool, &pool->round); /* publishes fn and ctx (release) */
    fn(ctx, 0, pool->n);
    finish(pool);
    wait_change(pool, &pool->done, done);
}

void lenet_pool_free(lenet_pool *pool) {
    if (!pool)
        return;
    atomic_store(&pool->quit, 1);
    bump(pool, &pool->round);
    for (int i = 1; i < pool->n; i++)
        pthread_join(pool->threads[i - 1], NULL);
    free(pool->threads);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->changed);
    free(pool);
}
