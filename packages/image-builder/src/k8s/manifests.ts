/**
 * Kubernetes manifests for an mlmodel image: a Deployment + Service + HorizontalPodAutoscaler,
 * or a KServe `serving.kserve.io/v1beta1` InferenceService whose predictor is the image as a
 * custom container speaking Open Inference Protocol v2.
 *
 * What the image needs from the pod, and where each value comes from:
 * - port 8080 (the entrypoint's default), probes on the server's own routes: liveness
 *   /v2/health/live (answers as soon as the server listens), readiness /v2/health/ready (every
 *   model loaded; MLflow's /ping says the same), a startup probe giving models 4 minutes to load;
 * - `MLMODEL_DRAIN_TIMEOUT` (seconds SIGTERM waits for in-flight requests) and a termination
 *   grace period 10 s longer, so the kubelet's SIGKILL never cuts a drain short;
 * - `MLMODEL_WORKERS` (server processes) or, for python_function, `MLMODEL_PYTHON_WORKERS`, from
 *   the CPU request: without a CPU limit the server would otherwise count the node's cores;
 * - non-root (uid 10001, the image's user), read-only root filesystem with an emptyDir at /tmp,
 *   no privilege escalation, no capabilities; python_function gets a memory-backed /dev/shm (the
 *   bridge's shared buffers) sized from the memory request.
 */
import { CONTAINER_PORT, DEFAULT_DRAIN_TIMEOUT_S } from '../container/serve-args.js';
import { CONTAINER_UID } from '../dockerfile.js';
import { ImageBuildError } from '../errors.js';
import type { ImageFlavor } from '../flavor-packages.js';
import { checkName, cpuQuantity, memoryQuantity, positiveInteger } from './quantities.js';

export type Manifest = Record<string, unknown>;

export interface K8sOptions {
  readonly image: string;
  /** Name of every object (a DNS-1035 label). */
  readonly name: string;
  readonly namespace?: string;
  /** Replicas the Deployment starts with (default: minReplicas). */
  readonly replicas?: number;
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  /** CPU request, e.g. `1` or `500m` (default 1). */
  readonly cpu?: string;
  /** Memory request and limit, e.g. `1Gi` (default 1Gi; 2Gi for python_function). */
  readonly memory?: string;
  /** HPA target: average CPU utilization in percent of the request (default 70). */
  readonly targetCpuUtilization?: number;
  /** The flavor the image serves, when known (python_function changes workers and /dev/shm). */
  readonly flavor?: ImageFlavor;
  /** A Secret whose key `token` becomes MLMODEL_AUTH_TOKEN (probes stay open: health routes need no token). */
  readonly authSecret?: string;
  readonly drainTimeoutSeconds?: number;
}

/** Longest name a KServe InferenceService may have (its Knative service and hosts add suffixes). */
export const KSERVE_NAME_MAX = 45;
export const K8S_NAME_MAX = 63;
const GRACE_MARGIN_S = 10;

interface Resolved {
  image: string;
  name: string;
  namespace: string | undefined;
  replicas: number;
  min: number;
  max: number;
  cpu: { quantity: string; cores: number };
  memory: string;
  target: number;
  flavor: ImageFlavor | undefined;
  authSecret: string | undefined;
  drain: number;
}

function resolve(o: K8sOptions, maxName: number): Resolved {
  if (!o.image || /\s/.test(o.image)) throw new ImageBuildError(`--image must name an image, got ${JSON.stringify(o.image)}`);
  const replicas = o.replicas === undefined ? undefined : positiveInteger(o.replicas, '--replicas', 0);
  const min = positiveInteger(o.minReplicas ?? Math.max(1, replicas ?? 1), '--min-replicas', 1);
  const max = positiveInteger(o.maxReplicas ?? Math.max(min, 3), '--max-replicas', 1);
  if (max < min) throw new ImageBuildError(`--max-replicas (${max}) is less than --min-replicas (${min})`);
  const start = replicas ?? min;
  const target = positiveInteger(o.targetCpuUtilization ?? 70, '--target-cpu-utilization', 1);
  if (target > 100) throw new ImageBuildError(`--target-cpu-utilization is a percentage of the CPU request (1-100), got ${target}`);
  return {
    image: o.image,
    name: checkName(o.name, maxName),
    namespace: o.namespace === undefined ? undefined : checkName(o.namespace, K8S_NAME_MAX, '--namespace'),
    replicas: start,
    min,
    max,
    cpu: cpuQuantity(o.cpu ?? '1'),
    memory: memoryQuantity(o.memory ?? (o.flavor === 'python_function' ? '2Gi' : '1Gi')),
    target,
    flavor: o.flavor,
    authSecret: o.authSecret === undefined ? undefined : checkName(o.authSecret, 253, '--auth-secret'),
    drain: positiveInteger(o.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_S, 'the drain timeout', 1),
  };
}

function labels(r: Resolved): Record<string, string> {
  return { 'app.kubernetes.io/name': r.name, 'app.kubernetes.io/component': 'model-server', 'app.kubernetes.io/managed-by': 'mlmodel' };
}

function metadata(r: Resolved, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}), labels: labels(r), ...extra };
}

function env(r: Resolved): Manifest[] {
  const workers = String(Math.max(1, Math.floor(r.cpu.cores)));
  const out: Manifest[] = [
    r.flavor === 'python_function' ? { name: 'MLMODEL_PYTHON_WORKERS', value: workers } : { name: 'MLMODEL_WORKERS', value: workers },
    { name: 'MLMODEL_DRAIN_TIMEOUT', value: String(r.drain) },
  ];
  if (r.authSecret) out.push({ name: 'MLMODEL_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: r.authSecret, key: 'token' } } });
  return out;
}

const probe = (path: string, port: number | string, periodSeconds: number, failureThreshold: number): Manifest => ({
  httpGet: { path, port },
  periodSeconds,
  timeoutSeconds: 2,
  failureThreshold,
});

function containerSecurity(): Manifest {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
}

function podSecurity(): Manifest {
  return { runAsNonRoot: true, runAsUser: CONTAINER_UID, runAsGroup: CONTAINER_UID, seccompProfile: { type: 'RuntimeDefault' } };
}

/** Writable memory the pod gets: /tmp always, a memory-backed /dev/shm for python_function. */
function volumes(r: Resolved): { volumes: Manifest[]; mounts: Manifest[] } {
  const vols: Manifest[] = [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }];
  const mounts: Manifest[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (r.flavor === 'python_function') {
    vols.push({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } });
    mounts.push({ name: 'dshm', mountPath: '/dev/shm' });
  }
  return { volumes: vols, mounts };
}

function resources(r: Resolved): Manifest {
  // no CPU limit (throttling hurts latency); memory is both request and limit (the server sizes its budget from it)
  return { requests: { cpu: r.cpu.quantity, memory: r.memory }, limits: { memory: r.memory } };
}

const PROMETHEUS = (port: number): Record<string, string> => ({
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(port),
  'prometheus.io/path': '/metrics',
});

/** Deployment + Service + HorizontalPodAutoscaler (autoscaling/v2, on CPU). */
export function kubernetesManifests(o: K8sOptions): Manifest[] {
  const r = resolve(o, K8S_NAME_MAX);
  const { volumes: vols, mounts } = volumes(r);
  const container: Manifest = {
    name: 'model-server',
    image: r.image,
    args: ['serve'],
    ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
    env: env(r),
    resources: resources(r),
    startupProbe: probe('/v2/health/live', 'http', 2, 120),
    livenessProbe: probe('/v2/health/live', 'http', 10, 3),
    readinessProbe: probe('/v2/health/ready', 'http', 5, 2),
    securityContext: containerSecurity(),
    volumeMounts: mounts,
  };
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(r),
    spec: {
      replicas: r.replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': r.name } },
      // a new pod must be ready before an old one goes: no capacity lost during a rollout
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(r), annotations: PROMETHEUS(CONTAINER_PORT) },
        spec: {
          terminationGracePeriodSeconds: r.drain + GRACE_MARGIN_S,
          automountServiceAccountToken: false,
          securityContext: podSecurity(),
          containers: [container],
          volumes: vols,
        },
      },
    },
  };
  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(r),
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': r.name },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const hpa: Manifest = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(r),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: r.name },
      minReplicas: r.min,
      maxReplicas: r.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: r.target } } }],
    },
  };
  return [deployment, service, hpa];
}

/** A KServe InferenceService (serving.kserve.io/v1beta1) with the image as the predictor's custom container. */
export function inferenceService(o: K8sOptions): Manifest {
  const r = resolve(o, KSERVE_NAME_MAX);
  const { volumes: vols, mounts } = volumes(r);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: metadata(r, { annotations: { 'serving.kserve.io/enable-prometheus-scraping': 'true', ...PROMETHEUS(CONTAINER_PORT) } }),
    spec: {
      predictor: {
        minReplicas: r.min,
        maxReplicas: r.max,
        terminationGracePeriodSeconds: r.drain + GRACE_MARGIN_S,
        securityContext: podSecurity(),
        containers: [
          {
            // KServe routes to the container it calls kserve-container; Knative allows one port
            name: 'kserve-container',
            image: r.image,
            args: ['serve'],
            ports: [{ containerPort: CONTAINER_PORT, protocol: 'TCP' }],
            env: env(r),
            resources: resources(r),
            livenessProbe: probe('/v2/health/live', CONTAINER_PORT, 10, 3),
            readinessProbe: probe('/v2/health/ready', CONTAINER_PORT, 5, 2),
            securityContext: containerSecurity(),
            volumeMounts: mounts,
          },
        ],
        volumes: vols,
      },
    },
  };
}
