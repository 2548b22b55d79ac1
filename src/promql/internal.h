/* internal.h: the PromQL AST shared by parse.c, format.c and eval.c. */
#ifndef SS_PROMQL_INTERNAL_H
#define SS_PROMQL_INTERNAL_H

#include <regex.h>

#include "common/arena.h"
#include "promql/promql.h"

/* Value types of expressions; MATRIX exists only as a function argument. */
enum ss__pq_type { SS__PQ_SCALAR, SS__PQ_VECTOR, SS__PQ_MATRIX };

enum ss__pq_kind {
  SS__PQ_NUMBER,
  SS__PQ_SELECTOR, /* instant vector selector */
  SS__PQ_MATRIX_SEL, /* selector[range] */
  SS__PQ_CALL,
  SS__PQ_AGG,
  SS__PQ_BINARY,
  SS__PQ_NEG,
};

enum ss__pq_match { SS__PQ_EQ, SS__PQ_NE, SS__PQ_RE, SS__PQ_NRE };
enum ss__pq_func { SS__PQ_RATE, SS__PQ_IRATE, SS__PQ_INCREASE, SS__PQ_HISTOGRAM_QUANTILE };
enum ss__pq_agg { SS__PQ_SUM, SS__PQ_AVG, SS__PQ_MIN, SS__PQ_MAX, SS__PQ_COUNT };

struct ss__pq_matcher {
  const char *name, *value;
  enum ss__pq_match op;
  regex_t *re; /* compiled "^(value)$" for =~ and !~; freed with the query */
};

struct ss__pq_node {
  enum ss__pq_kind kind;
  enum ss__pq_type type;
  unsigned col;
  union {
    double number;
    struct {
      const char *metric; /* NULL: none given outside the braces */
      size_t n_matchers;
      struct ss__pq_matcher *matchers; /* includes __name__="metric" */
    } sel;
    struct {
      struct ss__pq_node *sel;
      int64_t range_ms;
    } matrix;
    struct {
      enum ss__pq_func func;
      size_t n_args;
      struct ss__pq_node **args;
    } call;
    struct {
      enum ss__pq_agg op;
      bool without; /* else by (an aggregation with no clause is by ()) */
      size_t n_labels;
      const char **labels;
      struct ss__pq_node *arg;
    } agg;
    struct {
      char op; /* + - * / % ^ */
      struct ss__pq_node *lhs, *rhs;
    } bin;
    struct ss__pq_node *neg;
  } u;
};

struct ss_promql {
  struct ss_arena *arena; /* every node and string */
  struct ss__pq_node *root;
  size_t n_regexes;
  regex_t **regexes; /* malloc'd list, regfree'd by ss_promql_free */
  size_t cap_regexes;
};

extern const char *const ss__pq_func_names[];
extern const char *const ss__pq_agg_names[];

#endif
