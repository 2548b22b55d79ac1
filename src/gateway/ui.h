/* ui.h: the dashboard on the gateway's port: GET /ui/ (one self-contained
 * page, no external assets) and GET /ui/state.json[?since=MS] (the state
 * the daemon builds, src/timeline/dashboard.c, and publishes here; with
 * since, only the timeline points and events after it). Read-only: the
 * page's scale and delete buttons call the control API with the user's
 * token, never this port.
 *
 * Threads: publish from any thread; the gateway's workers read the state
 * under the ui's mutex. Ownership: the daemon owns the ui (new before the
 * gateway starts, free after it stops); publish takes the state. */
#ifndef SS_GATEWAY_UI_H
#define SS_GATEWAY_UI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the daemon builds the state only while someone looks: a poll within this */
#define SS_GW_UI_WANTED_MS 60000

struct ss_gw_ui;
struct ss__gw_conn;

struct ss_gw_ui *ss_gw_ui_new(void);
void ss_gw_ui_free(struct ss_gw_ui *ui);
void ss_gw_ui_publish(struct ss_gw_ui *ui, json_t *state);
/* Whether the page polled the state within SS_GW_UI_WANTED_MS of mono_ms. */
bool ss_gw_ui_wanted(struct ss_gw_ui *ui, int64_t mono_ms);

/* The page's writes (scale, delete), relayed to the control API in
 * process: POST|PATCH|DELETE /ui/api/<API path> with the user's
 * Authorization header, answered with the API's status and JSON. The
 * daemon sets the relay once the API is up and clears it before the API
 * stops (any thread; a call in progress is waited for, calls are one at a
 * time); without one the writes are 404. fn returns the status and *out (malloc'd
 * or NULL). Same origin as the page, plain HTTP on loopback: the browser
 * needs neither CORS nor to trust the API's certificate. */
typedef int ss_gw_ui_relay_fn(void *ctx, const char *method, const char *path,
                              const char *content_type, const char *body, size_t len,
                              const char *authorization, char **out);
void ss_gw_ui_set_relay(struct ss_gw_ui *ui, ss_gw_ui_relay_fn *fn, void *ctx);

/* route.c's branch for /ui and /ui/...: path without the query. */
void ss__gw_ui_handle(struct ss__gw_conn *c, const char *path, const char *query);
/* route.c's branch for writes under /ui/api/. */
void ss__gw_ui_write(struct ss__gw_conn *c, const char *method, const char *path);
/* The page (generated from src/gateway/ui_page.html at configure time). */
extern const char ss__gw_ui_page[];

#endif
