/* load.h: the load generator behind `servescale loadtest`: users (threads,
 * each with one keep-alive libcurl handle) posting one body to one URL,
 * started at a spawn rate, optionally paced to a total request rate, their
 * latencies counted in a lock-free log histogram. It sends and counts;
 * finding the URL and token and printing are the CLI's
 * (src/cli/cmd_loadtest.c).
 *
 * Threads: ss_load_run blocks until every user has stopped; the stats may
 * be read (ss_load_snapshot_take) from any other thread meanwhile.
 * Ownership: the config's strings are borrowed for the run. */
#ifndef SS_LOAD_LOAD_H
#define SS_LOAD_LOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "model/names.h"

/* Latency buckets: bucket i holds latencies up to SS_LOAD_GROWTH^i
 * microseconds, so a quantile is within 2 % of the truth up to 1000 s. */
#define SS_LOAD_BUCKETS 1024
#define SS_LOAD_GROWTH 1.02
#define SS_LOAD_MAX_USERS 1000
#define SS_LOAD_MAX_RPS 1e6
#define SS_LOAD_CODES 600 /* HTTP codes 100..599; 0 counts transport failures */
#define SS_LOAD_URL_MAX 2048
/* a request that takes longer is a failure (code 0) */
#define SS_LOAD_REQUEST_TIMEOUT_MS 30000

struct ss_load_stats {
  _Atomic uint64_t buckets[SS_LOAD_BUCKETS];
  _Atomic uint64_t codes[SS_LOAD_CODES];
  _Atomic uint64_t requests, failures, sum_us, max_us;
  atomic_int users; /* started and not yet stopped */
};

/* A copy of the stats at one moment (plain numbers). */
struct ss_load_snapshot {
  uint64_t buckets[SS_LOAD_BUCKETS];
  uint64_t codes[SS_LOAD_CODES];
  uint64_t requests, failures, sum_us, max_us;
  int users;
};

void ss_load_snapshot_take(struct ss_load_stats *st, struct ss_load_snapshot *out);
/* Counts one request (pure but for the atomics; the tests call it). */
void ss_load_record(struct ss_load_stats *st, uint64_t us, int code);
/* The bucket of a latency, and a bucket's upper bound in microseconds. */
size_t ss_load_bucket(uint64_t us);
double ss_load_bucket_upper_us(size_t i);
/* The q quantile (0..1) in milliseconds of the counts in buckets (a
 * snapshot's, or the difference of two); 0 when empty. */
double ss_load_quantile_ms(const uint64_t *buckets, double q);

/* What a loadtest aims at: a URL, or a SeldonDeployment ("sdep/NAME",
 * "seldondeployment/NAME", "seldondeployments.machinelearning.seldon.io/NAME"). */
enum ss_load_target_kind { SS_LOAD_TARGET_URL, SS_LOAD_TARGET_SDEP };
struct ss_load_target {
  enum ss_load_target_kind kind;
  char name[SS_DNS1123_SUBDOMAIN_MAX + 1]; /* the SeldonDeployment's */
  char url[SS_LOAD_URL_MAX];   /* the URL's */
};
/* Parses s; a bad one is SS_EINVALID with err naming the field ("target")
 * and what is wrong. */
enum ss_err ss_load_target_parse(const char *s, struct ss_load_target *out,
                                 struct ss_error *err);

struct ss_load_config {
  const char *url;
  const char *token;        /* bearer token; NULL for none */
  const char *body;
  size_t body_len;
  int users;                /* 1..SS_LOAD_MAX_USERS */
  double spawn_rate;        /* users started per second; <= 0: all at once */
  int64_t duration_ms;      /* from the first user's start */
  double rps;               /* total requests per second; <= 0: as fast as answered */
  atomic_bool *stop;        /* may be NULL; true stops early (SIGINT) */
};

/* Runs the load; requests in flight at the end are waited for (and
 * counted), none starts after it. SS_EINVALID for a bad config,
 * SS_EINTERNAL when no thread could start. */
enum ss_err ss_load_run(const struct ss_load_config *cfg, struct ss_load_stats *st,
                        struct ss_error *err);

#endif
