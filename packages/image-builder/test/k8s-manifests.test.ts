/**
 * The manifests generate-k8s writes, through the real CLI:
 * - the InferenceService validates against the real KServe CRD (its v1beta1 openAPIV3Schema,
 *   ../shared/reference/kserve/), with the Kubernetes extensions made checkable: int-or-string,
 *   no unknown fields unless preserve-unknown-fields, map lists unique by their keys, set lists
 *   unique, embedded resources;
 * - the Deployment, Service and HPA carry what the API server requires and fit together
 *   (selector ⊆ pod labels, named ports exist, the HPA targets the Deployment, CPU requests for a
 *   CPU target, grace period longer than the drain).
 * Each checker is shown to reject a broken manifest, so a pass means something.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadYaml } from '@mlmodel/format';
import { inferenceService, kubernetesManifests, type Manifest } from '../src/k8s/index.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'mlmodel.js');
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
const CRD = join(ROOT, '..', 'shared', 'reference', 'kserve', 'serving.kserve.io_inferenceservices.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mlmodel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The documents of a multi-document YAML file (each `---` starts one; comments before the first are the header). */
function documents(text: string): Manifest[] {
  return text
    .split(/^---\n/m)
    .slice(1)
    .map((d) => loadYaml(d) as Manifest);
}

type Schema = Record<string, unknown>;

/**
 * A Kubernetes structural schema as JSON Schema: the x-kubernetes-* keywords become checks ajv
 * runs (or are dropped when they carry no constraint: validations in CEL, map-type).
 */
function structural(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(structural);
  if (s === null || typeof s !== 'object') return s;
  const src = s as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, structural(ps)]));
    else if (['items', 'additionalProperties', 'not'].includes(k) && typeof v === 'object') out[k] = structural(v);
    else if (['allOf', 'anyOf', 'oneOf'].includes(k)) out[k] = structural(v);
    else out[k] = v;
  }
  if (src['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (src['x-kubernetes-embedded-resource'] === true) {
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...((out.properties as Schema) ?? {}) };
  }
  // the API server drops (and strict clients reject) fields a schema does not know
  if (src.properties && src['x-kubernetes-preserve-unknown-fields'] !== true && src.additionalProperties === undefined) out.additionalProperties = false;
  if (src['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (src['x-kubernetes-list-type'] === 'map' && Array.isArray(src['x-kubernetes-list-map-keys'])) out.uniqueByKeys = src['x-kubernetes-list-map-keys'];
  return out;
}

let validateIsvc: ValidateFunction;
beforeAll(() => {
  const crd = loadYaml(readFileSync(CRD, 'utf8'), { maxBytes: 16 * 1024 * 1024, maxDepth: 1000 }) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] };
  };
  const v1beta1 = crd.spec.versions.find((v) => v.name === 'v1beta1')!;
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  ajv.addKeyword({
    keyword: 'uniqueByKeys',
    type: 'array',
    validate: (keys: string[], data: Record<string, unknown>[]) => {
      const seen = new Set(data.map((item) => JSON.stringify(keys.map((k) => item?.[k] ?? null))));
      return seen.size === data.length;
    },
  });
  validateIsvc = ajv.compile(structural(v1beta1.schema.openAPIV3Schema) as Schema);
});

function isvcErrors(m: unknown): string[] {
  return validateIsvc(m) ? [] : (validateIsvc.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What the API server requires of a pod template's containers. */
function containerProblems(c: Obj, volumeNames: Set<string>): string[] {
  const p: string[] = [];
  if (typeof c.name !== 'string' || !DNS_LABEL.test(c.name)) p.push(`container name ${c.name}`);
  if (typeof c.image !== 'string' || c.image === '') p.push('container image');
  const portNames = new Set<string>();
  for (const port of c.ports ?? []) {
    if (!Number.isInteger(port.containerPort) || port.containerPort < 1 || port.containerPort > 65535) p.push(`containerPort ${port.containerPort}`);
    if (port.name !== undefined) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name) || port.name.length > 15) p.push(`port name ${port.name}`);
      portNames.add(port.name);
    }
    if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) p.push(`protocol ${port.protocol}`);
  }
  for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const probe = c[kind] as Obj | undefined;
    if (!probe) continue;
    const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter((h) => probe[h] !== undefined);
    if (handlers.length !== 1) p.push(`${kind} needs exactly one handler`);
    const port = probe.httpGet?.port;
    if (typeof port === 'string' ? !portNames.has(port) : !(c.ports ?? []).some((x: Obj) => x.containerPort === port))
      p.push(`${kind} port ${port} is not a container port`);
    if (typeof probe.httpGet?.path !== 'string' || !probe.httpGet.path.startsWith('/')) p.push(`${kind} path`);
  }
  const names = new Set<string>();
  for (const e of c.env ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name) || names.has(e.name)) p.push(`env ${e.name}`);
    names.add(e.name);
    if ((e.value === undefined) === (e.valueFrom === undefined)) p.push(`env ${e.name} needs a value or valueFrom`);
    if (e.value !== undefined && typeof e.value !== 'string') p.push(`env ${e.name} value must be a string`);
  }
  for (const [kind, list] of Object.entries((c.resources ?? {}) as Record<string, Obj>)) {
    for (const [r, q] of Object.entries(list)) if (typeof q !== 'string' || !QUANTITY.test(q)) p.push(`resources.${kind}.${r} ${q}`);
  }
  for (const m of c.volumeMounts ?? []) if (!volumeNames.has(m.name)) p.push(`volumeMount ${m.name} has no volume`);
  return p;
}

function metadataProblems(m: Obj): string[] {
  const p: string[] = [];
  if (typeof m.apiVersion !== 'string' || typeof m.kind !== 'string') p.push('apiVersion and kind');
  const name = m.metadata?.name;
  if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name) || name.length > 63) p.push(`metadata.name ${name}`);
  for (const [k, v] of Object.entries((m.metadata?.labels ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) p.push(`label ${k}=${String(v)}`);
  }
  for (const [k, v] of Object.entries((m.metadata?.annotations ?? {}) as Record<string, unknown>))
    if (typeof v !== 'string') p.push(`annotation ${k} must be a string`);
  return p;
}

/** The fields Kubernetes requires of a Deployment + Service + HPA set, and how they must fit together. */
function setProblems(objs: Obj[]): string[] {
  const p: string[] = objs.flatMap(metadataProblems);
  const dep = objs.find((o) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1');
  const svc = objs.find((o) => o.kind === 'Service' && o.apiVersion === 'v1');
  const hpa = objs.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.apiVersion === 'autoscaling/v2');
  if (!dep || !svc || !hpa) return [...p, 'a Deployment (apps/v1), a Service (v1) and an HPA (autoscaling/v2)'];
  const tpl = dep.spec?.template;
  const podLabels = (tpl?.metadata?.labels ?? {}) as Record<string, string>;
  const sel = (dep.spec?.selector?.matchLabels ?? {}) as Record<string, string>;
  if (Object.keys(sel).length === 0) p.push('Deployment selector is empty');
  for (const [k, v] of Object.entries(sel)) if (podLabels[k] !== v) p.push(`selector ${k}=${v} does not match the pod labels`);
  if (!Number.isInteger(dep.spec.replicas) || dep.spec.replicas < 0) p.push('replicas');
  const spec = tpl?.spec as Obj;
  const containers = (spec?.containers ?? []) as Obj[];
  if (containers.length === 0) p.push('no containers');
  const volumes = new Set<string>(((spec?.volumes ?? []) as Obj[]).map((v) => v.name as string));
  for (const c of containers) p.push(...containerProblems(c, volumes));
  const drain = Number(containers[0]?.env?.find((e: Obj) => e.name === 'MLMODEL_DRAIN_TIMEOUT')?.value);
  if (!(spec?.terminationGracePeriodSeconds > drain)) p.push(`grace period ${spec?.terminationGracePeriodSeconds} is not longer than the drain ${drain}`);
  if (spec?.securityContext?.runAsNonRoot !== true || !(spec?.securityContext?.runAsUser > 0)) p.push('the pod must run as a non-root uid');
  // the Service
  for (const [k, v] of Object.entries((svc.spec?.selector ?? {}) as Record<string, string>))
    if (podLabels[k] !== v) p.push(`Service selector ${k}=${v} matches no pod`);
  for (const port of svc.spec?.ports ?? []) {
    if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535) p.push(`Service port ${port.port}`);
    const named = typeof port.targetPort === 'string' && containers.some((c) => (c.ports ?? []).some((cp: Obj) => cp.name === port.targetPort));
    if (!named && !containers.some((c) => (c.ports ?? []).some((cp: Obj) => cp.containerPort === port.targetPort)))
      p.push(`Service targetPort ${port.targetPort}`);
  }
  // the HPA
  const ref = hpa.spec?.scaleTargetRef ?? {};
  if (ref.apiVersion !== 'apps/v1' || ref.kind !== 'Deployment' || ref.name !== dep.metadata.name) p.push('HPA does not target the Deployment');
  if (!(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas >= hpa.spec.minReplicas)) p.push('HPA replica bounds');
  for (const m of hpa.spec.metrics ?? []) {
    if (m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization') {
      if (containers.some((c) => c.resources?.requests?.cpu === undefined)) p.push('a CPU utilization target needs CPU requests on every container');
      if (!(m.resource.target.averageUtilization > 0)) p.push('averageUtilization');
    }
  }
  return p;
}

describe('mlmodel generate-k8s --kserve', () => {
  it('writes an InferenceService that validates against the KServe CRD', () => {
    const r = mlmodel([
      'generate-k8s',
      '--kserve',
      '--image',
      'registry.example.com/ml/iris-onnx:1',
      '-m',
      join(FIXTURES, 'iris_onnx'),
      '--cpu',
      '2',
      '--memory',
      '1Gi',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# Generated by mlmodel generate-k8s for registry\.example\.com\/ml\/iris-onnx:1 \(model iris_onnx, onnx\)\./);
    const [isvc, ...rest] = documents(r.stdout);
    expect(rest).toEqual([]);
    expect(isvcErrors(isvc)).toEqual([]);
    const pred = (isvc as Obj).spec.predictor;
    expect((isvc as Obj).metadata.name).toBe('iris-onnx');
    expect(pred.containers).toHaveLength(1);
    const c = pred.containers[0];
    expect(c.name).toBe('kserve-container');
    expect(c.image).toBe('registry.example.com/ml/iris-onnx:1');
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 8080 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 8080 });
    expect(c.env).toEqual([
      { name: 'MLMODEL_WORKERS', value: '2' },
      { name: 'MLMODEL_DRAIN_TIMEOUT', value: '25' },
    ]);
    expect(pred.terminationGracePeriodSeconds).toBe(35);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true });
    expect(pred.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
  });

  it('python_function: Python workers from the CPU request, a memory /dev/shm, an auth token from a Secret', () => {
    const r = mlmodel([
      'generate-k8s',
      '--kserve',
      '--image',
      'iris-sklearn:1',
      '-m',
      join(FIXTURES, 'iris_sklearn'),
      '--cpu',
      '1500m',
      '--auth-secret',
      'iris-token',
      '--min-replicas',
      '2',
      '--max-replicas',
      '6',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [isvc] = documents(r.stdout) as Obj[];
    expect(isvcErrors(isvc)).toEqual([]);
    const pred = isvc!.spec.predictor;
    expect([pred.minReplicas, pred.maxReplicas]).toEqual([2, 6]);
    const c = pred.containers[0];
    expect(c.env).toEqual([
      { name: 'MLMODEL_PYTHON_WORKERS', value: '1' },
      { name: 'MLMODEL_DRAIN_TIMEOUT', value: '25' },
      { name: 'MLMODEL_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: 'iris-token', key: 'token' } } },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '1500m', memory: '2Gi' }, limits: { memory: '2Gi' } });
    expect(c.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
    expect(pred.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } });
  });

  it('the schema check rejects what KServe would: unknown fields, wrong types, duplicate keys, missing names', () => {
    const good = inferenceService({ image: 'x:1', name: 'x' }) as Obj;
    expect(isvcErrors(good)).toEqual([]);
    const broken = (edit: (m: Obj) => void): string[] => {
      const m = structuredClone(good);
      edit(m);
      return isvcErrors(m);
    };
    expect(broken((m) => (m.spec.predictor.containers[0].imagePullPolicy2 = 'Always')).join()).toMatch(/must NOT have additional properties/);
    expect(broken((m) => (m.spec.predictor.minReplicas = 'two')).join()).toMatch(/minReplicas must be integer/);
    expect(broken((m) => (m.spec.predictor.containers[0].readinessProbe.httpGet.port = true)).join()).toMatch(/port/);
    expect(broken((m) => m.spec.predictor.containers[0].env.push({ name: 'MLMODEL_WORKERS', value: '9' })).join()).toMatch(/uniqueByKeys/);
    expect(broken((m) => delete m.spec.predictor.containers[0].name).join()).toMatch(/must have required property 'name'/);
    expect(broken((m) => delete m.spec.predictor).join()).toMatch(/must have required property 'predictor'/);
  });
});

describe('mlmodel generate-k8s (Deployment + Service + HPA)', () => {
  it('writes the three objects with what Kubernetes requires, fitting together', () => {
    const out = join(tmp, 'iris.yaml');
    const r = mlmodel([
      'generate-k8s',
      '--image',
      'registry.example.com/iris-onnx:1',
      '-m',
      join(FIXTURES, 'iris_onnx'),
      '--namespace',
      'models',
      '--replicas',
      '2',
      '--max-replicas',
      '5',
      '-o',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(`mlmodel: wrote Deployment, Service, HorizontalPodAutoscaler for registry.example.com/iris-onnx:1 to ${out}\n`);
    const objs = documents(readFileSync(out, 'utf8')) as Obj[];
    expect(objs.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'HorizontalPodAutoscaler']);
    expect(setProblems(objs)).toEqual([]);
    const [dep, svc, hpa] = objs as [Obj, Obj, Obj];
    for (const o of objs) expect(o.metadata).toMatchObject({ name: 'iris-onnx', namespace: 'models' });
    expect(dep.spec.replicas).toBe(2);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 5]);
    const c = dep.spec.template.spec.containers[0];
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(240);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(dep.spec.template.spec.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }]);
  });

  it('names come from the image when no model is given; bad values are one-line errors', () => {
    let r = mlmodel(['generate-k8s', '--image', 'reg:5000/team/My_Model:2']);
    expect(r.status, r.stderr).toBe(0);
    const objs = documents(r.stdout) as Obj[];
    expect(objs[0]!.metadata.name).toBe('my-model');
    expect(setProblems(objs)).toEqual([]);
    r = mlmodel(['generate-k8s', '--image', 'x:1', '--cpu', 'lots']);
    expect([r.status, r.stderr]).toEqual([1, 'error: --cpu must be a Kubernetes CPU quantity such as 1, 0.5 or 500m, got "lots"\n']);
    r = mlmodel(['generate-k8s', '--image', 'x:1', '--min-replicas', '4', '--max-replicas', '2']);
    expect([r.status, r.stderr]).toEqual([1, 'error: --max-replicas (2) is less than --min-replicas (4)\n']);
    r = mlmodel(['generate-k8s', '--image', 'x:1', '--replicas', 'two']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: option '--replicas <n>' argument 'two' is invalid\. --replicas must be an integer ≥ 0, got two/);
    r = mlmodel(['generate-k8s', '--image', 'x:1', '--name', 'Not_Valid']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: --name "Not_Valid" is not a valid name/);
    r = mlmodel(['generate-k8s', '--kserve', '--image', 'x:1', '--name', 'a'.repeat(46)]);
    expect(r.stderr).toMatch(/at most 45 lowercase letters/);
  });

  it('the set checker rejects manifests that do not fit together', () => {
    const good = kubernetesManifests({ image: 'x:1', name: 'x' }) as Obj[];
    expect(setProblems(good)).toEqual([]);
    const broken = (edit: (objs: Obj[]) => void): string[] => {
      const objs = structuredClone(good);
      edit(objs);
      return setProblems(objs);
    };
    expect(broken(([d]) => (d!.spec.template.metadata.labels['app.kubernetes.io/name'] = 'y'))).toContain(
      'selector app.kubernetes.io/name=x does not match the pod labels',
    );
    expect(broken(([, s]) => (s!.spec.ports[0].targetPort = 'web'))).toContain('Service targetPort web');
    expect(broken(([, , h]) => (h!.spec.scaleTargetRef.name = 'other'))).toContain('HPA does not target the Deployment');
    expect(broken(([d]) => delete d!.spec.template.spec.containers[0].resources.requests.cpu)).toContain(
      'a CPU utilization target needs CPU requests on every container',
    );
    expect(broken(([d]) => (d!.spec.template.spec.terminationGracePeriodSeconds = 20))).toContain('grace period 20 is not longer than the drain 25');
    expect(broken(([d]) => (d!.spec.template.spec.containers[0].readinessProbe.httpGet.port = 'metrics'))).toContain(
      'readinessProbe port metrics is not a container port',
    );
    expect(broken(([d]) => (d!.spec.template.spec.containers[0].resources.requests.memory = '1 GB'))).toContain('resources.requests.memory 1 GB');
  });
});
