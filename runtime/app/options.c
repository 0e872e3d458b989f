/* options.c: the one reader of command lines, for lenetc and every runtime
 * command (the trainer, eval, predict).
 *
 * A command describes its options in a table; lenet_read_args walks argv
 * once, stores each value where its entry says, and reports what is wrong
 * in one line and one wording everywhere, then where the help is:
 *   PROG: unknown option '--x'
 *   PROG: --threads needs a value
 *   PROG: --threads takes a number from 1 to 64, not 'x'
 *   try 'PROG --help'
 * An option may be given again: the last one counts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lenet_app.h"

static const lenet_option *find(const lenet_option *o, const char *arg) {
    for (; o->name; o++)
        if (!strcmp(arg, o->name) || (o->kind == LENET_OPT_HELP && !strcmp(arg, "-h")))
            return o;
    return NULL;
}

/* Stores v as o's value: 0, or -1 if o does not take it. */
static int store(const lenet_option *o, const char *v) {
    char *end;
    switch (o->kind) {
    case LENET_OPT_INT:
    case LENET_OPT_LONG: {
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno || n < o->lo || n > o->hi)
            return -1;
        if (o->kind == LENET_OPT_INT)
            *(int *)o->dest = (int)n;
        else
            *(long *)o->dest = n;
        return 0;
    }
    case LENET_OPT_REAL: {
        double x = strtod(v, &end);
        if (!*v || *end || !isfinite(x) || x < o->lo || (x == o->lo && !o->lo_included) ||
            x > o->hi)
            return -1;
        *(double *)o->dest = x;
        return 0;
    }
    case LENET_OPT_STRING:
        if (o->suffixes) { /* a name that ends in one of them, in any case */
            const char *const *x = o->suffixes;
            const size_t len = strlen(v);
            while (*x && !(len > strlen(*x) && !strcasecmp(v + len - strlen(*x), *x)))
                x++;
            if (!*x)
                return -1;
        }
        *(const char **)o->dest = v;
        return 0;
    case LENET_OPT_CHOICE:
        for (const lenet_choice *c = o->choices; c->name; c++)
            if (!strcmp(v, c->name)) {
                *(int *)o->dest = c->value;
                return 0;
            }
        return -1;
    default:
        return -1;
    }
}

/* What o takes, for a message: its own words, or "a number from 1 to 64",
 * "a number over 0 and at most 1000", "adam or sgd", "a, b or c". */
static const char *takes(const lenet_option *o, char *buf, size_t cap) {
    if (o->takes)
        return o->takes;
    if (o->kind == LENET_OPT_REAL) {
        snprintf(buf, cap, o->lo_included ? "a number from %g to %g" : "a number over %g and at most %g",
                 o->lo, o->hi);
    } else if (o->kind == LENET_OPT_STRING && o->suffixes) {
        snprintf(buf, cap, "a file name ending in ");
        for (const char *const *x = o->suffixes; *x; x++) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "%s%s", x == o->suffixes ? "" : x[1] ? ", " : " or ", *x);
        }
    } else if (o->kind == LENET_OPT_CHOICE) {
        buf[0] = '\0';
        for (const lenet_choice *c = o->choices; c->name; c++) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "%s%s", c == o->choices ? "" : c[1].name ? ", " : " or ",
                     c->name);
        }
    } else {
        snprintf(buf, cap, "a number from %.0f to %.0f", o->lo, o->hi);
    }
    return buf;
}

int lenet_read_args(const lenet_command *cmd, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const lenet_option *o = find(cmd->options, a);
        if (!o) {
            const int is_option = a[0] == '-' && a[1];
            if (cmd->operand && (!is_option || cmd->pass_unknown)) {
                if (cmd->operand(cmd->ctx, argv, i))
                    return LENET_ARGS_ERROR;
                continue;
            }
            fprintf(stderr, "%s: unknown option '%s'\n", cmd->prog, a);
            lenet_try_help(cmd->prog);
            return LENET_ARGS_UNKNOWN;
        }
        if (o->kind == LENET_OPT_HELP)
            return LENET_ARGS_HELP;
        if (o->kind == LENET_OPT_VERSION)
            return LENET_ARGS_VERSION;
        if (o->kind == LENET_OPT_FLAG) {
            *(int *)o->dest = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs %s\n", cmd->prog, a, o->needs ? o->needs : "a value");
            lenet_try_help(cmd->prog);
            return LENET_ARGS_ERROR;
        }
        const char *v = argv[++i];
        if (store(o, v)) {
            char buf[256];
            fprintf(stderr, "%s: %s takes %s, not '%s'\n", cmd->prog, a,
                    takes(o, buf, sizeof buf), v);
            lenet_try_help(cmd->prog);
            return LENET_ARGS_ERROR;
        }
    }
    return 0;
}

void lenet_try_help(const char *prog) {
    /* "lenetc train SPEC.yaml" -> "lenetc train": its help needs no spec */
    static const char spec[] = " SPEC.yaml";
    size_t n = strlen(prog);
    if (n > sizeof spec - 1 && !strcmp(prog + n - (sizeof spec - 1), spec))
        n -= sizeof spec - 1;
    fprintf(stderr, "try '%.*s --help'\n", (int)n, prog);
}
