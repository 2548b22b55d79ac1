#!/usr/bin/env node
// validate.mjs: checks `servescale render` output against the published
// schemas: Kubernetes (kubernetes-models), KEDA (@kubernetes-models/keda) and
// the Prometheus Operator (@kubernetes-models/prometheus-operator), then the
// links between objects that no schema sees (an autoscaler's target exists,
// one scaler per Deployment, named ports resolve).
//
// Usage: node validate.mjs [FILE...]   (standard input when no FILE)
// Input: multi-document YAML or JSON (a v1 List is unpacked). Prints one line
// per object; exits 1 on any error, 2 when the packages are missing.
import { readFileSync } from "node:fs";

let YAML;
try {
  YAML = await import("yaml");
} catch {
  console.error("validate.mjs: npm packages missing: run `npm ci` in tests/k8s");
  process.exit(2);
}

// apiVersion -> the package path holding its models.
const packages = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

// Seldon Core 2 publishes no npm schema: its objects are checked for the
// shape every Kubernetes object has, and a spec.
const core2 = new Set(["mlops.seldon.io/v1alpha1/Model", "mlops.seldon.io/v1alpha1/Server"]);
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function readObjects(text) {
  const out = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`YAML: ${doc.errors[0].message}`);
    const v = doc.toJS();
    if (v == null) continue;
    if (v.kind === "List" && Array.isArray(v.items)) out.push(...v.items);
    else out.push(v);
  }
  return out;
}

async function schemaErrors(o) {
  const id = `${o.apiVersion}/${o.kind}`;
  if (core2.has(id)) {
    const name = o.metadata?.name ?? "";
    if (!dns1123Subdomain.test(name) || name.length > 253) return [`metadata.name "${name}" is not a DNS-1123 subdomain`];
    if (typeof o.spec !== "object" || o.spec === null) return ["spec must be an object"];
    return [];
  }
  const pkg = packages[o.apiVersion];
  if (!pkg) return [`no schema known for apiVersion ${o.apiVersion}`];
  let mod;
  try {
    mod = await import(`${pkg}/${o.kind}`);
  } catch (e) {
    if (e.code === "ERR_MODULE_NOT_FOUND" && !String(e.message).includes(o.kind))
      throw e; // the package itself is missing
    return [`no schema for kind ${o.kind} in ${o.apiVersion}`];
  }
  const Model = mod[o.kind] ?? mod.default;
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    if (Array.isArray(e.errors))
      return e.errors.map((x) => `${x.instancePath || "/"} ${x.message}${x.params ? " " + JSON.stringify(x.params) : ""}`);
    return [String(e.message || e)];
  }
}

function key(o) {
  return `${o.kind} ${o.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o.metadata?.name}`;
}

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);
}

// Links between objects that a schema cannot check.
function linkErrors(objs) {
  const errs = [];
  const ns = (o) => o.metadata?.namespace ?? "";
  const deployments = objs.filter((o) => o.kind === "Deployment");
  const pods = deployments.map((d) => ({ ns: ns(d), labels: d.spec.template.metadata?.labels, spec: d.spec.template.spec }));
  const portNames = (p) => new Set(p.spec.containers.flatMap((c) => (c.ports || []).map((x) => x.name).filter(Boolean)));
  const scaled = new Map();
  const seen = new Set();
  for (const o of objs) {
    if (seen.has(key(o))) errs.push(`${key(o)}: appears twice`);
    seen.add(key(o));
    if (o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject") {
      const ref = o.spec.scaleTargetRef;
      const d = deployments.find((x) => x.metadata.name === ref.name && ns(x) === ns(o));
      if (!d || (ref.kind ?? "Deployment") !== "Deployment" || (ref.apiVersion ?? "apps/v1") !== "apps/v1")
        errs.push(`${key(o)}: scaleTargetRef ${JSON.stringify(ref)} names no rendered apps/v1 Deployment`);
      else if (d.spec.replicas !== undefined)
        errs.push(`${key(o)}: its Deployment sets spec.replicas, which every apply would reset`);
      const k = `${ns(o)}/${ref.name}`;
      if (scaled.has(k)) errs.push(`${key(o)}: ${k} is already scaled by ${scaled.get(k)}`);
      scaled.set(k, key(o));
    }
    if (o.kind === "Service") {
      const selected = pods.filter((p) => p.ns === ns(o) && matches(o.spec.selector, p.labels));
      if (!selected.length) errs.push(`${key(o)}: its selector matches no rendered pod template`);
      for (const port of o.spec.ports || [])
        if (typeof port.targetPort === "string" && !selected.some((p) => portNames(p).has(port.targetPort)))
          errs.push(`${key(o)}: targetPort "${port.targetPort}" is no container port of the pods it selects`);
    }
    if (o.kind === "PodMonitor") {
      const selected = pods.filter((p) => (!o.spec.namespaceSelector || (o.spec.namespaceSelector.matchNames || []).includes(p.ns))
        && (o.spec.namespaceSelector || p.ns === ns(o)) && matches(o.spec.selector.matchLabels, p.labels));
      if (!selected.length) errs.push(`${key(o)}: selects no rendered pod template`);
      for (const ep of o.spec.podMetricsEndpoints || [])
        for (const p of selected)
          if (ep.port && !portNames(p).has(ep.port))
            errs.push(`${key(o)}: port "${ep.port}" is missing from pods labelled ${JSON.stringify(p.labels)}`);
    }
  }
  return errs;
}

const files = process.argv.slice(2);
const text = files.length ? files.map((f) => readFileSync(f, "utf8")).join("\n---\n") : readFileSync(0, "utf8");
let objs;
try {
  objs = readObjects(text);
} catch (e) {
  console.error(`FAIL input: ${e.message}`);
  process.exit(1);
}
let failed = 0;
for (const o of objs) {
  let errs;
  try {
    errs = await schemaErrors(o);
  } catch (e) {
    console.error(`validate.mjs: cannot load the schemas (${e.message}): run \`npm ci\` in tests/k8s`);
    process.exit(2);
  }
  if (errs.length) {
    failed++;
    for (const e of errs) console.log(`FAIL ${key(o)}: ${e}`);
  } else {
    console.log(`ok   ${key(o)} (${o.apiVersion})`);
  }
}
for (const e of linkErrors(objs)) {
  failed++;
  console.log(`FAIL ${e}`);
}
if (!objs.length) {
  console.log("FAIL no objects in the input");
  failed++;
}
console.log(`${objs.length} objects, ${failed} errors`);
process.exit(failed ? 1 : 0);
