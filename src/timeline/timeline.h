/* timeline.h: what a deployment did over the last minutes, for
 * `servescale timeline`, the dashboard and the control API's
 * /apis/servescale.io/v1/namespaces/NS/timelines/NAME: request rate,
 * latency p50/p99, replicas desired and ready, each autoscaler's metric
 * against its target, and the scaling events with their reasons.
 *
 * The history is the metrics window's (src/metrics keeps every series for
 * SS_METRICS_WINDOW_MS, bounded); the autoscalers' metrics enter it as two
 * gauges the recorder sets from their stored status each second; events
 * are the stored ones. timeline/ reads; it decides nothing.
 *
 * Ownership: returned json_t are new references, returned strings malloc'd;
 * the caller frees both. Threads: the recorder runs on one thread (the
 * daemon's loop); builds may run on any thread at the same time. */
#ifndef SS_TIMELINE_TIMELINE_H
#define SS_TIMELINE_TIMELINE_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "metrics/metrics.h"
#include "store/store.h"

#define SS_TIMELINE_DEFAULT_SINCE_MS (10 * 60 * 1000)
/* the points of one timeline: the window keeps ~128 per series */
#define SS_TIMELINE_MAX_POINTS 512
#define SS_TIMELINE_MAX_EVENTS 200
#define SS_TIMELINE_MAX_METRICS 16
/* autoscalers whose metrics the recorder follows at once */
#define SS_TIMELINE_MAX_RECORDED 256

/* The gauges the recorder sets, labelled namespace, autoscaler
 * ("HorizontalPodAutoscaler/NAME", "ScaledObject/NAME"), target (the
 * scaleTargetRef's name) and metric. */
#define SS_TIMELINE_VALUE_GAUGE "servescale_autoscaler_metric_value"
#define SS_TIMELINE_TARGET_GAUGE "servescale_autoscaler_metric_target"

struct ss_timeline_recorder;
struct ss_timeline_recorder *ss_timeline_recorder_new(struct ss_metrics *m);
/* Sets the gauges from every stored HPA's and ScaledObject's status;
 * releases those of autoscalers gone. Call before ss_metrics_sample. */
void ss_timeline_recorder_run(struct ss_timeline_recorder *r, struct ss_store *st);
void ss_timeline_recorder_free(struct ss_timeline_recorder *r);

/* The timeline of SeldonDeployment ns/name from now_ms - since_ms (wall
 * clock ms) as JSON (docs/dashboard.md has its shape). NULL with err
 * SS_ENOTFOUND when there is no such deployment. */
json_t *ss_timeline_build(struct ss_metrics *m, struct ss_store *st, const char *ns,
                          const char *name, int64_t since_ms, int64_t now_ms,
                          struct ss_error *err);

/* The dashboard's state (docs/dashboard.md): every SeldonDeployment, Model
 * and Server (kind, namespace, name, state, ready, desired, address), each
 * SeldonDeployment's timeline, the latest events, the API's URL. */
json_t *ss_timeline_dashboard(struct ss_metrics *m, struct ss_store *st, const char *api_url,
                              int64_t since_ms, int64_t now_ms);

/* Checks a timeline read from outside (the API's answer) before drawing:
 * SS_EINVALID with err naming the field ("series.t[3]: not a number"). */
enum ss_err ss_timeline_check(const json_t *tl, struct ss_error *err);
/* The chart as a standalone SVG document (malloc'd): request rate, latency
 * p50/p99, replicas desired/ready, each metric against its target, the
 * events as marked lines with their reasons. tl must pass the check. */
char *ss_timeline_svg(const json_t *tl);

struct ss_raster;
/* The same chart (the same layout, layout.c) as pixels: a new canvas
 * (raster.h; free it with ss_raster_free), NULL when out of memory or too
 * many panels. tl must pass the check. */
struct ss_raster *ss_timeline_raster(const json_t *tl);
/* ... and as a PNG file (png.h): *out malloc'd, *len bytes. SS_ENOMEM or
 * SS_ELIMIT (too many panels) when it cannot be drawn. */
enum ss_err ss_timeline_png(const json_t *tl, uint8_t **out, size_t *len);

#endif
