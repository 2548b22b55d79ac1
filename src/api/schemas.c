/* schemas.c: the OpenAPI schemas kubectl explain reads, as one table of
 * type definitions (name, description, fields), built into JSON once.
 *
 * The facts come from the owners' definitions: Seldon's CRDs
 * (machinelearning.seldon.io_seldondeployments.yaml, mlops.seldon.io_models
 * and _servers.yaml) and Go types, KEDA's ScaledObject, the Prometheus
 * operator's monitors and the Kubernetes API reference, shortened. Where a
 * CRD inlines a Kubernetes type (componentSpecs[].spec is a whole PodSpec)
 * the schema references the Kubernetes one instead. Fields servescale adds
 * or reads differently say so.
 *
 * A field's type is a short string:
 *   string boolean number integer int32 int64   scalars
 *   string=A,B,C                                a string enum
 *   object                                      free-form (unknown fields kept)
 *   map  map:T                                  string map, or map of T
 *   []T                                         array of T
 *   alias.Name                                  a named schema (allOf $ref)
 * and a trailing "!" marks it required. Names are written with an alias
 * (core.Container); aliases[] expands them to Kubernetes' names. */
#include "api/schemas.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SS_SCHEMA_NAME_MAX 160
#define SS_SCHEMA_REF_PREFIX "#/components/schemas/"
#define SS_SCHEMA_V2_PREFIX "#/definitions/"

struct field {
  const char *name, *type, *desc;
};

struct def {
  const char *name;
  const char *desc;
  const struct field *fields; /* NULL-terminated; NULL for a scalar */
  const char *scalar;         /* a scalar's type ("string"), or NULL */
  const char *format;         /* a scalar's format, or NULL */
  bool kind;                  /* a kind: apiVersion, kind, metadata first */
};

#define FIELDS(...) ((const struct field[]){__VA_ARGS__, {NULL, NULL, NULL}})

static const struct {
  const char *alias, *prefix;
} aliases[] = {
    {"meta", "io.k8s.apimachinery.pkg.apis.meta.v1"},
    {"res", "io.k8s.apimachinery.pkg.api.resource"},
    {"intstr", "io.k8s.apimachinery.pkg.util.intstr"},
    {"core", "io.k8s.api.core.v1"},
    {"apps", "io.k8s.api.apps.v1"},
    {"as", "io.k8s.api.autoscaling.v2"},
    {"sd", "io.seldon.machinelearning.v1"},
    {"ml", "io.seldon.mlops.v1alpha1"},
    {"keda", "sh.keda.v1alpha1"},
    {"mon", "com.coreos.monitoring.v1"},
};

/* ---- the definitions ---- */

static const struct def meta_defs[] = {
    {.name = "meta.Time",
     .desc = "Time is a wrapper around time.Time which supports correct marshaling to YAML and "
             "JSON (RFC 3339).",
     .scalar = "string",
     .format = "date-time"},
    {.name = "res.Quantity",
     .desc = "Quantity is a fixed-point representation of a number, such as 100m, 0.5 or 128Mi.",
     .scalar = "string"},
    {.name = "intstr.IntOrString",
     .desc = "IntOrString holds an int32 or a string.",
     .scalar = "string",
     .format = "int-or-string"},
    {.name = "meta.ObjectMeta",
     .desc = "ObjectMeta is metadata that all persisted resources must have, which includes all "
             "objects users must create.",
     .fields = FIELDS(
         {"name", "string",
          "Name must be unique within a namespace. Is required when creating resources. Cannot "
          "be updated."},
         {"generateName", "string",
          "An optional prefix, used by the server to generate a unique name only if name is not "
          "given."},
         {"namespace", "string",
          "The namespace the object is in; empty means \"default\" for namespaced kinds. Cannot "
          "be updated."},
         {"uid", "string",
          "UID is the unique in time and space value for this object, set by the server on "
          "create. Read-only."},
         {"resourceVersion", "string",
          "An opaque value that represents the internal version of this object; an update with "
          "a stale one is a conflict. Read-only."},
         {"generation", "int64",
          "A sequence number representing a specific generation of the desired state. "
          "Read-only."},
         {"creationTimestamp", "meta.Time",
          "When this object was created, in UTC (RFC 3339). Read-only."},
         {"deletionTimestamp", "meta.Time", "When this object will be deleted. Read-only."},
         {"labels", "map",
          "Map of string keys and values that can be used to organize and categorize (scope "
          "and select) objects."},
         {"annotations", "map",
          "An unstructured key value map stored with a resource that may be set by external "
          "tools to store and retrieve arbitrary metadata."},
         {"ownerReferences", "[]meta.OwnerReference",
          "List of objects depended by this object. When all of them are removed, this object "
          "is garbage collected."},
         {"finalizers", "[]string",
          "Must be empty before the object is deleted from the registry."})},
    {.name = "meta.OwnerReference",
     .desc = "OwnerReference contains enough information to let you identify an owning object.",
     .fields = FIELDS({"apiVersion", "string!", "API version of the referent."},
                      {"kind", "string!", "Kind of the referent."},
                      {"name", "string!", "Name of the referent."},
                      {"uid", "string!", "UID of the referent."},
                      {"controller", "boolean", "If true, this reference points to the managing controller."},
                      {"blockOwnerDeletion", "boolean",
                       "If true, the owner cannot be deleted from the key-value store until this "
                       "reference is removed."})},
    {.name = "meta.LabelSelector",
     .desc = "A label selector is a label query over a set of resources. The result of "
             "matchLabels and matchExpressions are ANDed. An empty selector matches all objects.",
     .fields = FIELDS({"matchLabels", "map",
                       "A map of {key,value} pairs; each is equivalent to an In expression with "
                       "that single value."},
                      {"matchExpressions", "[]meta.LabelSelectorRequirement",
                       "A list of label selector requirements. The requirements are ANDed."})},
    {.name = "meta.LabelSelectorRequirement",
     .desc = "A selector that contains values, a key, and an operator that relates the key and "
             "values.",
     .fields = FIELDS({"key", "string!", "The label key that the selector applies to."},
                      {"operator", "string!",
                       "A key's relationship to a set of values: In, NotIn, Exists or "
                       "DoesNotExist."},
                      {"values", "[]string",
                       "Values for In and NotIn (non-empty); empty for Exists and DoesNotExist."})},
    {.name = "meta.Condition",
     .desc = "Condition contains details for one aspect of the current state of this resource.",
     .fields = FIELDS({"type", "string!", "Type of condition in CamelCase."},
                      {"status", "string=True,False,Unknown!", "Status of the condition."},
                      {"lastTransitionTime", "meta.Time",
                       "The last time the condition transitioned from one status to another."},
                      {"reason", "string",
                       "A programmatic identifier indicating the reason for the last transition."},
                      {"message", "string",
                       "A human readable message indicating details about the transition."},
                      {"observedGeneration", "int64",
                       "The metadata.generation the condition was set based upon."})},
};

static const struct def core_defs[] = {
    {.name = "core.Namespace",
     .desc = "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
     .kind = true,
     .fields = FIELDS({"spec", "core.NamespaceSpec", "Spec defines the behavior of the Namespace."},
                      {"status", "core.NamespaceStatus",
                       "Status describes the current status of a Namespace."})},
    {.name = "core.NamespaceSpec",
     .desc = "NamespaceSpec describes the attributes on a Namespace.",
     .fields = FIELDS({"finalizers", "[]string",
                       "Finalizers is an opaque list of values that must be empty to permanently "
                       "remove the object from storage."})},
    {.name = "core.NamespaceStatus",
     .desc = "NamespaceStatus is information about the current status of a Namespace.",
     .fields = FIELDS({"phase", "string=Active,Terminating",
                       "Phase is the current lifecycle phase of the namespace."})},
    {.name = "core.Pod",
     .desc = "Pod is a collection of containers that can run on a host. servescale serves each "
             "replica of a componentSpec or Deployment as one (read only).",
     .kind = true,
     .fields = FIELDS({"spec", "core.PodSpec", "Specification of the desired behavior of the pod."},
                      {"status", "core.PodStatus",
                       "Most recently observed status of the pod. Read-only."})},
    {.name = "core.PodSpec",
     .desc = "PodSpec is a description of a pod.",
     .fields = FIELDS(
         {"containers", "[]core.Container!",
          "List of containers belonging to the pod. There must be at least one container in a "
          "Pod. servescale runs each as a replica process."},
         {"initContainers", "[]core.Container",
          "List of initialization containers belonging to the pod."},
         {"volumes", "[]core.Volume",
          "List of volumes that can be mounted by containers belonging to the pod."},
         {"restartPolicy", "string=Always,OnFailure,Never",
          "Restart policy for all containers within the pod. Default to Always."},
         {"terminationGracePeriodSeconds", "int64",
          "Duration in seconds the pod needs to terminate gracefully: the time between the "
          "termination signal and the kill signal. Defaults to 30 seconds."},
         {"activeDeadlineSeconds", "int64",
          "Duration in seconds the pod may be active on the node before the system tries to "
          "mark it failed."},
         {"dnsPolicy", "string", "Set DNS policy for the pod. Defaults to \"ClusterFirst\"."},
         {"nodeSelector", "map",
          "A selector which must be true for the pod to fit on a node."},
         {"serviceAccountName", "string",
          "The name of the ServiceAccount to use to run this pod."},
         {"automountServiceAccountToken", "boolean",
          "Whether a service account token should be automatically mounted."},
         {"nodeName", "string", "A request to schedule this pod onto a specific node."},
         {"hostNetwork", "boolean", "Host networking requested for this pod."},
         {"securityContext", "object",
          "Pod-level security attributes and common container settings."},
         {"imagePullSecrets", "[]core.LocalObjectReference",
          "References to secrets in the same namespace to use for pulling any of the images "
          "used by this PodSpec."},
         {"hostname", "string", "Specifies the hostname of the Pod."},
         {"affinity", "object", "If specified, the pod's scheduling constraints."},
         {"tolerations", "[]object", "If specified, the pod's tolerations."},
         {"schedulerName", "string", "The scheduler to dispatch the pod."},
         {"priorityClassName", "string", "Indicates the pod's priority."},
         {"runtimeClassName", "string",
          "The RuntimeClass object which should be used to run this pod."})},
    {.name = "core.Container",
     .desc = "A single application container that you want to run within a pod.",
     .fields = FIELDS(
         {"name", "string!",
          "Name of the container specified as a DNS_LABEL. Each container in a pod must have a "
          "unique name. Cannot be updated."},
         {"image", "string",
          "Container image name. servescale runs the command its image map gives for it."},
         {"command", "[]string",
          "Entrypoint array. Not executed within a shell. The image's ENTRYPOINT is used if "
          "this is not provided."},
         {"args", "[]string",
          "Arguments to the entrypoint. The image's CMD is used if this is not provided."},
         {"workingDir", "string", "Container's working directory."},
         {"ports", "[]core.ContainerPort",
          "List of ports to expose from the container."},
         {"env", "[]core.EnvVar", "List of environment variables to set in the container."},
         {"envFrom", "[]object",
          "List of sources (ConfigMaps, Secrets) to populate environment variables in the "
          "container."},
         {"resources", "core.ResourceRequirements",
          "Compute Resources required by this container."},
         {"volumeMounts", "[]core.VolumeMount",
          "Pod volumes to mount into the container's filesystem."},
         {"livenessProbe", "core.Probe",
          "Periodic probe of container liveness. Container will be restarted if the probe "
          "fails."},
         {"readinessProbe", "core.Probe",
          "Periodic probe of container service readiness. Container will be removed from "
          "service endpoints if the probe fails."},
         {"startupProbe", "core.Probe",
          "StartupProbe indicates that the Pod has successfully initialized."},
         {"lifecycle", "object",
          "Actions that the management system should take in response to container lifecycle "
          "events."},
         {"imagePullPolicy", "string=Always,Never,IfNotPresent",
          "Image pull policy. Defaults to Always if :latest tag is specified, or IfNotPresent "
          "otherwise."},
         {"securityContext", "object",
          "SecurityContext defines the security options the container should be run with."},
         {"terminationMessagePath", "string",
          "Path at which the container's termination message will be written."},
         {"terminationMessagePolicy", "string=File,FallbackToLogsOnError",
          "Indicate how the termination message should be populated."},
         {"stdin", "boolean", "Whether this container should allocate a buffer for stdin."},
         {"tty", "boolean", "Whether this container should allocate a TTY for itself."})},
    {.name = "core.ContainerPort",
     .desc = "ContainerPort represents a network port in a single container.",
     .fields = FIELDS(
         {"containerPort", "int32!",
          "Number of port to expose on the pod's IP address (0 < x < 65536)."},
         {"name", "string",
          "An IANA_SVC_NAME, unique within the pod; can be referred to by services and probes."},
         {"protocol", "string=TCP,UDP,SCTP", "Protocol for port. Defaults to \"TCP\"."},
         {"hostPort", "int32", "Number of port to expose on the host."},
         {"hostIP", "string", "What host IP to bind the external port to."})},
    {.name = "core.EnvVar",
     .desc = "EnvVar represents an environment variable present in a Container.",
     .fields = FIELDS({"name", "string!", "Name of the environment variable."},
                      {"value", "string",
                       "Variable references $(VAR_NAME) are expanded using the previously "
                       "defined environment variables. Defaults to \"\"."},
                      {"valueFrom", "object",
                       "Source for the environment variable's value (fieldRef, "
                       "resourceFieldRef, configMapKeyRef, secretKeyRef). Cannot be used if "
                       "value is not empty."})},
    {.name = "core.ResourceRequirements",
     .desc = "ResourceRequirements describes the compute resource requirements.",
     .fields = FIELDS({"limits", "map:res.Quantity",
                       "Limits describes the maximum amount of compute resources allowed."},
                      {"requests", "map:res.Quantity",
                       "Requests describes the minimum amount of compute resources required; "
                       "the HPA's Utilization targets are relative to cpu and memory requests."},
                      {"claims", "[]object",
                       "Claims lists the names of resources, defined in spec.resourceClaims, "
                       "that are used by this container."})},
    {.name = "core.Probe",
     .desc = "Probe describes a health check to be performed against a container to determine "
             "whether it is alive or ready to receive traffic.",
     .fields = FIELDS(
         {"exec", "core.ExecAction", "Exec specifies a command to execute in the container."},
         {"httpGet", "core.HTTPGetAction", "HTTPGet specifies an HTTP GET request to perform."},
         {"tcpSocket", "core.TCPSocketAction", "TCPSocket specifies a connection to a TCP port."},
         {"grpc", "object", "GRPC specifies a GRPC HealthCheckRequest."},
         {"initialDelaySeconds", "int32",
          "Number of seconds after the container has started before probes are initiated."},
         {"periodSeconds", "int32",
          "How often (in seconds) to perform the probe. Default to 10 seconds."},
         {"timeoutSeconds", "int32",
          "Number of seconds after which the probe times out. Defaults to 1 second."},
         {"successThreshold", "int32",
          "Minimum consecutive successes for the probe to be considered successful after "
          "having failed. Defaults to 1."},
         {"failureThreshold", "int32",
          "Minimum consecutive failures for the probe to be considered failed after having "
          "succeeded. Defaults to 3."},
         {"terminationGracePeriodSeconds", "int64",
          "Optional duration in seconds the pod needs to terminate gracefully upon probe "
          "failure."})},
    {.name = "core.ExecAction",
     .desc = "ExecAction describes a \"run in container\" action.",
     .fields = FIELDS({"command", "[]string",
                       "The command line to execute inside the container; exit status 0 is "
                       "healthy."})},
    {.name = "core.HTTPGetAction",
     .desc = "HTTPGetAction describes an action based on HTTP Get requests.",
     .fields = FIELDS({"path", "string", "Path to access on the HTTP server."},
                      {"port", "intstr.IntOrString!",
                       "Name or number of the port to access on the container."},
                      {"host", "string", "Host name to connect to, defaults to the pod IP."},
                      {"scheme", "string=HTTP,HTTPS",
                       "Scheme to use for connecting to the host. Defaults to HTTP."},
                      {"httpHeaders", "[]object", "Custom headers to set in the request."})},
    {.name = "core.TCPSocketAction",
     .desc = "TCPSocketAction describes an action based on opening a socket.",
     .fields = FIELDS({"port", "intstr.IntOrString!",
                       "Number or name of the port to access on the container."},
                      {"host", "string",
                       "Optional: Host name to connect to, defaults to the pod IP."})},
    {.name = "core.VolumeMount",
     .desc = "VolumeMount describes a mounting of a Volume within a container.",
     .fields = FIELDS({"name", "string!", "This must match the Name of a Volume."},
                      {"mountPath", "string!",
                       "Path within the container at which the volume should be mounted."},
                      {"readOnly", "boolean", "Mounted read-only if true."},
                      {"subPath", "string",
                       "Path within the volume from which the container's volume should be "
                       "mounted."})},
    {.name = "core.Volume",
     .desc = "Volume represents a named volume in a pod; one of its source fields (emptyDir, "
             "configMap, secret, persistentVolumeClaim, ...) says what it holds.",
     .fields = FIELDS({"name", "string!", "Name of the volume. Must be a DNS_LABEL."},
                      {"emptyDir", "object", "A temporary directory that shares a pod's lifetime."},
                      {"configMap", "object", "A configMap that should populate this volume."},
                      {"secret", "object", "A secret that should populate this volume."},
                      {"persistentVolumeClaim", "object",
                       "A reference to a PersistentVolumeClaim in the same namespace."})},
    {.name = "core.LocalObjectReference",
     .desc = "LocalObjectReference contains enough information to let you locate the "
             "referenced object inside the same namespace.",
     .fields = FIELDS({"name", "string", "Name of the referent."})},
    {.name = "core.PodTemplateSpec",
     .desc = "PodTemplateSpec describes the data a pod should have when created from a "
             "template.",
     .fields = FIELDS({"metadata", "meta.ObjectMeta",
                       "Standard object's metadata; its labels must match the selector."},
                      {"spec", "core.PodSpec",
                       "Specification of the desired behavior of the pod."})},
    {.name = "core.PodStatus",
     .desc = "PodStatus represents information about the status of a pod.",
     .fields = FIELDS(
         {"phase", "string=Pending,Running,Succeeded,Failed,Unknown",
          "A simple, high-level summary of where the Pod is in its lifecycle."},
         {"conditions", "[]core.PodCondition", "Current service state of pod."},
         {"podIP", "string", "IP address allocated to the pod (127.0.0.1 with servescale)."},
         {"hostIP", "string", "IP address of the host to which the pod is assigned."},
         {"startTime", "meta.Time", "When the pod was acknowledged by the kubelet."},
         {"containerStatuses", "[]core.ContainerStatus",
          "The status of each container in the pod."},
         {"message", "string", "A human readable message indicating details about why the pod is in this condition."},
         {"reason", "string", "A brief CamelCase message indicating details about why the pod is in this state."})},
    {.name = "core.PodCondition",
     .desc = "PodCondition contains details for the current condition of this pod.",
     .fields = FIELDS({"type", "string!", "Type is the type of the condition (Ready, ...)."},
                      {"status", "string!", "Status is the status of the condition: True, False or Unknown."},
                      {"lastTransitionTime", "meta.Time", "Last time the condition transitioned."},
                      {"reason", "string", "Unique, one-word, CamelCase reason for the last transition."},
                      {"message", "string", "Human-readable message about the last transition."})},
    {.name = "core.ContainerStatus",
     .desc = "ContainerStatus contains details for the current status of this container.",
     .fields = FIELDS({"name", "string!", "Name of the container."},
                      {"image", "string!", "The container image the container is running."},
                      {"imageID", "string!", "The image ID of the container's image."},
                      {"ready", "boolean!", "Whether the container is currently passing its readiness check."},
                      {"started", "boolean", "Whether the container has finished its postStart hook and passed its startup probe."},
                      {"restartCount", "int32!", "The number of times the container has been restarted."},
                      {"state", "object", "Details about the container's current condition (waiting, running or terminated)."})},
    {.name = "core.Event",
     .desc = "Event is a report of an event somewhere in the cluster; servescale records "
             "scaling decisions and their reasons as events (read only).",
     .kind = true,
     .fields = FIELDS(
         {"involvedObject", "core.ObjectReference!", "The object that this event is about."},
         {"reason", "string",
          "A short, machine understandable string that gives the reason for the transition "
          "into the object's current status (SuccessfulRescale, ...)."},
         {"message", "string", "A human-readable description of the status of this operation."},
         {"type", "string=Normal,Warning", "Type of this event."},
         {"count", "int32", "The number of times this event has occurred."},
         {"firstTimestamp", "meta.Time", "The time at which the event was first recorded."},
         {"lastTimestamp", "meta.Time", "The time at which the most recent occurrence of this event was recorded."},
         {"eventTime", "meta.Time", "Time when this Event was first observed."},
         {"source", "core.EventSource", "The component reporting this event."},
         {"reportingComponent", "string", "Name of the controller that emitted this Event."},
         {"reportingInstance", "string", "ID of the controller instance."})},
    {.name = "core.ObjectReference",
     .desc = "ObjectReference contains enough information to let you inspect or modify the "
             "referred object.",
     .fields = FIELDS({"apiVersion", "string", "API version of the referent."},
                      {"kind", "string", "Kind of the referent."},
                      {"name", "string", "Name of the referent."},
                      {"namespace", "string", "Namespace of the referent."},
                      {"uid", "string", "UID of the referent."},
                      {"resourceVersion", "string", "Specific resourceVersion to which this reference is made, if any."},
                      {"fieldPath", "string", "If referring to a piece of an object, a JSON path to it."})},
    {.name = "core.EventSource",
     .desc = "EventSource contains information for an event.",
     .fields = FIELDS({"component", "string", "Component from which the event is generated."},
                      {"host", "string", "Node name on which the event is generated."})},
};

static const struct def apps_defs[] = {
    {.name = "apps.Deployment",
     .desc = "Deployment enables declarative updates for Pods and ReplicaSets. servescale runs "
             "the SeldonDeployment controller's (one per componentSpec container) and users' own.",
     .kind = true,
     .fields = FIELDS({"spec", "apps.DeploymentSpec",
                       "Specification of the desired behavior of the Deployment."},
                      {"status", "apps.DeploymentStatus",
                       "Most recently observed status of the Deployment."})},
    {.name = "apps.DeploymentSpec",
     .desc = "DeploymentSpec is the specification of the desired behavior of the Deployment.",
     .fields = FIELDS(
         {"replicas", "int32",
          "Number of desired pods. Defaults to 1; left to the autoscaler when an HPA or "
          "ScaledObject scales the Deployment."},
         {"selector", "meta.LabelSelector!",
          "Label selector for pods. It must match the pod template's labels."},
         {"template", "core.PodTemplateSpec!",
          "Template describes the pods that will be created."},
         {"strategy", "apps.DeploymentStrategy",
          "The deployment strategy to use to replace existing pods with new ones."},
         {"minReadySeconds", "int32",
          "Minimum number of seconds for which a newly created pod should be ready without "
          "any of its container crashing, for it to be considered available. Defaults to 0."},
         {"revisionHistoryLimit", "int32",
          "The number of old ReplicaSets to retain to allow rollback. Defaults to 10."},
         {"paused", "boolean", "Indicates that the deployment is paused."},
         {"progressDeadlineSeconds", "int32",
          "The maximum time in seconds for a deployment to make progress before it is "
          "considered to be failed. Defaults to 600s."})},
    {.name = "apps.DeploymentStrategy",
     .desc = "DeploymentStrategy describes how to replace existing pods with new ones.",
     .fields = FIELDS({"type", "string=Recreate,RollingUpdate",
                       "Type of deployment. Default is RollingUpdate."},
                      {"rollingUpdate", "object",
                       "Rolling update config params (maxSurge, maxUnavailable). Present only "
                       "if type = RollingUpdate."})},
    {.name = "apps.DeploymentStatus",
     .desc = "DeploymentStatus is the most recently observed status of the Deployment.",
     .fields = FIELDS(
         {"observedGeneration", "int64", "The generation observed by the deployment controller."},
         {"replicas", "int32", "Total number of non-terminated pods targeted by this deployment."},
         {"updatedReplicas", "int32",
          "Total number of non-terminated pods targeted by this deployment that have the "
          "desired template spec."},
         {"readyReplicas", "int32", "Total number of pods targeted by this Deployment with a Ready Condition."},
         {"availableReplicas", "int32",
          "Total number of available pods (ready for at least minReadySeconds) targeted by "
          "this deployment."},
         {"unavailableReplicas", "int32",
          "Total number of unavailable pods targeted by this deployment."},
         {"conditions", "[]apps.DeploymentCondition",
          "Represents the latest available observations of a deployment's current state "
          "(Available, Progressing)."})},
    {.name = "apps.DeploymentCondition",
     .desc = "DeploymentCondition describes the state of a deployment at a certain point.",
     .fields = FIELDS({"type", "string!", "Type of deployment condition: Available or Progressing."},
                      {"status", "string!", "Status of the condition, one of True, False, Unknown."},
                      {"lastUpdateTime", "meta.Time", "The last time this condition was updated."},
                      {"lastTransitionTime", "meta.Time", "Last time the condition transitioned from one status to another."},
                      {"reason", "string", "The reason for the condition's last transition."},
                      {"message", "string", "A human readable message indicating details about the transition."})},
};

static const struct def hpa_defs[] = {
    {.name = "as.HorizontalPodAutoscaler",
     .desc = "HorizontalPodAutoscaler is the configuration for a horizontal pod autoscaler, "
             "which automatically manages the replica count of any resource implementing the "
             "scale subresource based on the metrics specified.",
     .kind = true,
     .fields = FIELDS({"spec", "as.HorizontalPodAutoscalerSpec",
                       "spec is the specification for the behaviour of the autoscaler."},
                      {"status", "as.HorizontalPodAutoscalerStatus",
                       "status is the current information about the autoscaler."})},
    {.name = "as.HorizontalPodAutoscalerSpec",
     .desc = "HorizontalPodAutoscalerSpec describes the desired functionality of the "
             "HorizontalPodAutoscaler.",
     .fields = FIELDS(
         {"scaleTargetRef", "as.CrossVersionObjectReference!",
          "scaleTargetRef points to the target resource to scale (a Deployment or a "
          "SeldonDeployment with servescale)."},
         {"minReplicas", "int32",
          "minReplicas is the lower limit for the number of replicas. Defaults to 1 pod."},
         {"maxReplicas", "int32!",
          "maxReplicas is the upper limit for the number of replicas. It cannot be less than "
          "minReplicas."},
         {"metrics", "[]as.MetricSpec",
          "metrics contains the specifications for which to use to calculate the desired "
          "replica count (the maximum replica count across all metrics). Defaults to 80% "
          "average CPU utilization."},
         {"behavior", "as.HorizontalPodAutoscalerBehavior",
          "behavior configures the scaling behavior of the target in both Up and Down "
          "directions."})},
    {.name = "as.CrossVersionObjectReference",
     .desc = "CrossVersionObjectReference contains enough information to let you identify the "
             "referred resource.",
     .fields = FIELDS({"kind", "string!", "kind is the kind of the referent."},
                      {"name", "string!", "name is the name of the referent."},
                      {"apiVersion", "string", "apiVersion is the API version of the referent."})},
    {.name = "as.MetricSpec",
     .desc = "MetricSpec specifies how to scale based on a single metric (only type and one "
             "other matching field should be set at once).",
     .fields = FIELDS(
         {"type", "string=ContainerResource,External,Object,Pods,Resource!",
          "type is the type of metric source, each mapping to a matching field in the object."},
         {"resource", "as.ResourceMetricSource",
          "resource refers to a resource metric (such as cpu or memory) known to Kubernetes "
          "describing each pod in the current scale target."},
         {"containerResource", "as.ContainerResourceMetricSource",
          "containerResource refers to a resource metric of a single container in each pod of "
          "the scale target."},
         {"pods", "as.PodsMetricSource",
          "pods refers to a metric describing each pod in the current scale target; the "
          "values are averaged."},
         {"object", "as.ObjectMetricSource",
          "object refers to a metric describing a single kubernetes object."},
         {"external", "as.ExternalMetricSource",
          "external refers to a global metric that is not associated with any Kubernetes "
          "object."})},
    {.name = "as.ResourceMetricSource",
     .desc = "ResourceMetricSource indicates how to scale on a resource metric known to "
             "Kubernetes, as specified in requests and limits.",
     .fields = FIELDS({"name", "string!", "name is the name of the resource in question (cpu or memory)."},
                      {"target", "as.MetricTarget!", "target specifies the target value for the given metric."})},
    {.name = "as.ContainerResourceMetricSource",
     .desc = "ContainerResourceMetricSource indicates how to scale on a resource metric of one "
             "container in each pod.",
     .fields = FIELDS({"name", "string!", "name is the name of the resource in question."},
                      {"container", "string!", "container is the name of the container in the pods of the scaling target."},
                      {"target", "as.MetricTarget!", "target specifies the target value for the given metric."})},
    {.name = "as.PodsMetricSource",
     .desc = "PodsMetricSource indicates how to scale on a metric describing each pod in the "
             "current scale target.",
     .fields = FIELDS({"metric", "as.MetricIdentifier!", "metric identifies the target metric by name and selector."},
                      {"target", "as.MetricTarget!", "target specifies the target value for the given metric."})},
    {.name = "as.ObjectMetricSource",
     .desc = "ObjectMetricSource indicates how to scale on a metric describing a kubernetes "
             "object.",
     .fields = FIELDS({"describedObject", "as.CrossVersionObjectReference!", "describedObject specifies the descriptions of a object."},
                      {"metric", "as.MetricIdentifier!", "metric identifies the target metric by name and selector."},
                      {"target", "as.MetricTarget!", "target specifies the target value for the given metric."})},
    {.name = "as.ExternalMetricSource",
     .desc = "ExternalMetricSource indicates how to scale on a metric not associated with any "
             "Kubernetes object.",
     .fields = FIELDS({"metric", "as.MetricIdentifier!", "metric identifies the target metric by name and selector."},
                      {"target", "as.MetricTarget!", "target specifies the target value for the given metric."})},
    {.name = "as.MetricIdentifier",
     .desc = "MetricIdentifier defines the name and optionally selector for a metric.",
     .fields = FIELDS({"name", "string!", "name is the name of the given metric."},
                      {"selector", "meta.LabelSelector",
                       "selector is the string-encoded form of a standard kubernetes label "
                       "selector for the given metric."})},
    {.name = "as.MetricTarget",
     .desc = "MetricTarget defines the target value, average value, or average utilization of a "
             "specific metric.",
     .fields = FIELDS(
         {"type", "string=Utilization,Value,AverageValue!",
          "type represents whether the metric type is Utilization, Value, or AverageValue."},
         {"value", "res.Quantity", "value is the target value of the metric (as a quantity)."},
         {"averageValue", "res.Quantity",
          "averageValue is the target value of the average of the metric across all relevant "
          "pods (as a quantity)."},
         {"averageUtilization", "int32",
          "averageUtilization is the target value of the average of the resource metric "
          "across all relevant pods, as a percentage of the requested value of the resource "
          "for the pods. Currently only valid for Resource metric source type."})},
    {.name = "as.HorizontalPodAutoscalerBehavior",
     .desc = "HorizontalPodAutoscalerBehavior configures the scaling behavior of the target in "
             "both Up and Down directions (scaleUp and scaleDown fields respectively).",
     .fields = FIELDS({"scaleUp", "as.HPAScalingRules",
                       "scaleUp is scaling policy for scaling Up. If not set, the default is the "
                       "higher of 4 pods or 100% per 15 seconds, with no stabilization."},
                      {"scaleDown", "as.HPAScalingRules",
                       "scaleDown is scaling policy for scaling Down. If not set, the default "
                       "allows scaling down to minReplicas with a 300 second stabilization "
                       "window."})},
    {.name = "as.HPAScalingRules",
     .desc = "HPAScalingRules configures the scaling behavior for one direction.",
     .fields = FIELDS(
         {"stabilizationWindowSeconds", "int32",
          "The number of seconds for which past recommendations should be considered while "
          "scaling (0 to 3600)."},
         {"selectPolicy", "string=Max,Min,Disabled",
          "selectPolicy is used to specify which policy should be used. Defaults to Max."},
         {"policies", "[]as.HPAScalingPolicy",
          "policies is a list of potential scaling polices which can be used during scaling."},
         {"tolerance", "res.Quantity",
          "tolerance is the tolerance on the ratio between the current and desired metric "
          "value under which no updates are made (default 0.1, the cluster-wide default)."})},
    {.name = "as.HPAScalingPolicy",
     .desc = "HPAScalingPolicy is a single policy which must hold true for a specified past "
             "interval.",
     .fields = FIELDS({"type", "string=Pods,Percent!", "type is used to specify the scaling policy."},
                      {"value", "int32!", "value contains the amount of change which is permitted by the policy. It must be greater than zero."},
                      {"periodSeconds", "int32!", "periodSeconds specifies the window of time for which the policy should hold true (0 to 1800)."})},
    {.name = "as.HorizontalPodAutoscalerStatus",
     .desc = "HorizontalPodAutoscalerStatus describes the current status of a horizontal pod "
             "autoscaler.",
     .fields = FIELDS(
         {"observedGeneration", "int64", "observedGeneration is the most recent generation observed by this autoscaler."},
         {"lastScaleTime", "meta.Time",
          "lastScaleTime is the last time the HorizontalPodAutoscaler scaled the number of "
          "pods."},
         {"currentReplicas", "int32", "currentReplicas is current number of replicas of pods managed by this autoscaler."},
         {"desiredReplicas", "int32!", "desiredReplicas is the desired number of replicas of pods managed by this autoscaler."},
         {"currentMetrics", "[]object", "currentMetrics is the last read state of the metrics used by this autoscaler."},
         {"conditions", "[]as.HorizontalPodAutoscalerCondition",
          "conditions is the set of conditions required for this autoscaler to scale its "
          "target (AbleToScale, ScalingActive, ScalingLimited)."})},
    {.name = "as.HorizontalPodAutoscalerCondition",
     .desc = "HorizontalPodAutoscalerCondition describes the state of a HorizontalPodAutoscaler "
             "at a certain point.",
     .fields = FIELDS({"type", "string!", "type describes the current condition."},
                      {"status", "string!", "status is the status of the condition (True, False, Unknown)."},
                      {"lastTransitionTime", "meta.Time", "lastTransitionTime is the last time the condition transitioned from one status to another."},
                      {"reason", "string", "reason is the reason for the condition's last transition."},
                      {"message", "string", "message is a human-readable explanation containing details about the transition."})},
};

static const struct def keda_defs[] = {
    {.name = "keda.ScaledObject",
     .desc = "ScaledObject is a specification for a KEDA ScaledObject resource: event-driven "
             "scaling of a Deployment (or anything with a /scale) through an HPA KEDA makes, "
             "keda-hpa-<name>.",
     .kind = true,
     .fields = FIELDS({"spec", "keda.ScaledObjectSpec!", "What to scale, on which triggers, within which limits."},
                      {"status", "keda.ScaledObjectStatus", "The observed state, written by servescale's KEDA controller."})},
    {.name = "keda.ScaledObjectSpec",
     .desc = "ScaledObjectSpec is the spec for a ScaledObject resource.",
     .fields = FIELDS(
         {"scaleTargetRef", "keda.ScaleTarget!", "The object to scale (a Deployment unless kind says otherwise)."},
         {"pollingInterval", "int32",
          "The interval in seconds to check each trigger on. Defaults to 30."},
         {"initialCooldownPeriod", "int32",
          "The delay in seconds before the cooldownPeriod starts after the initial creation. "
          "Defaults to 0."},
         {"cooldownPeriod", "int32",
          "The period in seconds to wait after the last trigger reported active before "
          "scaling the resource back to minReplicaCount (or idleReplicaCount). Defaults to 300."},
         {"idleReplicaCount", "int32",
          "The replica count used while no trigger is active; must be less than "
          "minReplicaCount."},
         {"minReplicaCount", "int32", "Minimum number of replicas KEDA scales to. Defaults to 0."},
         {"maxReplicaCount", "int32",
          "The maximum number of replicas of the target; passed to the HPA KEDA creates. "
          "Defaults to 100."},
         {"advanced", "keda.AdvancedConfig", "Advanced options: the HPA KEDA makes, scaling modifiers."},
         {"triggers", "[]keda.ScaleTriggers!",
          "The list of triggers (scalers) to activate the scaling of the target resource."},
         {"fallback", "keda.Fallback",
          "Fallback is the spec for fallback options: the replicas to use when a scaler keeps "
          "failing."})},
    {.name = "keda.ScaleTarget",
     .desc = "ScaleTarget holds the reference to the scale target Object.",
     .fields = FIELDS({"name", "string!", "Name of the target resource."},
                      {"apiVersion", "string", "API version of the target. Defaults to apps/v1."},
                      {"kind", "string", "Kind of the target. Defaults to Deployment."},
                      {"envSourceContainerName", "string",
                       "The container whose environment resolves trigger parameters given "
                       "with a FromEnv suffix."})},
    {.name = "keda.AdvancedConfig",
     .desc = "AdvancedConfig specifies advance scaling options.",
     .fields = FIELDS(
         {"horizontalPodAutoscalerConfig", "keda.HorizontalPodAutoscalerConfig",
          "HorizontalPodAutoscalerConfig specifies horizontal scale config."},
         {"restoreToOriginalReplicaCount", "boolean",
          "Whether the target is scaled back to its original replica count when the "
          "ScaledObject is deleted."},
         {"scalingModifiers", "keda.ScalingModifiers",
          "ScalingModifiers describes advanced scaling logic options like formula."})},
    {.name = "keda.HorizontalPodAutoscalerConfig",
     .desc = "HorizontalPodAutoscalerConfig specifies horizontal scale config.",
     .fields = FIELDS({"name", "string", "The name of the HPA KEDA creates; defaults to keda-hpa-<name>."},
                      {"behavior", "as.HorizontalPodAutoscalerBehavior",
                       "The HPA's scaling behavior in both Up and Down directions."})},
    {.name = "keda.ScalingModifiers",
     .desc = "ScalingModifiers describes advanced scaling logic options like formula.",
     .fields = FIELDS({"formula", "string", "An expression over the triggers' values, by trigger name, giving one composite metric."},
                      {"target", "string", "The target value of the composite metric."},
                      {"activationTarget", "string", "The activation target of the composite metric."},
                      {"metricType", "string=AverageValue,Value",
                       "MetricTargetType specifies the type of metric being targeted."})},
    {.name = "keda.ScaleTriggers",
     .desc = "ScaleTriggers reference the scaler that will be used.",
     .fields = FIELDS(
         {"type", "string!",
          "The scaler: servescale evaluates prometheus, cpu and memory triggers."},
         {"name", "string", "The trigger's name, used by scalingModifiers.formula."},
         {"metadata", "map!",
          "The scaler's parameters (for prometheus: serverAddress, query, threshold, "
          "activationThreshold, ...)."},
         {"authenticationRef", "keda.AuthenticationRef",
          "AuthenticationRef points to the TriggerAuthentication or "
          "ClusterTriggerAuthentication object that is used to authenticate the scaler with "
          "the environment."},
         {"metricType", "string=AverageValue,Value,Utilization",
          "MetricTargetType specifies the type of metric being targeted, and should be either "
          "\"Value\", \"AverageValue\", or \"Utilization\"."},
         {"useCachedMetrics", "boolean",
          "Whether the HPA's metric requests are answered from the last poll."})},
    {.name = "keda.AuthenticationRef",
     .desc = "AuthenticationRef points to the TriggerAuthentication or "
             "ClusterTriggerAuthentication object that is used to authenticate the scaler with "
             "the environment.",
     .fields = FIELDS({"name", "string!", "Name of the authentication object."},
                      {"kind", "string", "Kind of the resource being referred to. Defaults to TriggerAuthentication."})},
    {.name = "keda.Fallback",
     .desc = "Fallback is the spec for fallback options.",
     .fields = FIELDS(
         {"failureThreshold", "int32!",
          "The number of consecutive failures of a scaler after which fallback applies."},
         {"replicas", "int32!", "The replica count to use while in fallback."},
         {"behavior", "string=static,currentReplicas,currentReplicasIfHigher,currentReplicasIfLower",
          "How the fallback replicas are chosen. Defaults to static."})},
    {.name = "keda.ScaledObjectStatus",
     .desc = "ScaledObjectStatus is the status for a ScaledObject resource.",
     .fields = FIELDS(
         {"conditions", "[]meta.Condition", "Conditions of the ScaledObject: Ready, Active, Fallback, Paused."},
         {"scaleTargetKind", "string", "The group, version and kind of the scale target."},
         {"hpaName", "string", "The name of the HPA KEDA made for this ScaledObject."},
         {"lastActiveTime", "meta.Time", "The last time a trigger was active."},
         {"originalReplicaCount", "int32", "The target's replica count before KEDA scaled it."},
         {"currentReplicas", "int32", "servescale: the target's replica count at the last poll."},
         {"desiredReplicas", "int32", "servescale: the replica count the last poll decided."},
         {"triggers", "[]object",
          "servescale: each trigger's last value, whether it is active, failed or in "
          "fallback, and its consecutive failures."},
         {"observedGeneration", "int64", "The generation of the spec the status reflects."},
         {"lastScaleTime", "meta.Time", "servescale: the last time the target was scaled."})},
};

static const struct def mon_defs[] = {
    {.name = "mon.PodMonitor",
     .desc = "The PodMonitor custom resource definition (CRD) defines how Prometheus should "
             "scrape metrics from a group of pods; `servescale prometheus-config` reads them as "
             "the operator does on a cluster.",
     .kind = true,
     .fields = FIELDS({"spec", "mon.PodMonitorSpec!", "Specification of desired Pod selection for target discovery by Prometheus."})},
    {.name = "mon.PodMonitorSpec",
     .desc = "PodMonitorSpec contains specification parameters for a PodMonitor.",
     .fields = FIELDS(
         {"selector", "meta.LabelSelector!", "Label selector to select the Kubernetes Pod objects to scrape metrics from."},
         {"namespaceSelector", "mon.NamespaceSelector",
          "namespaceSelector defines in which namespace(s) Prometheus should discover the pods. "
          "By default, the pods are discovered in the same namespace as the PodMonitor."},
         {"podMetricsEndpoints", "[]mon.PodMetricsEndpoint",
          "Defines how to scrape metrics from the selected pods."},
         {"jobLabel", "string", "The label to use to retrieve the job name from."},
         {"podTargetLabels", "[]string", "Labels transferred from the Kubernetes Pod onto the target."},
         {"sampleLimit", "int64", "Per-scrape limit on the number of scraped samples that will be accepted."})},
    {.name = "mon.PodMetricsEndpoint",
     .desc = "PodMetricsEndpoint defines an endpoint serving Prometheus metrics to be scraped.",
     .fields = FIELDS({"port", "string", "The Pod port name which exposes the endpoint."},
                      {"targetPort", "intstr.IntOrString", "Name or number of the target port of the Pod object behind the Service. Deprecated: use port."},
                      {"path", "string", "HTTP path from which to scrape for metrics. Defaults to /metrics."},
                      {"scheme", "string=http,https", "HTTP scheme to use for scraping."},
                      {"interval", "string", "Interval at which Prometheus scrapes the metrics from the target."},
                      {"scrapeTimeout", "string", "Timeout after which Prometheus considers the scrape to be failed."},
                      {"params", "object", "HTTP parameters to add to the scrape request."},
                      {"honorLabels", "boolean", "When true, honorLabels preserves the metric's labels when they collide with the target's labels."},
                      {"relabelings", "[]object", "The relabeling rules to apply to the samples before ingestion."},
                      {"metricRelabelings", "[]object", "The relabeling rules to apply to the samples before ingestion."})},
    {.name = "mon.NamespaceSelector",
     .desc = "NamespaceSelector is a selector for selecting either all namespaces or a list of "
             "namespaces.",
     .fields = FIELDS({"any", "boolean", "Boolean describing whether all namespaces are selected in contrast to a list restricting them."},
                      {"matchNames", "[]string", "List of namespace names to select from."})},
    {.name = "mon.ServiceMonitor",
     .desc = "The ServiceMonitor custom resource definition (CRD) defines how Prometheus should "
             "scrape metrics from a set of Services. servescale stores them as written.",
     .kind = true,
     .fields = FIELDS({"spec", "mon.ServiceMonitorSpec!", "Specification of desired Service selection for target discovery by Prometheus."})},
    {.name = "mon.ServiceMonitorSpec",
     .desc = "ServiceMonitorSpec defines the specification parameters for a ServiceMonitor.",
     .fields = FIELDS(
         {"selector", "meta.LabelSelector!", "Label selector to select the Kubernetes Endpoints objects to scrape metrics from."},
         {"namespaceSelector", "mon.NamespaceSelector",
          "namespaceSelector defines in which namespace(s) Prometheus should discover the "
          "services. By default, the services are discovered in the same namespace as the "
          "ServiceMonitor."},
         {"endpoints", "[]mon.Endpoint", "List of endpoints part of this ServiceMonitor."},
         {"jobLabel", "string", "The label to use to retrieve the job name from."},
         {"targetLabels", "[]string", "Labels transferred from the Kubernetes Service onto the target."},
         {"podTargetLabels", "[]string", "Labels transferred from the Kubernetes Pod onto the target."},
         {"sampleLimit", "int64", "Per-scrape limit on the number of scraped samples that will be accepted."})},
    {.name = "mon.Endpoint",
     .desc = "Endpoint defines an endpoint serving Prometheus metrics to be scraped by "
             "Prometheus.",
     .fields = FIELDS({"port", "string", "Name of the Service port which this endpoint refers to."},
                      {"targetPort", "intstr.IntOrString", "Name or number of the target port of the Pod object behind the Service."},
                      {"path", "string", "HTTP path from which to scrape for metrics. Defaults to /metrics."},
                      {"scheme", "string=http,https", "HTTP scheme to use for scraping."},
                      {"interval", "string", "Interval at which Prometheus scrapes the metrics from the target."},
                      {"scrapeTimeout", "string", "Timeout after which Prometheus considers the scrape to be failed."},
                      {"params", "object", "HTTP parameters to add to the scrape request."},
                      {"honorLabels", "boolean", "When true, honorLabels preserves the metric's labels when they collide with the target's labels."},
                      {"relabelings", "[]object", "The relabeling rules to apply to the samples before ingestion."},
                      {"metricRelabelings", "[]object", "The relabeling rules to apply to the samples before ingestion."})},
};

/* SeldonDeployment (machinelearning.seldon.io v1; v1alpha2 and v1alpha3 share it). */
static const struct def sdep_defs[] = {
    {.name = "sd.SeldonDeployment",
     .desc = "SeldonDeployment is the Schema for the seldondeployments API: one or more "
             "predictors, each an inference graph of models, routers, combiners and "
             "transformers run from componentSpecs.",
     .kind = true,
     .fields = FIELDS({"spec", "sd.SeldonDeploymentSpec", "The desired state: the predictors and their graphs."},
                      {"status", "sd.SeldonDeploymentStatus", "The observed state, written by servescale."})},
    {.name = "sd.SeldonDeploymentSpec",
     .desc = "SeldonDeploymentSpec defines the desired state of SeldonDeployment.",
     .fields = FIELDS(
         {"name", "string", "Name is deprecated and will be removed in future."},
         {"predictors", "[]sd.PredictorSpec!",
          "A list of 1 or more predictors describing runtime machine learning deployment "
          "graphs; traffic is split between them by their traffic weights."},
         {"oauth_key", "string",
          "The oauth key for external users to use this deployment via an API."},
         {"oauth_secret", "string",
          "The oauth secret for external users to use this deployment via an API."},
         {"annotations", "map", "Arbitrary annotations; seldon.io/* keys tune the deployment."},
         {"protocol", "string=seldon,tensorflow,kfserving,v2",
          "The prediction API the graph's components speak. Defaults to seldon."},
         {"transport", "string=rest,grpc", "The transport the components serve. Defaults to rest."},
         {"replicas", "int32",
          "Number of replicas of every componentSpec and predictor that does not set its own; "
          "the scale subresource reads and writes it."},
         {"serverType", "string=rpc,kafka", "The serving mode. Defaults to rpc."})},
    {.name = "sd.PredictorSpec",
     .desc = "PredictorSpec is one predictor: an inference graph and the containers that run "
             "it.",
     .fields = FIELDS(
         {"name", "string!", "A unique name not used by any other predictor in the deployment."},
         {"graph", "sd.PredictiveUnit!",
          "A graph describing how the predictive units are connected together."},
         {"componentSpecs", "[]sd.SeldonPodSpec",
          "A description of the set of containers used by the graph. One for each "
          "microservice defined in the graph. Can be split over 1 or more PodTemplateSpecs."},
         {"hpaSpecs", "[]sd.SeldonHpaSpec",
          "servescale: HPA specs on the predictor, each aimed by scaleTargetRef.name at a "
          "componentSpec (its metadata.name or its Deployment's name)."},
         {"replicas", "int32",
          "The number of replicas of the predictor's componentSpecs that do not set their own."},
         {"annotations", "map", "Arbitrary annotations."},
         {"labels", "map", "Labels to be attached to entry deployment for this predictor."},
         {"engineResources", "core.ResourceRequirements",
          "Deprecated: resources for the Seldon engine added to each predictor graph to manage "
          "the request/response flow; use svcOrchSpec."},
         {"svcOrchSpec", "sd.SvcOrchSpec", "Service orchestrator configuration."},
         {"traffic", "int32", "Traffic weight for this predictor (percent)."},
         {"explainer", "sd.Explainer", "Explainer for predictor."},
         {"shadow", "boolean",
          "A shadow predictor receives a copy of the traffic; its responses are discarded."},
         {"ssl", "sd.SSL", "TLS for the predictor's service."},
         {"progressDeadlineSeconds", "int32",
          "The maximum time in seconds for the predictor's Deployments to make progress "
          "before they are considered failed."})},
    {.name = "sd.PredictiveUnit",
     .desc = "Represents a unit in a runtime prediction graph that performs a piece of "
             "functionality within the prediction request/response calls.",
     .fields = FIELDS(
         {"name", "string!",
          "Must match the name of a componentSpec container unless an implementation is given."},
         {"children", "[]sd.PredictiveUnit", "The child predictive units."},
         {"type", "string=UNKNOWN_TYPE,ROUTER,COMBINER,MODEL,TRANSFORMER,OUTPUT_TRANSFORMER",
          "The main type of the predictive unit. Routers decide where requests are sent, "
          "combiners ensemble responses from their children, models are leaf nodes, "
          "transformers alter the request features."},
         {"implementation", "string",
          "A prepackaged implementation (SKLEARN_SERVER, XGBOOST_SERVER, TENSORFLOW_SERVER, "
          "MLFLOW_SERVER, TRITON_SERVER, ...) or a built-in unit (SIMPLE_MODEL, SIMPLE_ROUTER, "
          "RANDOM_ABTEST, AVERAGE_COMBINER)."},
         {"methods", "[]string",
          "The methods the unit implements: TRANSFORM_INPUT, TRANSFORM_OUTPUT, ROUTE, "
          "AGGREGATE, SEND_FEEDBACK."},
         {"endpoint", "sd.Endpoint", "The exposed endpoint for this unit."},
         {"parameters", "[]sd.Parameter", "Customer parameters to pass to the unit."},
         {"modelUri", "string", "Location of the saved model (bucket or PVC)."},
         {"serviceAccountName", "string", "Service account for pulling the model from the bucket."},
         {"envSecretRefName", "string", "Secret for pulling from the bucket."},
         {"storageInitializerImage", "string", "The image that downloads modelUri."},
         {"logger", "sd.Logger", "Payload logging of the unit's requests and responses."})},
    {.name = "sd.Endpoint",
     .desc = "The exposed endpoint of a predictive unit.",
     .fields = FIELDS({"service_host", "string", "Hostname for the endpoint."},
                      {"service_port", "int32", "The port to connect to the service."},
                      {"type", "string=REST,GRPC", "The protocol handled by the endpoint."},
                      {"httpPort", "int32", "The HTTP port."},
                      {"grpcPort", "int32", "The gRPC port."})},
    {.name = "sd.Parameter",
     .desc = "A parameter passed to a predictive unit.",
     .fields = FIELDS({"name", "string!", "The parameter's name."},
                      {"value", "string!", "The parameter's value, as a string of its type."},
                      {"type", "string=INT,FLOAT,DOUBLE,STRING,BOOL!", "The parameter's type."})},
    {.name = "sd.Logger",
     .desc = "Logger provides optional payload logging for all endpoints.",
     .fields = FIELDS({"url", "string", "URL to send request logging CloudEvents."},
                      {"mode", "string=all,request,response", "What payloads to log."})},
    {.name = "sd.SeldonPodSpec",
     .desc = "A componentSpec: the pod that runs some of the graph's containers, with its "
             "replicas and autoscaling.",
     .fields = FIELDS(
         {"metadata", "meta.ObjectMeta",
          "Metadata of the pod (name, labels, annotations); the name, when given, names the "
          "Deployment."},
         {"spec", "core.PodSpec",
          "The pod: containers named as the graph's units. servescale runs each container as "
          "a Deployment."},
         {"hpaSpec", "sd.SeldonHpaSpec",
          "A HorizontalPodAutoscaler for this componentSpec's Deployments."},
         {"kedaSpec", "sd.SeldonScaledObjectSpec",
          "A KEDA ScaledObject for this componentSpec's Deployments."},
         {"pdbSpec", "sd.SeldonPdbSpec", "A PodDisruptionBudget for this componentSpec."},
         {"replicas", "int32",
          "The number of replicas; takes precedence over the predictor's and spec.replicas."})},
    {.name = "sd.SeldonHpaSpec",
     .desc = "The HorizontalPodAutoscaler of a componentSpec (autoscaling/v2beta1 metrics, as "
             "Seldon's CRD has them; the autoscaling/v2 forms are accepted too).",
     .fields = FIELDS(
         {"minReplicas", "int32", "The lower limit for the number of replicas. Defaults to 1."},
         {"maxReplicas", "int32!", "The upper limit for the number of replicas."},
         {"metrics", "[]sd.MetricSpec",
          "The metrics the desired replica count is calculated from (the highest wins)."},
         {"metricsv2", "[]as.MetricSpec",
          "The metrics as autoscaling/v2 MetricSpecs; when given, used instead of metrics "
          "(Seldon 1.15+)."},
         {"behavior", "as.HorizontalPodAutoscalerBehavior",
          "servescale: the HPA's scaling behavior, as in autoscaling/v2."},
         {"scaleTargetRef", "as.CrossVersionObjectReference",
          "In hpaSpecs only: the componentSpec this HPA scales, by name."})},
    {.name = "sd.MetricSpec",
     .desc = "MetricSpec specifies how to scale based on a single metric (autoscaling/v2beta1).",
     .fields = FIELDS(
         {"type", "string=ContainerResource,External,Object,Pods,Resource!",
          "type is the type of metric source, each mapping to a matching field in the object."},
         {"resource", "sd.ResourceMetricSource",
          "resource refers to a resource metric (such as cpu or memory) describing each pod "
          "in the current scale target."},
         {"containerResource", "sd.ContainerResourceMetricSource",
          "container resource refers to a resource metric of a single container in each pod "
          "of the scale target."},
         {"pods", "sd.PodsMetricSource",
          "pods refers to a metric describing each pod in the current scale target."},
         {"object", "sd.ObjectMetricSource",
          "object refers to a metric describing a single kubernetes object."},
         {"external", "sd.ExternalMetricSource",
          "external refers to a global metric that is not associated with any Kubernetes "
          "object."})},
    {.name = "sd.ResourceMetricSource",
     .desc = "ResourceMetricSource indicates how to scale on a resource metric known to "
             "Kubernetes.",
     .fields = FIELDS({"name", "string!", "name is the name of the resource in question (cpu or memory)."},
                      {"targetAverageUtilization", "int32",
                       "The target value of the average of the resource metric across all "
                       "relevant pods, as a percentage of the requested value."},
                      {"targetAverageValue", "res.Quantity",
                       "The target value of the average of the resource metric across all "
                       "relevant pods, as a raw value."})},
    {.name = "sd.ContainerResourceMetricSource",
     .desc = "ContainerResourceMetricSource indicates how to scale on a resource metric of one "
             "container in each pod.",
     .fields = FIELDS({"name", "string!", "name is the name of the resource in question."},
                      {"container", "string!", "container is the name of the container in the pods of the scaling target."},
                      {"targetAverageUtilization", "int32", "The target average utilization, as a percentage of the requested value."},
                      {"targetAverageValue", "res.Quantity", "The target average value, as a raw value."})},
    {.name = "sd.PodsMetricSource",
     .desc = "PodsMetricSource indicates how to scale on a metric describing each pod in the "
             "current scale target.",
     .fields = FIELDS({"metricName", "string!", "metricName is the name of the metric in question."},
                      {"selector", "meta.LabelSelector", "selector for the given metric, passed to the metrics server."},
                      {"targetAverageValue", "res.Quantity!",
                       "The target value of the average of the metric across all relevant pods "
                       "(as a quantity)."})},
    {.name = "sd.ObjectMetricSource",
     .desc = "ObjectMetricSource indicates how to scale on a metric describing a kubernetes "
             "object.",
     .fields = FIELDS({"target", "as.CrossVersionObjectReference!", "target is the described Kubernetes object."},
                      {"metricName", "string!", "metricName is the name of the metric in question."},
                      {"targetValue", "res.Quantity!", "targetValue is the target value of the metric (as a quantity)."},
                      {"averageValue", "res.Quantity", "averageValue is the target value of the average of the metric across all relevant pods."},
                      {"selector", "meta.LabelSelector", "selector for the given metric, passed to the metrics server."})},
    {.name = "sd.ExternalMetricSource",
     .desc = "ExternalMetricSource indicates how to scale on a metric not associated with any "
             "Kubernetes object.",
     .fields = FIELDS({"metricName", "string!", "metricName is the name of the metric in question."},
                      {"metricSelector", "meta.LabelSelector", "metricSelector is used to identify a specific time series within a given metric."},
                      {"targetValue", "res.Quantity", "targetValue is the target value of the metric. Mutually exclusive with targetAverageValue."},
                      {"targetAverageValue", "res.Quantity", "targetAverageValue is the target per-pod value of the global metric. Mutually exclusive with targetValue."})},
    {.name = "sd.SeldonScaledObjectSpec",
     .desc = "SeldonScaledObjectSpec is the spec for a KEDA ScaledObject resource, aimed at the "
             "componentSpec's Deployment.",
     .fields = FIELDS(
         {"pollingInterval", "int32", "The interval in seconds to check each trigger on. Defaults to 30."},
         {"cooldownPeriod", "int32",
          "The period in seconds to wait after the last trigger reported active before "
          "scaling back to minReplicaCount. Defaults to 300."},
         {"minReplicaCount", "int32", "Minimum number of replicas KEDA scales to. Defaults to 0."},
         {"maxReplicaCount", "int32", "Maximum number of replicas. Defaults to 100."},
         {"idleReplicaCount", "int32", "The replica count used while no trigger is active."},
         {"advanced", "keda.AdvancedConfig", "Advanced options: the HPA KEDA makes, scaling modifiers."},
         {"triggers", "[]keda.ScaleTriggers!",
          "The list of triggers (scalers) to activate the scaling of the Deployment."},
         {"fallback", "keda.Fallback", "The replicas to use while a scaler keeps failing."})},
    {.name = "sd.SeldonPdbSpec",
     .desc = "A PodDisruptionBudget for a componentSpec's Deployments.",
     .fields = FIELDS({"minAvailable", "intstr.IntOrString",
                       "An eviction is allowed if at least minAvailable pods will still be "
                       "available after the eviction (\"100%\" prevents all voluntary "
                       "evictions)."},
                      {"maxUnavailable", "intstr.IntOrString",
                       "An eviction is allowed if at most maxUnavailable pods are unavailable "
                       "after the eviction. Mutually exclusive with minAvailable."})},
    {.name = "sd.SvcOrchSpec",
     .desc = "Service orchestrator configuration.",
     .fields = FIELDS({"resources", "core.ResourceRequirements", "Resources of the service orchestrator."},
                      {"env", "[]core.EnvVar", "Environment variables of the service orchestrator."},
                      {"replicas", "int32", "Replicas of the service orchestrator."})},
    {.name = "sd.Explainer",
     .desc = "An explainer for a predictor.",
     .fields = FIELDS(
         {"type", "string",
          "Type of explainer: AnchorTabular, AnchorImages, AnchorText, Counterfactuals, "
          "Contrastive, KernelShap, IntegratedGradients, ALE, TreeShap."},
         {"modelUri", "string", "Bucket or PVC location of the explainer model."},
         {"serviceAccountName", "string", "Service account for pulling from the bucket."},
         {"containerSpec", "core.Container", "Custom container spec for the explainer."},
         {"config", "map", "Explainer configuration."},
         {"endpoint", "sd.Endpoint", "The explainer's endpoint."},
         {"envSecretRefName", "string", "Secret for pulling from the bucket."},
         {"storageInitializerImage", "string", "The image that downloads modelUri."},
         {"replicas", "int32", "Replicas of the explainer."},
         {"initParameters", "string", "Initialisation parameters, as JSON."})},
    {.name = "sd.SSL",
     .desc = "TLS for a predictor.",
     .fields = FIELDS({"certSecretName", "string", "The secret holding the certificate."})},
    {.name = "sd.SeldonDeploymentStatus",
     .desc = "SeldonDeploymentStatus defines the observed state of SeldonDeployment.",
     .fields = FIELDS(
         {"state", "string=Creating,Failed,Available",
          "A short status value for the deployment."},
         {"description", "string", "A longer description of the current state."},
         {"deploymentStatus", "map:sd.DeploymentStatus", "The status of each Deployment, by name."},
         {"serviceStatus", "map:sd.ServiceStatus", "The status of each Service, by name."},
         {"replicas", "int32", "The replicas the scale subresource reports."},
         {"address", "sd.SeldonAddressable", "Where predictions are served."},
         {"conditions", "[]sd.Condition",
          "Conditions the latest available observations of a resource's current state."},
         {"observedGeneration", "int64", "The metadata.generation the status reflects."},
         {"annotations", "map", "Additional status fields."})},
    {.name = "sd.DeploymentStatus",
     .desc = "The status of one of the deployment's Deployments.",
     .fields = FIELDS({"name", "string", "The Deployment's name."},
                      {"status", "string", "A short status value."},
                      {"description", "string", "A longer description of the current status."},
                      {"replicas", "int32", "The number of replicas requested."},
                      {"availableReplicas", "int32", "The number of replicas available."},
                      {"explainerFor", "string", "The predictor an explainer Deployment explains."})},
    {.name = "sd.ServiceStatus",
     .desc = "The status of one of the deployment's Services.",
     .fields = FIELDS({"svcName", "string", "The Service's name."},
                      {"httpEndpoint", "string", "The HTTP endpoint."},
                      {"grpcEndpoint", "string", "The gRPC endpoint."},
                      {"explainerFor", "string", "The predictor an explainer Service explains."})},
    {.name = "sd.SeldonAddressable",
     .desc = "Where a SeldonDeployment is reached.",
     .fields = FIELDS({"url", "string", "The URL predictions are served at."})},
    {.name = "sd.Condition",
     .desc = "A condition of the resource's current state.",
     .fields = FIELDS({"type", "string!", "Type of condition."},
                      {"status", "string!", "Status of the condition, one of True, False, Unknown."},
                      {"severity", "string", "Severity with which to treat failures of this type of condition. Defaults to Error."},
                      {"lastTransitionTime", "string", "The last time the condition transitioned from one status to another."},
                      {"reason", "string", "The reason for the condition's last transition."},
                      {"message", "string", "A human readable message indicating details about the transition."})},
};

/* Seldon Core 2 (mlops.seldon.io v1alpha1). */
static const struct def core2_defs[] = {
    {.name = "ml.Model",
     .desc = "Model is the Schema for the models API: a model artifact loaded onto a Server.",
     .kind = true,
     .fields = FIELDS({"spec", "ml.ModelSpec", "The desired state: the artifact and where to load it."},
                      {"status", "ml.ModelStatus", "The observed state, written by servescale."})},
    {.name = "ml.ModelSpec",
     .desc = "ModelSpec defines the desired state of Model.",
     .fields = FIELDS(
         {"storageUri", "string!", "Storage URI for the model repository."},
         {"artifactVersion", "int32", "Artifact Version: a v2 version folder to select from the storage bucket."},
         {"schemaUri", "string", "Schema URI."},
         {"requirements", "[]string",
          "List of extra requirements for this model to be loaded on a compatible server."},
         {"memory", "res.Quantity", "Memory needed for the model."},
         {"server", "string", "Name of the Server to deploy this artifact."},
         {"preloaded", "boolean", "Model already loaded on a server. Don't schedule. Default false."},
         {"dedicated", "boolean", "Dedicated server exclusive to this model. Default false."},
         {"replicas", "int32", "Number of replicas. Default 1."},
         {"minReplicas", "int32", "Min number of replicas. Default 0."},
         {"maxReplicas", "int32", "Max number of replicas. Default 0."},
         {"parameters", "[]ml.ModelParameter", "Parameters to load with the model."},
         {"explainer", "ml.ExplainerSpec", "Explainer spec."},
         {"llm", "ml.LlmSpec", "Llm spec."},
         {"dataset", "object", "Dataset spec."},
         {"logger", "ml.LoggingSpec", "Payload logging."},
         {"secretName", "string", "Secret name."})},
    {.name = "ml.ModelParameter",
     .desc = "A parameter to load with a model.",
     .fields = FIELDS({"name", "string!", "The parameter's name."},
                      {"value", "string!", "The parameter's value."})},
    {.name = "ml.ExplainerSpec",
     .desc = "An explainer: a blackbox explainer of another Model or Pipeline.",
     .fields = FIELDS({"type", "string", "Type of explainer."},
                      {"modelRef", "string", "Reference to the Model a blackbox explainer explains."},
                      {"pipelineRef", "string", "Reference to the Pipeline a blackbox explainer explains."})},
    {.name = "ml.LlmSpec",
     .desc = "The Model or Pipeline an LLM model uses.",
     .fields = FIELDS({"modelRef", "string", "Reference to Model."},
                      {"pipelineRef", "string", "Reference to Pipeline."})},
    {.name = "ml.LoggingSpec",
     .desc = "What share of the model's payloads is logged.",
     .fields = FIELDS({"percent", "integer", "Percentage of payloads to log."})},
    {.name = "ml.ModelStatus",
     .desc = "ModelStatus defines the observed state of Model.",
     .fields = FIELDS({"replicas", "int32", "Total number of replicas targeted by this model."},
                      {"availableReplicas", "int32", "Number of available replicas."},
                      {"selector", "string", "The label selector of the model's replicas."},
                      {"modelgwReady", "string", "Model Gateway ready status."},
                      {"conditions", "[]sd.Condition", "Conditions the latest available observations of a resource's current state."},
                      {"observedGeneration", "int64", "The metadata.generation the status reflects."},
                      {"annotations", "map", "Additional status fields."})},
    {.name = "ml.Server",
     .desc = "Server is the Schema for the servers API: inference servers that Models are "
             "loaded onto.",
     .kind = true,
     .fields = FIELDS({"spec", "ml.ServerSpec", "The desired state: the ServerConfig and replicas."},
                      {"status", "ml.ServerStatus", "The observed state, written by servescale."})},
    {.name = "ml.ServerSpec",
     .desc = "ServerSpec defines the desired state of Server.",
     .fields = FIELDS(
         {"serverConfig", "string!", "Server definition: the ServerConfig to use."},
         {"replicas", "int32", "Number of replicas. Default 1."},
         {"minReplicas", "int32", "Min number of replicas. Default 0."},
         {"maxReplicas", "int32", "Max number of replicas. Default 0."},
         {"podSpec", "object",
          "PodSpec overrides. Slices such as containers would be appended not overridden."},
         {"capabilities", "[]string",
          "The capabilities this server will advertise. This will override any from the "
          "referenced ServerConfig."},
         {"extraCapabilities", "[]string",
          "The extra capabilities this server will advertise, added to those of the "
          "referenced ServerConfig."},
         {"disableAutoUpdate", "boolean",
          "If set, a change of the referenced ServerConfig does not update the Server "
          "immediately."},
         {"imageOverrides", "object", "Image overrides (agent, rclone)."},
         {"deploymentStrategy", "object", "Deployment strategy."},
         {"statefulSetPersistentVolumeClaimRetentionPolicy", "object",
          "StatefulSetPersistentVolumeClaimRetentionPolicy policy for stateful set pvc."})},
    {.name = "ml.ServerStatus",
     .desc = "ServerStatus defines the observed state of Server.",
     .fields = FIELDS({"replicas", "int32", "The number of replicas."},
                      {"loadedModels", "int32", "Number of loaded models."},
                      {"selector", "string", "The label selector of the server's replicas."},
                      {"conditions", "[]sd.Condition", "Conditions the latest available observations of a resource's current state."},
                      {"observedGeneration", "int64", "The metadata.generation the status reflects."},
                      {"annotations", "map", "Additional status fields."})},
};

static const struct {
  const struct def *defs;
  size_t n;
} tables[] = {
#define TABLE(t) {t, sizeof t / sizeof t[0]}
    TABLE(meta_defs), TABLE(core_defs),  TABLE(apps_defs),  TABLE(hpa_defs),
    TABLE(keda_defs), TABLE(mon_defs),   TABLE(sdep_defs),  TABLE(core2_defs),
#undef TABLE
};

/* ---- building the JSON ---- */

/* "core.Container" as Kubernetes names it; false for an unknown alias. */
static bool expand(const char *name, size_t len, char *out, size_t size) {
  const char *dot = memchr(name, '.', len);
  if (!dot)
    return false;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strlen(aliases[i].alias) == (size_t)(dot - name) &&
        memcmp(aliases[i].alias, name, (size_t)(dot - name)) == 0) {
      int n = snprintf(out, size, "%s.%.*s", aliases[i].prefix, (int)(len - (size_t)(dot - name) - 1),
                       dot + 1);
      return n > 0 && (size_t)n < size;
    }
  return false;
}

/* The API server's v3 form of a reference: allOf with the one $ref. */
static json_t *ref_to(const char *name, size_t len) {
  char full[SS_SCHEMA_NAME_MAX], ref[SS_SCHEMA_NAME_MAX + sizeof SS_SCHEMA_REF_PREFIX];
  if (!expand(name, len, full, sizeof full))
    return NULL;
  snprintf(ref, sizeof ref, SS_SCHEMA_REF_PREFIX "%s", full);
  return json_pack("{s:[{s:s}]}", "allOf", "$ref", ref);
}

static json_t *enum_schema(const char *values, size_t len) {
  json_t *e = json_array();
  for (size_t i = 0; e && i < len;) {
    size_t j = i;
    while (j < len && values[j] != ',')
      j++;
    json_array_append_new(e, json_stringn(values + i, j - i));
    i = j + 1;
  }
  return json_pack("{s:s, s:o*}", "type", "string", "enum", e);
}

/* The schema of type string t[0..len) (the grammar is in the header comment). */
static json_t *type_schema(const char *t, size_t len) {
  static const char *const scalars[][3] = {
      {"string", "string", NULL},   {"boolean", "boolean", NULL}, {"number", "number", "double"},
      {"integer", "integer", NULL}, {"int32", "integer", "int32"}, {"int64", "integer", "int64"},
  };
  if (len > 2 && t[0] == '[' && t[1] == ']')
    return json_pack("{s:s, s:o*}", "type", "array", "items", type_schema(t + 2, len - 2));
  if (len == 3 && memcmp(t, "map", 3) == 0)
    return json_pack("{s:s, s:{s:s, s:s}}", "type", "object", "additionalProperties", "type",
                     "string", "default", "");
  if (len > 4 && memcmp(t, "map:", 4) == 0)
    return json_pack("{s:s, s:o*}", "type", "object", "additionalProperties",
                     type_schema(t + 4, len - 4));
  if (len == 6 && memcmp(t, "object", 6) == 0)
    return json_pack("{s:s, s:b}", "type", "object", "x-kubernetes-preserve-unknown-fields", 1);
  if (len > 7 && memcmp(t, "string=", 7) == 0)
    return enum_schema(t + 7, len - 7);
  for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
    if (strlen(scalars[i][0]) == len && memcmp(scalars[i][0], t, len) == 0)
      return scalars[i][2] ? json_pack("{s:s, s:s}", "type", scalars[i][1], "format", scalars[i][2])
                           : json_pack("{s:s}", "type", scalars[i][1]);
  return ref_to(t, len);
}

/* Adds field f to props (and to required when it ends in "!"); false when
 * its type is not understood. */
static bool add_field(json_t *props, json_t *required, const struct field *f) {
  size_t len = strlen(f->type);
  bool req = len && f->type[len - 1] == '!';
  json_t *s = type_schema(f->type, req ? len - 1 : len);
  if (!s)
    return false;
  json_object_set_new(s, "description", json_string(f->desc));
  json_object_set_new(props, f->name, s);
  if (req)
    json_array_append_new(required, json_string(f->name));
  return true;
}

/* What every kind has first: apiVersion, kind, metadata. */
static const struct field kind_fields[] = {
    {"apiVersion", "string",
     "APIVersion defines the versioned schema of this representation of an object. Servers "
     "should convert recognized schemas to the latest internal value, and may reject "
     "unrecognized values."},
    {"kind", "string",
     "Kind is a string value representing the REST resource this object represents. Servers "
     "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
     "CamelCase."},
    {"metadata", "meta.ObjectMeta", "Standard object's metadata."},
    {NULL, NULL, NULL}};

/* The schema of definition d; NULL when a field's type is not understood
 * (a mistake in the tables, which the unit test finds). */
static json_t *def_schema(const struct def *d) {
  if (d->scalar)
    return json_pack("{s:s, s:s, s:s*}", "description", d->desc, "type", d->scalar, "format",
                     d->format);
  json_t *props = json_object(), *required = json_array();
  bool ok = props && required;
  for (const struct field *f = kind_fields; ok && d->kind && f->name; f++)
    ok = add_field(props, required, f);
  for (const struct field *f = d->fields; ok && f->name; f++)
    ok = add_field(props, required, f);
  if (!ok) {
    json_decref(props);
    json_decref(required);
    return NULL;
  }
  json_t *s = json_pack("{s:s, s:s, s:o}", "description", d->desc, "type", "object",
                        "properties", props);
  if (s && json_array_size(required))
    json_object_set(s, "required", required);
  json_decref(required);
  return s;
}

void ss_api_schema_name(const struct ss_api_kind *k, const char *version, char *buf,
                        size_t size) {
  /* Kubernetes' own groups have no dot ("" is core): io.k8s.api.apps.v1.Deployment; a
   * CRD's group is reversed: io.seldon.machinelearning.v1.SeldonDeployment. */
  if (!strchr(k->group, '.')) {
    snprintf(buf, size, "io.k8s.api.%s.%s.%s", *k->group ? k->group : "core", version, k->kind);
    return;
  }
  char rev[128] = "";
  const char *g = k->group, *end = g + strlen(g);
  while (end > g) {
    const char *dot = end;
    while (dot > g && dot[-1] != '.')
      dot--;
    size_t l = strlen(rev);
    snprintf(rev + l, sizeof rev - l, "%s%.*s", l ? "." : "", (int)(end - dot), dot);
    end = dot > g ? dot - 1 : g;
  }
  snprintf(buf, size, "%s.%s.%s", rev, version, k->kind);
}

/* Every schema by name, built once; read only after. */
static json_t *all_schemas;
static pthread_once_t all_once = PTHREAD_ONCE_INIT;

/* Each served kind at each of its versions: its definition's schema with
 * x-kubernetes-group-version-kind. */
static void add_kind_versions(json_t *all) {
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    char base[SS_SCHEMA_NAME_MAX], name[SS_SCHEMA_NAME_MAX];
    ss_api_schema_name(k, k->versions[0], base, sizeof base);
    json_t *s = json_object_get(all, base);
    for (int v = 0; s && k->versions[v]; v++) {
      ss_api_schema_name(k, k->versions[v], name, sizeof name);
      json_t *kv = v == 0 ? json_incref(s) : json_deep_copy(s);
      json_object_set_new(kv, "x-kubernetes-group-version-kind",
                          json_pack("[{s:s, s:s, s:s}]", "group", k->group, "version",
                                    k->versions[v], "kind", k->kind));
      json_object_set_new(all, name, kv);
    }
  }
}

static void build_all(void) {
  json_t *all = json_object();
  for (size_t t = 0; all && t < sizeof tables / sizeof tables[0]; t++)
    for (size_t i = 0; i < tables[t].n; i++) {
      const struct def *d = &tables[t].defs[i];
      char name[SS_SCHEMA_NAME_MAX];
      json_t *s = def_schema(d);
      if (!s || !expand(d->name, strlen(d->name), name, sizeof name)) {
        json_decref(s);
        continue; /* left out: the unit test names what is missing */
      }
      json_object_set_new(all, name, s);
    }
  if (all)
    add_kind_versions(all);
  all_schemas = all;
}

static const json_t *schemas(void) {
  pthread_once(&all_once, build_all);
  return all_schemas;
}

/* Copies into out every schema node references (transitively). */
static void add_refs(json_t *out, const json_t *all, const json_t *node) {
  if (json_is_array(node)) {
    size_t i;
    const json_t *e;
    json_array_foreach(node, i, e) add_refs(out, all, e);
    return;
  }
  if (!json_is_object(node))
    return;
  const char *ref = json_string_value(json_object_get(node, "$ref"));
  size_t pl = strlen(SS_SCHEMA_REF_PREFIX);
  if (ref && strncmp(ref, SS_SCHEMA_REF_PREFIX, pl) == 0 && !json_object_get(out, ref + pl)) {
    const json_t *s = json_object_get(all, ref + pl);
    json_t *copy = s ? json_deep_copy(s) : NULL;
    if (copy) {
      json_object_set_new(out, ref + pl, copy);
      add_refs(out, all, copy);
    }
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)node, key, v) add_refs(out, all, v);
}

json_t *ss_api_schemas_for(const char *group, const char *version) {
  const json_t *all = schemas();
  json_t *out = all ? json_object() : NULL;
  for (size_t i = 0; out && i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    if (strcmp(k->group, group) != 0 || !ss_api_kind_has_version(k, version))
      continue;
    char name[SS_SCHEMA_NAME_MAX];
    ss_api_schema_name(k, version, name, sizeof name);
    const json_t *s = json_object_get(all, name);
    json_t *copy = s ? json_deep_copy(s) : NULL;
    if (!copy)
      continue;
    json_object_set_new(out, name, copy);
    add_refs(out, all, copy);
  }
  return out;
}

/* Swagger 2.0 form of a v3 schema node, in place: {"allOf":[{"$ref"}]}
 * becomes {"$ref"} into #/definitions, and v2 has no
 * x-kubernetes-preserve-unknown-fields. */
static void to_v2(json_t *node) {
  if (json_is_array(node)) {
    size_t i;
    json_t *e;
    json_array_foreach(node, i, e) to_v2(e);
    return;
  }
  if (!json_is_object(node))
    return;
  json_t *all_of = json_object_get(node, "allOf");
  const char *ref = json_string_value(json_object_get(json_array_get(all_of, 0), "$ref"));
  size_t pl = strlen(SS_SCHEMA_REF_PREFIX);
  if (json_array_size(all_of) == 1 && ref && strncmp(ref, SS_SCHEMA_REF_PREFIX, pl) == 0) {
    char v2[SS_SCHEMA_NAME_MAX + sizeof SS_SCHEMA_V2_PREFIX];
    snprintf(v2, sizeof v2, SS_SCHEMA_V2_PREFIX "%s", ref + pl);
    json_object_set_new(node, "$ref", json_string(v2));
    json_object_del(node, "allOf");
  }
  json_object_del(node, "x-kubernetes-preserve-unknown-fields");
  const char *key;
  json_t *v;
  json_object_foreach(node, key, v) to_v2(v);
}

json_t *ss_api_schemas_v2(void) {
  const json_t *all = schemas();
  json_t *out = all ? json_deep_copy(all) : NULL;
  to_v2(out);
  return out;
}
