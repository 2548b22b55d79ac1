/* path.c: field path building. */
#include "model/path.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void append(struct ss_path *p, const char *s, size_t n) {
  size_t room = SS_PATH_MAX - 1 - p->len;
  if (n > room) {
    memcpy(p->buf + p->len, s, room);
    p->len += room;
    memcpy(p->buf + SS_PATH_MAX - 4, "...", 3);
  } else {
    memcpy(p->buf + p->len, s, n);
    p->len += n;
  }
  p->buf[p->len] = '\0';
}

static bool plain_key(const char *k) {
  if (!*k)
    return false;
  for (; *k; k++) {
    char c = *k;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return false;
  }
  return true;
}

size_t ss_path_key(struct ss_path *p, const char *key) {
  size_t old = p->len;
  if (plain_key(key)) {
    if (p->len)
      append(p, ".", 1);
    append(p, key, strlen(key));
  } else {
    append(p, "[", 1);
    append(p, key, strlen(key));
    append(p, "]", 1);
  }
  return old;
}

size_t ss_path_index(struct ss_path *p, size_t i) {
  size_t old = p->len;
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
  append(p, tmp, (size_t)n);
  return old;
}

void ss_path_pop(struct ss_path *p, size_t len) {
  if (len <= p->len) {
    p->len = len;
    p->buf[len] = '\0';
  }
}

void ss_path_reset(struct ss_path *p) {
  p->len = 0;
  p->buf[0] = '\0';
}

void ss_path_set(struct ss_path *p, const char *s) {
  ss_path_reset(p);
  append(p, s, strlen(s));
}
