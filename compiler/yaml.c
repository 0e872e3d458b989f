/* yaml.c: libyaml's event stream -> a small tree of YNodes with positions.
 *
 * We build our own tree rather than use libyaml's document API so that we
 * can refuse what a layer spec never needs and an attacker could abuse:
 * anchors and aliases (exponential expansion), tags, several documents,
 * duplicate keys, deep nesting and huge node counts.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lenetc.h"

#define MAX_DEPTH 32
#define MAX_NODES 100000

typedef struct {
    Diag *d;
    YNode *stack[MAX_DEPTH];
    int depth;
    int nodes;
    YNode *root;
} Builder;

static YNode *new_node(Builder *b, YKind kind, yaml_mark_t mark) {
    if (++b->nodes > MAX_NODES) {
        error_at(b->d, (int)mark.line + 1, (int)mark.column + 1,
                 "spec has more than %d YAML nodes", MAX_NODES);
        return NULL;
    }
    YNode *n = calloc(1, sizeof *n);
    if (!n) {
        error_at(b->d, 0, 0, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->line = (int)mark.line + 1;
    n->col = (int)mark.column + 1;
    return n;
}

static int append(YNode *parent, YNode *child) {
    if (parent->n % 64 == 0) {
        YNode **p = realloc(parent->items, sizeof *p * (size_t)(parent->n + 64));
        if (!p)
            return -1;
        parent->items = p;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* Attaches n to the open collection (or makes it the root). */
static int attach(Builder *b, YNode *n) {
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    YNode *parent = b->stack[b->depth - 1];
    if (parent->kind == Y_MAP && parent->n % 2 == 0) {
        /* n is a key: it must be a scalar and new in this mapping */
        if (n->kind != Y_SCALAR) {
            error_at(b->d, n->line, n->col, "mapping keys must be plain scalars");
            ytree_free(n);
            return -1;
        }
        for (int i = 0; i < parent->n; i += 2)
            if (strcmp(parent->items[i]->text, n->text) == 0) {
                error_at(b->d, n->line, n->col, "duplicate key '%s' (first at line %d)", n->text,
                         parent->items[i]->line);
                ytree_free(n);
                return -1;
            }
    }
    if (append(parent, n) != 0) {
        ytree_free(n);
        return error_at(b->d, 0, 0, "out of memory");
    }
    return 0;
}

static int check_props(Builder *b, yaml_char_t *anchor, yaml_char_t *tag, int implicit,
                       yaml_mark_t mark) {
    if (anchor)
        return error_at(b->d, (int)mark.line + 1, (int)mark.column + 1,
                        "YAML anchors and aliases are not supported in a spec");
    if (tag && !implicit)
        return error_at(b->d, (int)mark.line + 1, (int)mark.column + 1,
                        "YAML tags are not supported in a spec");
    return 0;
}

/* One event; returns 1 at the end of the stream, -1 on error. */
static int on_event(Builder *b, yaml_event_t *ev) {
    yaml_mark_t mark = ev->start_mark;
    int line = (int)mark.line + 1, col = (int)mark.column + 1;
    YNode *n;
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (b->root)
            return error_at(b->d, line, col, "a spec holds one YAML document, found a second");
        return 0;
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_ALIAS_EVENT:
        return error_at(b->d, line, col, "YAML anchors and aliases are not supported in a spec");
    case YAML_SCALAR_EVENT:
        if (check_props(b, ev->data.scalar.anchor, ev->data.scalar.tag,
                        ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit,
                        mark))
            return -1;
        if (strlen((char *)ev->data.scalar.value) != ev->data.scalar.length)
            return error_at(b->d, line, col, "NUL byte in a scalar");
        if (!(n = new_node(b, Y_SCALAR, mark)))
            return -1;
        n->text = strdup((char *)ev->data.scalar.value);
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        if (!n->text) {
            free(n);
            return error_at(b->d, 0, 0, "out of memory");
        }
        return attach(b, n);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        if (check_props(b, seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor,
                        seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag,
                        seq ? ev->data.sequence_start.implicit : ev->data.mapping_start.implicit,
                        mark))
            return -1;
        if (b->depth == MAX_DEPTH)
            return error_at(b->d, line, col, "spec nested deeper than %d levels", MAX_DEPTH);
        if (!(n = new_node(b, seq ? Y_SEQ : Y_MAP, mark)))
            return -1;
        if (attach(b, n) != 0)
            return -1;
        b->stack[b->depth++] = n;
        return 0;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return 0;
    default:
        return 0;
    }
}

YNode *ytree_parse(const char *text, size_t len, Diag *d) {
    const char *nul = memchr(text, '\0', len); /* libyaml would stop there */
    if (nul) {
        int line = 1, col = 1;
        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n')
                line++, col = 0;
        error_at(d, line, col, "spec contains a NUL byte");
        return NULL;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        error_at(d, 0, 0, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    Builder b = {.d = d};
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_mark_t m = parser.problem_mark;
            if (parser.error == YAML_READER_ERROR && parser.problem_offset <= len) {
                /* the reader checks bytes before any mark exists: find the
                 * line and column of the offending byte ourselves */
                m.line = m.column = 0;
                for (size_t i = 0; i < parser.problem_offset; i++) {
                    m.column++;
                    if (text[i] == '\n')
                        m.line++, m.column = 0;
                }
                m.index = parser.problem_offset;
            }
            if (m.index < len && text[m.index] == '\t')
                error_at(d, (int)m.line + 1, (int)m.column + 1,
                         "invalid YAML: a tab; YAML indents with spaces only");
            else if (parser.context)
                error_at(d, (int)m.line + 1, (int)m.column + 1, "invalid YAML: %s %s",
                         parser.problem ? parser.problem : "syntax error", parser.context);
            else
                error_at(d, (int)m.line + 1, (int)m.column + 1, "invalid YAML: %s",
                         parser.problem ? parser.problem : "syntax error");
            break;
        }
        int r = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (r != 0)
            break;
    }
    yaml_parser_delete(&parser);
    if (d->failed) {
        /* free the partial tree: the root owns everything attached so far */
        ytree_free(b.root);
        return NULL;
    }
    if (!b.root)
        error_at(d, 0, 0, "empty spec");
    return b.root;
}

void ytree_free(YNode *n) {
    if (!n)
        return;
    for (int i = 0; i < n->n; i++)
        ytree_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}
