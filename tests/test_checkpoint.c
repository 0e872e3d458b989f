/* test_checkpoint.c: training runs lose nothing.
 *
 * A run killed with SIGKILL at random points and resumed from its checkpoint
 * ends with the same weights, bit for bit, as a run never interrupted; a
 * non-finite loss stops the run and leaves the last checkpoint as it was;
 * a checkpoint is refused by a run with other options.
 *
 * Runs are the real trainer (lenet_train over the gcc-built lenet5) in
 * child processes, so that a kill is a real kill.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lenetc.h"
#include "tests.h"

extern const lenet_model lenet5_model;

static void path_in_tmp(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", test_tmpdir(), name);
}

/* Starts lenet_train(lenet5, argv) in a child whose stdout and stderr go to
 * log (appended). */
static pid_t start_training(char **argv, const char *log) {
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        int argc = 0;
        while (argv[argc])
            argc++;
        lenet_train_options o;
        if (lenet_parse_train_args(&lenet5_model, argc, argv, &o, "trainer") != 0)
            _exit(2);
        _exit(lenet_train(&lenet5_model, &o));
    }
    return pid;
}

static int finish(pid_t pid) {
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

static char *slurp(const char *path, size_t *len) {
    Diag d = {.file = path};
    char *s = read_file(path, 1u << 28, len, &d);
    ck_assert_msg(s != NULL, "%s", d.msg);
    return s;
}

static struct timespec mtime_of(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return (struct timespec){0, 0};
    return st.st_mtim;
}

/* Three epochs of 2,560 images, batch 128, two threads; checkpoints every
 * 3 steps; with the spec's Adam (_i = 0), then SGD with momentum and weight
 * decay (its momentum buffer must be restored as Adam's moments are), then
 * Adam under a onecycle schedule (rate and beta1 set by the step). */
#define RUN_ARGS                                                                               \
    "trainer", "--limit", "2560", "--epochs", "3", "--threads", "2", "--quiet", "--optimizer",   \
        _i == 1 ? "sgd" : "adam", "--momentum", _i == 1 ? "0.9" : "0", "--weight-decay",         \
        _i == 1 ? "0.001" : "0", "--schedule", _i == 2 ? "onecycle" : "constant"

START_TEST(test_kill_and_resume_bit_identical) {
    char ref[512], out[512], ck[512], log[512];
    path_in_tmp(ref, sizeof ref, "ck_ref.safetensors");
    path_in_tmp(out, sizeof out, "ck_out.safetensors");
    path_in_tmp(ck, sizeof ck, "ck_state.safetensors");
    path_in_tmp(log, sizeof log, "ck_log.txt");
    unlink(ck);
    unlink(out);
    unlink(log);
    char *ref_argv[] = {RUN_ARGS, "--save", ref, NULL};
    ck_assert_int_eq(finish(start_training(ref_argv, log)), 0);

    /* kill -9 three times, each at a random moment after the run has written
     * a new checkpoint, resuming each time */
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int kills = 0;
    char delays[128] = "";
    for (int round = 0; round < 4; round++) {
        int resume = access(ck, F_OK) == 0;
        char *argv[] = {RUN_ARGS, "--save", out, "--checkpoint", ck, "--checkpoint-every", "3",
                        resume ? "--resume" : NULL, ck, NULL};
        struct timespec before = mtime_of(ck);
        pid_t pid = start_training(argv, log);
        if (round == 3) { /* the last one runs to the end */
            ck_assert_int_eq(finish(pid), 0);
            break;
        }
        for (int ms = 0; ms < 120000; ms++) { /* until a new checkpoint */
            struct timespec now = mtime_of(ck);
            if (now.tv_sec != before.tv_sec || now.tv_nsec != before.tv_nsec)
                break;
            usleep(1000);
        }
        int delay = rand() % 40000; /* microseconds */
        usleep((useconds_t)delay);
        kill(pid, SIGKILL);
        int st = finish(pid);
        kills += st == -SIGKILL;
        snprintf(delays + strlen(delays), sizeof delays - strlen(delays), " %d us", delay);
    }
    ck_assert_msg(kills >= 1, "no run was killed before it ended (delays:%s)", delays);
    size_t a, b;
    char *x = slurp(ref, &a), *y = slurp(out, &b);
    ck_assert_msg(a == b && memcmp(x, y, a) == 0,
                  "weights after %d kills (delays:%s) differ from the uninterrupted run's", kills,
                  delays);
    free(x);
    free(y);
}
END_TEST

/* SGD at rate 1000 overflows within a few steps: the run must stop with a
 * message and exit 1, and the checkpoint of the last good step must load,
 * with finite weights. */
START_TEST(test_non_finite_loss_stops_and_keeps_checkpoint) {
    char ck[512], log[512];
    path_in_tmp(ck, sizeof ck, "ck_nan.safetensors");
    path_in_tmp(log, sizeof log, "ck_nan_log.txt");
    unlink(ck);
    unlink(log);
    char *argv[] = {"trainer", "--limit", "2560", "--epochs", "2", "--optimizer", "sgd",
                    "--lr", "1000", "--checkpoint", ck, "--checkpoint-every", "1", NULL};
    ck_assert_int_eq(finish(start_training(argv, log)), 1);
    size_t len;
    char *text = slurp(log, &len);
    ck_assert_msg(strstr(text, "error: the loss is not finite at epoch 1 step ") != NULL, "%s",
                  text);
    ck_assert_msg(strstr(text, "the last checkpoint is ") != NULL, "%s", text);
    free(text);

    lenet_train_options o;
    ck_assert_int_eq(lenet_parse_train_args(&lenet5_model, 13, argv, &o, "trainer"), 0);
    o.threads = 0;
    const lenet_checkpoint_info info = lenet_train_checkpoint_info(&o);
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, &lenet5_model, &o.h, 0), 0);
    lenet_progress p;
    lenet_error err;
    ck_assert_msg(lenet_load_checkpoint(&t, &info, &p, ck, &err) == 0, "%s", err.msg);
    ck_assert_int_ge(t.step, 1);
    for (size_t i = 0; i < lenet5_model.n_params; i++)
        ck_assert_msg(isfinite(t.params[i]) && isfinite(t.adam_m[i]), "param %zu", i);
    lenet_trainer_free(&t);
}
END_TEST

/* The trainer a checkpoint goes into must be set up as the one that wrote it. */
START_TEST(test_resume_refuses_other_options) {
    char ck[512];
    path_in_tmp(ck, sizeof ck, "ck_opts.safetensors");
    char *argv[] = {"trainer", "--threads", "2", NULL};
    lenet_train_options o;
    ck_assert_int_eq(lenet_parse_train_args(&lenet5_model, 3, argv, &o, "trainer"), 0);
    const lenet_checkpoint_info info = lenet_train_checkpoint_info(&o);
    lenet_trainer t;
    ck_assert_int_eq(lenet_trainer_init(&t, &lenet5_model, &o.h, 2), 0);
    t.step = 7;
    lenet_progress p = {.epoch = 2, .next = 256, .loss_sum = 12.5, .correct = 200};
    lenet_rng_seed(&p.rng, 5);
    lenet_error err;
    ck_assert_msg(lenet_save_checkpoint(&t, &info, &p, ck, &err) == 0, "%s", err.msg);

    /* the same options load it back exactly */
    lenet_trainer u;
    ck_assert_int_eq(lenet_trainer_init(&u, &lenet5_model, &o.h, 2), 0);
    lenet_progress q;
    ck_assert_msg(lenet_load_checkpoint(&u, &info, &q, ck, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(u.step, 7);
    ck_assert_int_eq(q.epoch, 2);
    ck_assert_int_eq(q.next, 256);
    ck_assert_int_eq(q.correct, 200);
    ck_assert_double_eq(q.loss_sum, 12.5);
    ck_assert(memcmp(&q.rng, &p.rng, sizeof p.rng) == 0);
    ck_assert(memcmp(u.params, t.params, lenet5_model.n_params * sizeof(float)) == 0);

    /* other options are refused, naming the difference */
    lenet_checkpoint_info other = info;
    other.h.batch = 64;
    float before = u.params[0];
    u.params[0] = 42;
    ck_assert_int_eq(lenet_load_checkpoint(&u, &other, &q, ck, &err), -1);
    ck_assert_str_eq(err.msg + strlen(ck),
                     ": written with --batch 128, but this run has --batch 64: resume with the "
                     "same options");
    ck_assert(u.params[0] == 42); /* untouched */
    /* numbers as the user wrote them, options as the command line spells them */
    static const struct {
        const char *args[4], *says;
    } others[] = {
        {{"--lr", "0.0005"}, "written with --lr 0.001, but this run has --lr 0.0005"},
        {{"--limit", "3000"}, "written with no --limit, but this run has --limit 3000"},
        {{"--val", "0.1"}, "written with no --val, but this run has --val 0.1"},
        {{"--optimizer", "sgd", "--momentum", "0.9"},
         "written with --optimizer adam, but this run has --optimizer sgd"},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *av[7] = {"trainer", "--threads", "2"};
        int ac = 3;
        for (int k = 0; k < 4 && others[i].args[k]; k++)
            av[ac++] = (char *)others[i].args[k];
        lenet_train_options changed;
        ck_assert_int_eq(lenet_parse_train_args(&lenet5_model, ac, av, &changed, "trainer"), 0);
        const lenet_checkpoint_info changed_info = lenet_train_checkpoint_info(&changed);
        ck_assert_int_eq(lenet_load_checkpoint(&u, &changed_info, &q, ck, &err), -1);
        ck_assert_msg(strstr(err.msg, others[i].says), "%s", err.msg);
    }

    (void)before;
    /* the thread count is not part of a run: another one loads it */
    lenet_trainer v;
    ck_assert_int_eq(lenet_trainer_init(&v, &lenet5_model, &o.h, 1), 0);
    ck_assert_msg(lenet_load_checkpoint(&v, &info, &q, ck, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(v.params, t.params, lenet5_model.n_params * sizeof(float)) == 0);

    /* plain weights are not a checkpoint */
    char w[512];
    path_in_tmp(w, sizeof w, "ck_plain.safetensors");
    ck_assert_int_eq(lenet_save_safetensors(&lenet5_model, t.params, w, &err), 0);
    ck_assert_int_eq(lenet_load_checkpoint(&u, &info, &q, w, &err), -1);
    ck_assert_msg(strstr(err.msg, "unexpected tensors") || strstr(err.msg, "missing tensors"),
                  "%s", err.msg);

    /* and a truncated checkpoint is an error, not a crash */
    size_t len;
    char *bytes = slurp(ck, &len);
    Diag d = {.file = ck};
    ck_assert_int_eq(write_file_atomic(ck, bytes, len / 2, &d), 0);
    ck_assert_int_eq(lenet_load_checkpoint(&u, &info, &q, ck, &err), -1);
    ck_assert_msg(strstr(err.msg, "past end of data") || strstr(err.msg, "exceeds"), "%s",
                  err.msg);
    free(bytes);
    lenet_trainer_free(&t);
    lenet_trainer_free(&u);
    lenet_trainer_free(&v);
}
END_TEST

/* A run checkpointed with 3 threads after its first epoch, resumed with 1
 * thread and told to go on to 3 epochs, ends with the weights of one run of
 * 3 epochs on 2 threads, bit for bit. */
START_TEST(test_resume_other_threads_more_epochs) {
    char ref[512], out[512], ck[512], log[512];
    path_in_tmp(ref, sizeof ref, "ckt_ref.safetensors");
    path_in_tmp(out, sizeof out, "ckt_out.safetensors");
    path_in_tmp(ck, sizeof ck, "ckt_state.safetensors");
    path_in_tmp(log, sizeof log, "ckt_log.txt");
    unlink(ck);
#define ARGS(threads, epochs) "trainer", "--limit", "2560", "--quiet", "--threads", threads, \
        "--epochs", epochs
    char *ref_argv[] = {ARGS("2", "3"), "--save", ref, NULL};
    ck_assert_int_eq(finish(start_training(ref_argv, log)), 0);
    char *first[] = {ARGS("3", "1"), "--checkpoint", ck, NULL};
    ck_assert_int_eq(finish(start_training(first, log)), 0);
    char *rest[] = {ARGS("1", "3"), "--checkpoint", ck, "--resume", ck, "--save", out, NULL};
    ck_assert_int_eq(finish(start_training(rest, log)), 0);
#undef ARGS
    size_t a, b;
    char *x = slurp(ref, &a), *y = slurp(out, &b);
    ck_assert_msg(a == b && memcmp(x, y, a) == 0,
                  "3 threads then 1 thread differ from 2 threads throughout");
    free(x);
    free(y);
}
END_TEST

Suite *checkpoint_suite(void) {
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_tags(tc, "slow"); /* trains on MNIST: left to make test */
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_kill_and_resume_bit_identical, 0, 3);
    tcase_add_test(tc, test_resume_other_threads_more_epochs);
    tcase_add_test(tc, test_non_finite_loss_stops_and_keeps_checkpoint);
    tcase_add_test(tc, test_resume_refuses_other_options);
    suite_add_tcase(s, tc);
    return s;
}
