/* pool.c: a persistent pool of worker threads for the training loop.
 *
 * Threads are created once, with the trainer; each step hands every worker
 * the same job and waits for all of them. The caller's thread is worker 0,
 * so one thread means no threads at all. Which worker does which part of a
 * job is fixed by its number, never by timing: results do not depend on
 * scheduling.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "lenet.h"

struct lenet_pool {
    int n;                /* workers, including the caller */
    pthread_t *threads;   /* n - 1 of them */
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    unsigned long round;  /* bumped for every job */
    int running;          /* workers still busy with this round */
    int quit;
    lenet_pool_fn fn;
    void *ctx;
};

typedef struct {
    lenet_pool *pool;
    int id;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg a = *(worker_arg *)p;
    free(p);
    lenet_pool *pool = a.pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->round == seen && !pool->quit)
            pthread_cond_wait(&pool->go, &pool->lock);
        if (pool->quit)
            break;
        seen = pool->round;
        lenet_pool_fn fn = pool->fn;
        void *ctx = pool->ctx;
        pthread_mutex_unlock(&pool->lock);
        fn(ctx, a.id, pool->n);
        pthread_mutex_lock(&pool->lock);
        if (--pool->running == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
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
    pthread_cond_init(&pool->go, NULL);
    pthread_cond_init(&pool->done, NULL);
    if (pool->n > 1) {
        pool->threads = calloc((size_t)pool->n - 1, sizeof *pool->threads);
        if (!pool->threads) {
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
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->running = pool->n - 1;
    pool->round++;
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->lock);
    fn(ctx, 0, pool->n);
    pthread_mutex_lock(&pool->lock);
    while (pool->running > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

void lenet_pool_free(lenet_pool *pool) {
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->quit = 1;
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n && pool->threads; i++)
        pthread_join(pool->threads[i - 1], NULL);
    free(pool->threads);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->go);
    pthread_cond_destroy(&pool->done);
    free(pool);
}
