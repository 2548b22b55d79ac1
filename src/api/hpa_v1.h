/* hpa_v1.h: autoscaling/v1 HorizontalPodAutoscalers, the version `kubectl
 * autoscale` (1.32) creates, served by conversion to and from the stored
 * autoscaling/v2 form, as the API server converts them
 * (k8s.io/kubernetes pkg/apis/autoscaling/v1/conversion.go):
 * targetCPUUtilizationPercentage N is the v2 metric
 * {type: Resource, resource: {name: cpu, target: {type: Utilization,
 * averageUtilization: N}}}, and back; currentCPUUtilizationPercentage is
 * the cpu entry of status.currentMetrics. What v1 cannot say (other
 * metrics, behavior, conditions) is left out of the v1 form rather than
 * kept in the alpha annotations the API server uses.
 *
 * Only create, get, list, update and delete are served at v1; patch and
 * watch answer 405 naming autoscaling/v2, which discovery lists as the
 * one version (kubectl get hpa uses it). */
#ifndef SS_API_HPA_V1_H
#define SS_API_HPA_V1_H

#include <jansson.h>
#include <stdbool.h>

struct ss_api;
struct ss_api_req;
struct ss_api_resp;

/* A new autoscaling/v2 object from a v1 one (borrowed); NULL when out of
 * memory. Fields v1 does not have are left as they are. */
json_t *ss_api_hpa_v1_to_v2(const json_t *v1);
/* A new autoscaling/v1 object from a v2 one (borrowed); NULL when out of
 * memory. */
json_t *ss_api_hpa_v2_to_v1(const json_t *v2);

/* The handlers' hook: answers a request for autoscaling/v1
 * horizontalpodautoscalers (its body converted to v2, then handled at v2,
 * the answer converted back) and returns true; false for any other path. */
bool ss__api_hpa_v1(struct ss_api *api, const struct ss_api_req *req, struct ss_api_resp *resp);

#endif
