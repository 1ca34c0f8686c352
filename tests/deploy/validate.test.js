// The Kubernetes manifests (deploy/kubernetes), rendered offline with
// `kubectl kustomize` as `kubectl apply -k` would render them, checked against
// the Kubernetes and Prometheus Operator API schemas (kubernetes-models), with
// no field the API does not know, and for the least-privilege properties
// docs/deploy.md promises. Run by tests/deploy/check.sh (make deploy-check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { Namespace, ServiceAccount, Service } from "kubernetes-models/v1";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const K8S = join(ROOT, "deploy", "kubernetes");
// a file of an installed package (its exports map hides the .d.ts files)
const pkgFile = (spec) => join(HERE, "node_modules", spec);

const MODELS = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Service": Service,
  "apps/v1/DaemonSet": DaemonSet,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};
// The .d.ts of each core kind's model: its properties are the API's fields.
const TYPES = {
  "v1/Namespace": "kubernetes-models/v1/Namespace.d.ts",
  "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount.d.ts",
  "v1/Service": "kubernetes-models/v1/Service.d.ts",
  "apps/v1/DaemonSet": "kubernetes-models/apps/v1/DaemonSet.d.ts",
};

const RENDERINGS = {
  default: K8S,
  servicemonitor: join(K8S, "overlays", "servicemonitor"),
  k3s: join(K8S, "overlays", "k3s"),
};
const CAPS = ["BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"];

function render(dir) {
  const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  return parseAllDocuments(out).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS();
  });
}
const rendered = Object.fromEntries(Object.entries(RENDERINGS).map(([k, d]) => [k, render(d)]));
const key = (o) => `${o.apiVersion}/${o.kind}`;
const one = (objs, kind) => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};

// --- no unknown fields: kubernetes-models' validate() checks types, enums and
// required fields but lets unknown keys through, and a misspelt
// `readOnlyRootFilesystem` would be dropped by the API server without a word.
// The model's type declarations list every field of every API type.
const ifaceCache = new Map();
function iface(file) {
  if (ifaceCache.has(file)) return ifaceCache.get(file);
  const src = readFileSync(file, "utf8");
  const imports = {};
  for (const m of src.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports[m[1]] = m[2];
  const start = src.search(/^export interface \w+/m);
  let fields = null;
  if (start >= 0) {
    fields = {};
    const body = src.slice(start, src.indexOf("\n}\n", start));
    for (const m of body.matchAll(/^ {4}"(\w+)"\??: (.+?);?$/gm)) {
      const t = m[2].match(/^(?:Array<)?(I\w+)>?$/);
      let ref = null;
      if (t && imports[t[1]]) {
        const spec = imports[t[1]];
        ref = spec.startsWith(".") ? resolve(dirname(file), spec + ".d.ts") : pkgFile(spec + ".d.ts");
      }
      fields[m[1]] = ref; // null: a scalar, a map or an enum
    }
  }
  ifaceCache.set(file, fields);
  return fields;
}
function unknownFields(obj, file, path, out) {
  const fields = iface(file);
  if (!fields || obj === null || typeof obj !== "object") return out;
  if (Array.isArray(obj)) {
    obj.forEach((v, i) => unknownFields(v, file, `${path}[${i}]`, out));
    return out;
  }
  for (const [k, v] of Object.entries(obj)) {
    if (!(k in fields)) out.push(`${path}.${k}`);
    else if (fields[k]) unknownFields(v, fields[k], `${path}.${k}`, out);
  }
  return out;
}

for (const [name, objs] of Object.entries(rendered)) {
  test(`${name}: every object validates against its API schema`, () => {
    for (const o of objs) {
      const Model = MODELS[key(o)];
      assert.ok(Model, `no model for ${key(o)}: add it to MODELS`);
      assert.doesNotThrow(() => new Model(o).validate(), `${key(o)} ${o.metadata.name}`);
      if (TYPES[key(o)]) {
        const file = pkgFile(TYPES[key(o)]);
        assert.deepEqual(unknownFields(o, file, key(o), []), []);
      }
      if (o.kind !== "Namespace") assert.equal(o.metadata.namespace, "podsight", `${key(o)} namespace`);
    }
  });
}

test("the unknown-field check catches a misspelt field", () => {
  const ds = structuredClone(one(rendered.default, "DaemonSet"));
  const sc = ds.spec.template.spec.containers[0].securityContext;
  sc.readOnlyRootFilesytem = true;
  ds.metadata.label = {};
  ds.spec.template.spec.volumes[0].hostPath.readOnly = true;
  ds.spec.template.spec.containers[0].livenessProbe.httpGet.paht = "/";
  const file = pkgFile(TYPES["apps/v1/DaemonSet"]);
  assert.deepEqual(unknownFields(ds, file, "ds", []).sort(), [
    "ds.metadata.label",
    "ds.spec.template.spec.containers[0].livenessProbe.httpGet.paht",
    "ds.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem",
    "ds.spec.template.spec.volumes[0].hostPath.readOnly",
  ]);
  assert.doesNotThrow(() => new DaemonSet(ds).validate()); // what the schema alone lets through
  sc.privileged = "false";
  assert.throws(() => new DaemonSet(ds).validate());
});

for (const [name, objs] of Object.entries(rendered)) {
  test(`${name}: the DaemonSet has the least privileges that work`, () => {
    const ds = one(objs, "DaemonSet");
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostPID, true);
    assert.equal(pod.hostUsers, true);
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.hostIPC, undefined);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.priorityClassName, "system-node-critical");
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
    assert.equal(pod.initContainers, undefined);
    assert.equal(pod.containers.length, 1);
    const c = pod.containers[0];
    const sc = c.securityContext;
    assert.notEqual(sc.privileged, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.runAsUser, 0);
    assert.deepEqual(sc.capabilities.drop, ["ALL"]);
    assert.deepEqual([...sc.capabilities.add].sort(), [...CAPS].sort());
    assert.deepEqual(sc.seccompProfile, { type: "Unconfined" });
    assert.deepEqual(sc.appArmorProfile, { type: "Unconfined" });
    assert.equal(pod.securityContext, undefined); // nothing pod-wide widens it
    // every volume a read-only hostPath, each mounted once, read-only
    const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.name, m]));
    assert.equal(Object.keys(mounts).length, pod.volumes.length);
    for (const v of pod.volumes) {
      assert.ok(v.hostPath, `${v.name} is a hostPath`);
      const m = mounts[v.name];
      assert.ok(m, `${v.name} is mounted`);
      assert.equal(m.readOnly, true, `${v.name} read-only`);
      assert.equal(m.mountPropagation, "HostToContainer", `${v.name} propagation`);
      assert.ok(!["/", "/proc", "/sys", "/run", "/var", "/dev", "/etc"].includes(v.hostPath.path), v.hostPath.path);
    }
    // NODE_NAME from the downward API, passed as --node
    assert.deepEqual(c.env, [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
    assert.equal(c.command, undefined); // the image's entrypoint: podsight agent
    assert.deepEqual(c.args, ["--listen", ":9101", "--node", "$(NODE_NAME)"]);
    // the metrics port, probed on /healthz
    assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 9101, protocol: "TCP" }]);
    for (const p of [c.livenessProbe, c.readinessProbe]) {
      assert.equal(p.httpGet.path, "/healthz");
      assert.ok(p.httpGet.port === "metrics" || p.httpGet.port === 9101);
    }
    for (const r of ["requests", "limits"]) {
      assert.ok(c.resources[r].cpu && c.resources[r].memory, r);
    }
    assert.equal(ds.spec.updateStrategy.type, "RollingUpdate");
    assert.ok(ds.spec.updateStrategy.rollingUpdate.maxUnavailable);
    const ann = ds.spec.template.metadata.annotations;
    assert.deepEqual([ann["prometheus.io/scrape"], ann["prometheus.io/port"], ann["prometheus.io/path"]],
      ["true", "9101", "/metrics"]);
  });

  test(`${name}: the Service and the namespace fit the DaemonSet`, () => {
    const ds = one(objs, "DaemonSet");
    const svc = one(objs, "Service");
    const labels = ds.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(labels[k], v);
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) assert.equal(labels[k], v);
    assert.deepEqual(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [["metrics", 9101, "metrics"]]);
    assert.equal(ds.spec.template.spec.serviceAccountName, one(objs, "ServiceAccount").metadata.name);
    const ns = one(objs, "Namespace");
    assert.equal(ns.metadata.name, "podsight");
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
  });
}

// The paths the agent reads its runtimes' state from (src/runtime_meta.c):
// each must be inside a mount, at the same path; a new one in the agent
// without a mount here fails this test.
test("every runtime state path the agent reads is mounted", () => {
  const src = readFileSync(join(ROOT, "src", "runtime_meta.c"), "utf8");
  const fn = src.slice(src.indexOf("void runtime_paths_default"));
  const paths = [...fn.slice(0, fn.indexOf("\n}\n")).matchAll(/= "(\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(paths.length >= 4, `runtime paths found in src/runtime_meta.c: ${paths}`);
  const c = one(rendered.default, "DaemonSet").spec.template.spec.containers[0];
  const vols = Object.fromEntries(one(rendered.default, "DaemonSet").spec.template.spec.volumes.map((v) => [v.name, v]));
  for (const p of [...paths, "/sys/fs/cgroup"]) {
    const m = c.volumeMounts.find((m) => p === m.mountPath || p.startsWith(m.mountPath + "/"));
    assert.ok(m, `${p} is mounted`);
    assert.equal(vols[m.name].hostPath.path, m.mountPath, `${p}: host and container path agree`);
  }
  // and nothing is mounted that the agent does not read
  for (const m of c.volumeMounts) {
    assert.ok([...paths, "/sys/fs/cgroup"].some((p) => p === m.mountPath || p.startsWith(m.mountPath + "/")), m.mountPath);
  }
});

test("k3s: containerd's task bundles come from k3s' state directory", () => {
  const pod = one(rendered.k3s, "DaemonSet").spec.template.spec;
  const v = pod.volumes.find((v) => v.name === "containerd-tasks");
  assert.equal(v.hostPath.path, "/run/k3s/containerd/io.containerd.runtime.v2.task");
  const m = pod.containers[0].volumeMounts.find((m) => m.name === "containerd-tasks");
  assert.equal(m.mountPath, "/run/containerd/io.containerd.runtime.v2.task");
});

test("servicemonitor: scrapes the metrics port, keeps the agent's own labels", () => {
  const objs = rendered.servicemonitor;
  const sm = one(objs, "ServiceMonitor");
  const svc = one(objs, "Service");
  for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v);
  assert.deepEqual(sm.spec.namespaceSelector.matchNames, ["podsight"]);
  assert.equal(sm.spec.endpoints.length, 1);
  const ep = sm.spec.endpoints[0];
  assert.equal(ep.port, "metrics");
  assert.equal(ep.path, "/metrics");
  assert.equal(ep.honorLabels, true);
  const drop = ep.relabelings.find((r) => r.action === "labeldrop");
  for (const l of ["namespace", "pod", "container"]) assert.match(l, new RegExp(`^(?:${drop.regex})$`));
  assert.ok(ep.relabelings.some((r) => r.targetLabel === "node" &&
    r.sourceLabels.includes("__meta_kubernetes_pod_node_name")));
  // the default install has none (no CRD needed)
  assert.equal(rendered.default.filter((o) => o.kind === "ServiceMonitor").length, 0);
});

test("the manifests' image is the one make image builds", () => {
  const version = readFileSync(join(ROOT, "VERSION"), "utf8").trim();
  for (const objs of Object.values(rendered)) {
    const c = one(objs, "DaemonSet").spec.template.spec.containers[0];
    assert.equal(c.image, `localhost/podsight:${version}`);
    assert.equal(c.imagePullPolicy, "IfNotPresent");
  }
  assert.ok(existsSync(join(ROOT, "deploy", "image", "Containerfile")));
});
