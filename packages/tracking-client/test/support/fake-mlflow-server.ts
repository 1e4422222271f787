/**
 * A FAKE MLflow tracking server for tests: a local HTTP server that answers the REST API with the
 * JSON shapes, status codes, error bodies and pagination tokens a real MLflow 3.5 server sends
 * (as recorded in shared/reference/mlflow-tracking-rest.md; `fake-server-conformance.test.ts`
 * replays those recordings against it), including the quirks:
 *
 * - success bodies pretty-printed, error bodies single-line `{"error_code": …, "message": …}`;
 * - POST/PATCH need `Content-Type: application/json`; a body that is not JSON reads as `{}`;
 * - `metrics/get-history` without `max_results` returns only a token;
 * - `runs/search` sends a `next_page_token` after every full page, even the last;
 * - an unknown alias is a 400, a missing artifact download a 500, an unknown path Flask's HTML 404;
 * - model-versions/create with a `models:/m-…` source stores the logged model's artifact location.
 *
 * State is in memory (artifacts too). Ids and times can be injected so a test can reproduce the
 * recorded ids. Test hooks: `requests` (everything received), `faults` (fail the next matching
 * requests with a status or a connection reset), `requireAuth`, `listingOverrides` (hostile listings).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';

type Json = Record<string, unknown>;
interface KV {
  key: string;
  value: string;
}
interface MetricRec {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

interface ExperimentRec {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags: KV[];
}

interface RunRec {
  info: {
    run_uuid: string;
    experiment_id: string;
    run_name: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
    run_id: string;
  };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Map<string, MetricRec[]>;
  outputs: { model_id: string; step: number }[];
}

interface LoggedModelRec {
  model_id: string;
  experiment_id: string;
  name: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  artifact_uri: string;
  status: string;
  model_type: string;
  source_run_id?: string;
  tags: KV[];
  params: KV[];
}

interface VersionRec {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  status: string;
  run_link: string;
  storage_location: string;
}

interface RegisteredRec {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description?: string;
  versions: VersionRec[];
  aliases: Map<string, string>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

export interface Fault {
  readonly method?: string;
  /** Matches the path (without the query). */
  readonly path: string | RegExp;
  /** Answer with this status (and body), or reset the connection. */
  readonly status?: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly reset?: boolean;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface FakeMlflowOptions {
  readonly runIds?: string[];
  readonly modelIds?: string[];
  readonly now?: () => number;
}

const PREFIX = '/api/2.0/mlflow/';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const FLASK_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';
const AUTH_401 = 'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.';

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const missing = (name: string): ApiError =>
  new ApiError(
    400,
    'INVALID_PARAMETER_VALUE',
    `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
  );

/** Python's json.dumps spacing (error bodies are written that way). */
function pyDumps(v: unknown): string {
  return JSON.stringify(v).replace(/","/g, '", "').replace(/":/g, '": ');
}

function pageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`).toString('base64');
}

function offsetOf(token: unknown): number {
  if (typeof token !== 'string' || !token) return 0;
  try {
    const d = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: number };
    return d.offset ?? 0;
  } catch {
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid page token, could not base64-decode: ${token}`);
  }
}

function guessType(path: string): string {
  if (path.endsWith('.txt')) return 'text/plain';
  if (path.endsWith('.json')) return 'application/json';
  if (path.endsWith('.yaml')) return 'application/x-yaml';
  return 'application/octet-stream';
}

export class FakeMlflowServer {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  /** Require `Authorization` to be exactly this header value (e.g. `Bearer tok` or `Basic …`). */
  requireAuth: string | null = null;
  /** Listing answers to use instead of the real ones, by the listed `path` (mlflow-artifacts list). */
  readonly listingOverrides = new Map<string, unknown>();
  readonly experiments = new Map<string, ExperimentRec>();
  readonly runs = new Map<string, RunRec>();
  readonly models = new Map<string, LoggedModelRec>();
  readonly registered = new Map<string, RegisteredRec>();
  /** Artifacts by their path under the artifact root (`1/<run>/artifacts/notes/readme.txt`). */
  readonly artifacts = new Map<string, Buffer>();
  private server: Server | null = null;
  private nextExperiment = 1;
  private readonly runIds: string[];
  private readonly modelIds: string[];
  private readonly now: () => number;
  url = '';

  constructor(opts: FakeMlflowOptions = {}) {
    this.runIds = [...(opts.runIds ?? [])];
    this.modelIds = [...(opts.modelIds ?? [])];
    this.now = opts.now ?? Date.now;
    const t = this.now();
    this.experiments.set('0', {
      experiment_id: '0',
      name: 'Default',
      artifact_location: 'mlflow-artifacts:/0',
      lifecycle_stage: 'active',
      last_update_time: t,
      creation_time: t,
      tags: [],
    });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    this.server = null;
  }

  /** Requests to one endpoint path (e.g. `/api/2.0/mlflow/runs/log-batch`). */
  requestsTo(path: string, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && (!method || r.method === method));
  }

  // --- plumbing ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body });
    const common = { server: 'uvicorn', 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' };

    const fault = this.faults.find(
      (f) => (!f.method || f.method === req.method) && (typeof f.path === 'string' ? f.path === path : f.path.test(path)) && (f.times ?? 1) > 0,
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.reset) {
        req.socket.destroy();
        return;
      }
      res.writeHead(fault.status ?? 503, { ...common, 'content-type': 'text/plain', ...fault.headers });
      res.end(fault.body ?? 'Service Unavailable');
      return;
    }
    if (this.requireAuth !== null && req.headers.authorization !== this.requireAuth && path !== '/health') {
      res.writeHead(401, { ...common, 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="mlflow"' });
      res.end(AUTH_401);
      return;
    }
    try {
      if (path === '/health') return this.text(res, 200, 'OK', 'text/html; charset=utf-8');
      if (path === '/version') return this.text(res, 200, '3.5.2.dev0', 'text/html; charset=utf-8');
      if (path === ARTIFACTS || path.startsWith(`${ARTIFACTS}/`))
        return this.artifactProxy(req.method ?? 'GET', path.slice(ARTIFACTS.length + 1), url.searchParams, body, res);
      if (!path.startsWith(PREFIX)) return this.text(res, 404, FLASK_404, 'text/html; charset=utf-8');
      const endpoint = path.slice(PREFIX.length);
      const method = req.method ?? 'GET';
      let args: Json;
      if (method === 'GET' || method === 'DELETE') {
        args = {};
        for (const k of new Set(url.searchParams.keys())) {
          const all = url.searchParams.getAll(k);
          args[k] = all.length > 1 ? all : all[0];
        }
      } else {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
          throw new ApiError(400, 'INVALID_PARAMETER_VALUE', "Bad Request. Content-Type must be one of ['application/json'].");
        }
        try {
          const parsed = JSON.parse(body.toString('utf8') || '{}') as unknown;
          args = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
        } catch {
          args = {};
        }
      }
      const result = this.route(method, endpoint, args);
      if (result === undefined) return this.text(res, 404, FLASK_404, 'text/html; charset=utf-8');
      this.json(res, 200, result);
    } catch (e) {
      if (e instanceof ApiError) {
        res.writeHead(e.status, { ...common, 'content-type': 'application/json' });
        res.end(pyDumps({ error_code: e.code, message: e.message }));
      } else {
        res.writeHead(500, { ...common, 'content-type': 'application/json' });
        res.end(pyDumps({ error_code: 'INTERNAL_ERROR', message: String(e) }));
      }
    }
  }

  private text(res: ServerResponse, status: number, body: string, type: string): void {
    res.writeHead(status, { server: 'uvicorn', 'content-type': type, 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
    res.end(body);
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value, null, 2);
    res.writeHead(status, { server: 'uvicorn', 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
    res.end(text === '{}' ? '{}' : text);
  }

  // --- REST routes -----------------------------------------------------------------------------

  private route(method: string, endpoint: string, a: Json): Json | undefined {
    const key = `${method} ${endpoint}`;
    switch (key) {
      case 'GET experiments/get-by-name':
        return this.getExperimentByName(a);
      case 'GET experiments/get':
        return { experiment: this.experimentJson(this.experiment(str(a.experiment_id, 'experiment_id'))) };
      case 'POST experiments/create':
        return this.createExperiment(a);
      case 'POST experiments/search':
        return this.searchExperiments(a);
      case 'POST runs/create':
        return this.createRun(a);
      case 'POST runs/update':
        return this.updateRun(a);
      case 'GET runs/get':
        return { run: this.runJson(this.run(str(a.run_id ?? a.run_uuid, 'run_id')), true) };
      case 'POST runs/delete':
        this.run(str(a.run_id, 'run_id')).info.lifecycle_stage = 'deleted';
        return {};
      case 'POST runs/search':
        return this.searchRuns(a);
      case 'POST runs/log-batch':
        return this.logBatch(a);
      case 'POST runs/log-parameter':
        return this.logBatch({ run_id: a.run_id ?? a.run_uuid, params: [{ key: a.key, value: a.value }] });
      case 'POST runs/log-metric':
        return this.logBatch({ run_id: a.run_id ?? a.run_uuid, metrics: [{ key: a.key, value: a.value, timestamp: a.timestamp, step: a.step }] });
      case 'POST runs/set-tag':
        return this.logBatch({ run_id: a.run_id ?? a.run_uuid, tags: [{ key: a.key, value: a.value }] });
      case 'GET metrics/get-history':
        return this.metricHistory(a);
      case 'POST runs/outputs':
        return this.logOutputs(a);
      case 'GET artifacts/list':
        return this.trackingList(a);
      case 'POST logged-models':
        return this.createLoggedModel(a);
      case 'POST logged-models/search':
        return this.searchLoggedModels(a);
      case 'POST registered-models/create':
        return this.createRegisteredModel(a);
      case 'GET registered-models/get':
        return { registered_model: this.registeredJson(this.registeredModel(str(a.name, 'name'))) };
      case 'POST model-versions/create':
        return this.createModelVersion(a);
      case 'GET model-versions/get':
        return { model_version: this.versionJson(this.version(str(a.name, 'name'), str(a.version, 'version')), true) };
      case 'GET model-versions/get-download-uri': {
        const v = this.version(str(a.name, 'name'), str(a.version, 'version'));
        return { artifact_uri: v.storage_location || v.source };
      }
      case 'POST registered-models/alias':
        return this.setAlias(a);
      case 'GET registered-models/alias':
        return this.getAlias(a);
      case 'POST registered-models/get-latest-versions':
      case 'GET registered-models/get-latest-versions':
        return this.latestVersions(a);
      case 'GET model-versions/search':
        return this.searchVersions(a);
      default:
        break;
    }
    const lm = /^logged-models\/([^/]+)(\/artifacts\/directories|\/tags)?$/.exec(endpoint);
    if (lm) {
      const id = lm[1]!;
      if (method === 'GET' && !lm[2]) return { model: this.modelJson(this.model(id)) };
      if (method === 'PATCH' && !lm[2]) return this.finalizeModel(id, a);
      if (method === 'PATCH' && lm[2] === '/tags') {
        const m = this.model(id);
        for (const t of (a.tags as KV[] | undefined) ?? []) m.tags = [...m.tags.filter((x) => x.key !== t.key), t];
        return {};
      }
      if (method === 'GET' && lm[2] === '/artifacts/directories') {
        const m = this.model(id);
        return this.listWithRoot(m.artifact_uri, typeof a.artifact_directory_path === 'string' ? a.artifact_directory_path : '');
      }
    }
    return undefined;
  }

  private experiment(id: string): ExperimentRec {
    const e = this.experiments.get(id);
    if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
    return e;
  }

  private experimentJson(e: ExperimentRec): Json {
    return {
      experiment_id: e.experiment_id,
      name: e.name,
      artifact_location: e.artifact_location,
      lifecycle_stage: e.lifecycle_stage,
      last_update_time: e.last_update_time,
      creation_time: e.creation_time,
      ...(e.tags.length ? { tags: e.tags } : {}),
    };
  }

  private getExperimentByName(a: Json): Json {
    const name = str(a.experiment_name, 'experiment_name');
    const e = [...this.experiments.values()].find((x) => x.name === name);
    if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
    return { experiment: this.experimentJson(e) };
  }

  private createExperiment(a: Json): Json {
    if (typeof a.name !== 'string' || !a.name) throw missing('name');
    if ([...this.experiments.values()].some((x) => x.name === a.name)) {
      throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment(name=${a.name}) already exists.`);
    }
    const id = String(this.nextExperiment++);
    const t = this.now();
    this.experiments.set(id, {
      experiment_id: id,
      name: a.name,
      artifact_location: typeof a.artifact_location === 'string' && a.artifact_location ? a.artifact_location : `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      last_update_time: t,
      creation_time: t,
      tags: ((a.tags as KV[] | undefined) ?? []).map((x) => ({ key: x.key, value: x.value })),
    });
    return { experiment_id: id };
  }

  private searchExperiments(a: Json): Json {
    const all = [...this.experiments.values()].filter((e) => e.lifecycle_stage === 'active').sort((x, y) => y.creation_time - x.creation_time);
    const max = Number(a.max_results ?? 1000);
    const offset = offsetOf(a.page_token);
    const page = all.slice(offset, offset + max);
    return {
      ...(page.length ? { experiments: page.map((e) => this.experimentJson(e)) } : {}),
      ...(offset + max < all.length ? { next_page_token: pageToken(offset + max) } : {}),
    };
  }

  private run(id: string): RunRec {
    const r = this.runs.get(id);
    if (!r) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
    return r;
  }

  private createRun(a: Json): Json {
    const expId = a.experiment_id;
    if (typeof expId === 'object' && expId !== null) throw new ApiError(500, 'INTERNAL_ERROR', `invalid literal for int() with base 10: "${pyRepr(expId)}"`);
    if (expId === undefined || expId === '') {
      throw new ApiError(400, 'BAD_REQUEST', '(sqlite3.IntegrityError) FOREIGN KEY constraint failed (fake: the run has no experiment_id)');
    }
    const exp = this.experiment(String(expId));
    const tags = ((a.tags as KV[] | undefined) ?? []).map((x) => ({ key: x.key, value: x.value }));
    const tagName = tags.find((t) => t.key === 'mlflow.runName')?.value;
    const runName = typeof a.run_name === 'string' && a.run_name ? a.run_name : (tagName ?? `fake-run-${this.runs.size + 1}`);
    const id = this.runIds.shift() ?? randomUUID().replace(/-/g, '');
    const run: RunRec = {
      info: {
        run_uuid: id,
        experiment_id: exp.experiment_id,
        run_name: runName,
        user_id: typeof a.user_id === 'string' ? a.user_id : '',
        status: 'RUNNING',
        start_time: typeof a.start_time === 'number' ? a.start_time : this.now(),
        artifact_uri: `${exp.artifact_location}/${id}/artifacts`,
        lifecycle_stage: 'active',
        run_id: id,
      },
      params: new Map(),
      tags: new Map(tags.map((t) => [t.key, t.value])),
      metrics: new Map(),
      outputs: [],
    };
    if (tagName === undefined) run.tags.set('mlflow.runName', runName);
    this.runs.set(id, run);
    const j = this.runJson(run, false);
    return { run: j };
  }

  private runJson(r: RunRec, withOutputs: boolean): Json {
    const metrics: MetricRec[] = [];
    for (const history of r.metrics.values()) {
      const latest = history.reduce((best, m) => (m.step > best.step || (m.step === best.step && m.timestamp >= best.timestamp) ? m : best));
      metrics.push(latest);
    }
    const data: Json = {
      ...(metrics.length ? { metrics } : {}),
      ...(r.params.size ? { params: [...r.params].map(([key, value]) => ({ key, value })) } : {}),
      ...(r.tags.size ? { tags: [...r.tags].map(([key, value]) => ({ key, value })) } : {}),
    };
    return {
      info: { ...r.info },
      data,
      inputs: {},
      ...(withOutputs ? { outputs: r.outputs.length ? { model_outputs: r.outputs } : {} } : {}),
    };
  }

  private updateRun(a: Json): Json {
    const r = this.run(str(a.run_id ?? a.run_uuid, 'run_id'));
    if (typeof a.status === 'string') r.info.status = a.status;
    if (typeof a.end_time === 'number') r.info.end_time = a.end_time;
    if (typeof a.run_name === 'string' && a.run_name) {
      r.info.run_name = a.run_name;
      r.tags.set('mlflow.runName', a.run_name);
    }
    const { run_uuid, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage, run_id } = r.info;
    return {
      run_info: {
        run_uuid,
        experiment_id,
        run_name,
        user_id,
        status,
        start_time,
        ...(end_time !== undefined ? { end_time } : {}),
        artifact_uri,
        lifecycle_stage,
        run_id,
      },
    };
  }

  private searchRuns(a: Json): Json {
    const ids = (a.experiment_ids as string[] | undefined) ?? [];
    const view = (a.run_view_type as string | undefined) ?? 'ACTIVE_ONLY';
    let runs = [...this.runs.values()].filter(
      (r) =>
        ids.includes(r.info.experiment_id) &&
        (view === 'ALL' || (view === 'ACTIVE_ONLY' ? r.info.lifecycle_stage === 'active' : r.info.lifecycle_stage === 'deleted')),
    );
    runs = runs.filter((r) => this.matchesRunFilter(r, typeof a.filter === 'string' ? a.filter : ''));
    const order = ((a.order_by as string[] | undefined) ?? [])[0] ?? 'attributes.start_time DESC';
    const asc = !/\bDESC$/i.test(order);
    runs.sort((x, y) => (asc ? 1 : -1) * (x.info.start_time - y.info.start_time) || (x.info.run_id < y.info.run_id ? -1 : 1));
    const max = Number(a.max_results ?? 1000);
    const offset = offsetOf(a.page_token);
    const page = runs.slice(offset, offset + max);
    // the recorded quirk (#18): a full page gets a token even when nothing follows
    return {
      ...(page.length ? { runs: page.map((r) => this.runJson(r, false)) } : {}),
      ...(page.length === max ? { next_page_token: pageToken(offset + max) } : {}),
    };
  }

  /** The filter subset the tests use: `metrics.k <op> n`, `params.k = 'v'`, `tags.k = 'v'`, joined by and. */
  private matchesRunFilter(r: RunRec, filter: string): boolean {
    if (!filter.trim()) return true;
    return filter.split(/\s+and\s+/i).every((clause) => {
      const m = /^\s*(metrics|params|tags)\.(\S+)\s*(<=|>=|!=|=|<|>)\s*(.+?)\s*$/.exec(clause);
      if (!m) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}'`);
      const [, type, k, op, raw] = m;
      const value = raw!.replace(/^'(.*)'$/, '$1');
      const actual = type === 'metrics' ? this.runJsonMetric(r, k!) : type === 'params' ? r.params.get(k!) : r.tags.get(k!);
      if (actual === undefined) return false;
      const [x, y] = type === 'metrics' ? [Number(actual), Number(value)] : [String(actual), value];
      return op === '=' ? x === y : op === '!=' ? x !== y : op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    });
  }

  private runJsonMetric(r: RunRec, key: string): number | undefined {
    const h = r.metrics.get(key);
    if (!h?.length) return undefined;
    return h.reduce((best, m) => (m.step > best.step || (m.step === best.step && m.timestamp >= best.timestamp) ? m : best)).value;
  }

  private logBatch(a: Json): Json {
    const r = this.run(str(a.run_id, 'run_id'));
    const metrics = (a.metrics as Json[] | undefined) ?? [];
    const params = (a.params as KV[] | undefined) ?? [];
    const tags = (a.tags as KV[] | undefined) ?? [];
    if (metrics.length > 1000) {
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `A batch logging request can contain at most 1000 metrics. Got ${metrics.length} metrics. Please split up metrics across multiple requests and try again.`,
      );
    }
    if (params.length + tags.length > 100) {
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `A batch logging request can contain at most 100 params and tags. Got ${params.length + tags.length} params and tags. Please split up params and tags across multiple requests and try again.`,
      );
    }
    if (metrics.length + params.length + tags.length > 1000) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `A batch logging request can contain at most 1000 total entities (metrics, params and tags).`);
    }
    const changed = params.filter((p) => r.params.has(p.key) && r.params.get(p.key) !== p.value);
    if (changed.length) {
      const list = changed.map((p) => `{'key': '${p.key}', 'old_value': '${r.params.get(p.key)}', 'new_value': '${p.value}'}`).join(', ');
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Changing param values is not allowed. Params were already logged='[${list}]' for run ID='${r.info.run_id}'.`,
      );
    }
    for (const p of params) r.params.set(p.key, p.value);
    for (const m of metrics) {
      const rec = { key: String(m.key), value: Number(m.value), timestamp: Number(m.timestamp ?? this.now()), step: Number(m.step ?? 0) };
      r.metrics.set(rec.key, [...(r.metrics.get(rec.key) ?? []), rec]);
    }
    for (const t of tags) r.tags.set(t.key, t.value);
    return {};
  }

  private metricHistory(a: Json): Json {
    const r = this.run(str(a.run_id ?? a.run_uuid, 'run_id'));
    const history = r.metrics.get(str(a.metric_key, 'metric_key')) ?? [];
    const max = a.max_results === undefined ? 0 : Number(a.max_results);
    const offset = offsetOf(a.page_token);
    // the recorded quirk (#14): without max_results the proto default 0 gives no metrics, only a token
    if (max === 0) return { next_page_token: pageToken(offset) };
    const page = history.slice(offset, offset + max);
    return { ...(page.length ? { metrics: page } : {}), ...(offset + max < history.length ? { next_page_token: pageToken(offset + max) } : {}) };
  }

  private logOutputs(a: Json): Json {
    const r = this.run(str(a.run_id, 'run_id'));
    for (const m of (a.models as { model_id: string; step?: number }[] | undefined) ?? []) {
      this.model(m.model_id);
      r.outputs.push({ model_id: m.model_id, step: m.step ?? 0 });
    }
    return {};
  }

  private model(id: string): LoggedModelRec {
    const m = this.models.get(id);
    if (!m) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${id}' not found.`);
    return m;
  }

  private modelJson(m: LoggedModelRec): Json {
    return {
      info: {
        model_id: m.model_id,
        experiment_id: m.experiment_id,
        name: m.name,
        creation_timestamp_ms: m.creation_timestamp_ms,
        last_updated_timestamp_ms: m.last_updated_timestamp_ms,
        artifact_uri: m.artifact_uri,
        status: m.status,
        model_type: m.model_type,
        ...(m.source_run_id ? { source_run_id: m.source_run_id } : {}),
        ...(m.tags.length ? { tags: m.tags } : {}),
      },
      data: { ...(m.params.length ? { params: m.params } : {}) },
    };
  }

  private createLoggedModel(a: Json): Json {
    const exp = this.experiment(str(a.experiment_id, 'experiment_id'));
    const id = this.modelIds.shift() ?? `m-${randomUUID().replace(/-/g, '')}`;
    const t = this.now();
    const m: LoggedModelRec = {
      model_id: id,
      experiment_id: exp.experiment_id,
      name: typeof a.name === 'string' && a.name ? a.name : id,
      creation_timestamp_ms: t,
      last_updated_timestamp_ms: t,
      artifact_uri: `${exp.artifact_location}/models/${id}/artifacts`,
      status: 'LOGGED_MODEL_PENDING',
      model_type: typeof a.model_type === 'string' ? a.model_type : '',
      ...(typeof a.source_run_id === 'string' ? { source_run_id: a.source_run_id } : {}),
      tags: ((a.tags as KV[] | undefined) ?? []).map((x) => ({ key: x.key, value: x.value })),
      params: ((a.params as KV[] | undefined) ?? []).map((x) => ({ key: x.key, value: x.value })),
    };
    this.models.set(id, m);
    return { model: this.modelJson(m) };
  }

  private finalizeModel(id: string, a: Json): Json {
    const m = this.model(id);
    m.status = str(a.status, 'status');
    m.last_updated_timestamp_ms = this.now();
    return { model: this.modelJson(m) };
  }

  private searchLoggedModels(a: Json): Json {
    const ids = (a.experiment_ids as string[] | undefined) ?? [];
    const filter = typeof a.filter === 'string' ? a.filter : '';
    const nameIs = /^\s*name\s*=\s*'((?:[^'\\]|\\.)*)'\s*$/.exec(filter);
    if (filter && !nameIs) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}' (the fake supports name = '…')`);
    const all = [...this.models.values()]
      .filter((m) => ids.includes(m.experiment_id) && (!nameIs || m.name === nameIs[1]!.replace(/\\(.)/g, '$1')))
      .sort((x, y) => y.creation_timestamp_ms - x.creation_timestamp_ms);
    const max = Number(a.max_results ?? 100);
    const offset = offsetOf(a.page_token);
    const page = all.slice(offset, offset + max);
    return {
      ...(page.length ? { models: page.map((m) => this.modelJson(m)) } : {}),
      ...(offset + max < all.length ? { next_page_token: pageToken(offset + max) } : {}),
    };
  }

  private registeredModel(name: string): RegisteredRec {
    const m = this.registered.get(name);
    if (!m) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
    return m;
  }

  private createRegisteredModel(a: Json): Json {
    const name = str(a.name, 'name');
    if (this.registered.has(name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
    const t = this.now();
    const m: RegisteredRec = {
      name,
      creation_timestamp: t,
      last_updated_timestamp: t,
      ...(typeof a.description === 'string' ? { description: a.description } : {}),
      versions: [],
      aliases: new Map(),
    };
    this.registered.set(name, m);
    return {
      registered_model: { name, creation_timestamp: t, last_updated_timestamp: t, ...(m.description !== undefined ? { description: m.description } : {}) },
    };
  }

  private versionJson(v: VersionRec, withAliases: boolean): Json {
    const aliases = [...(this.registered.get(v.name)?.aliases ?? [])].filter(([, ver]) => ver === v.version).map(([al]) => al);
    return {
      name: v.name,
      version: v.version,
      creation_timestamp: v.creation_timestamp,
      last_updated_timestamp: v.last_updated_timestamp,
      current_stage: v.current_stage,
      description: v.description,
      source: v.source,
      run_id: v.run_id,
      status: v.status,
      run_link: v.run_link,
      ...(withAliases && aliases.length ? { aliases } : {}),
    };
  }

  private registeredJson(m: RegisteredRec): Json {
    const latest = this.latestPerStage(m, undefined);
    return {
      name: m.name,
      creation_timestamp: m.creation_timestamp,
      last_updated_timestamp: m.last_updated_timestamp,
      ...(m.description !== undefined ? { description: m.description } : {}),
      ...(latest.length ? { latest_versions: latest.map((v) => this.versionJson(v, false)) } : {}),
      ...(m.aliases.size ? { aliases: [...m.aliases].map(([alias, version]) => ({ alias, version })) } : {}),
    };
  }

  private createModelVersion(a: Json): Json {
    const m = this.registeredModel(str(a.name, 'name'));
    const source = str(a.source, 'source');
    let storage = '';
    const logged = /^models:\/(m-[\w]+)$/.exec(source);
    if (logged) storage = this.model(logged[1]!).artifact_uri;
    const t = this.now();
    const v: VersionRec = {
      name: m.name,
      version: String(m.versions.length + 1),
      creation_timestamp: t,
      last_updated_timestamp: t,
      current_stage: 'None',
      description: typeof a.description === 'string' ? a.description : '',
      source,
      run_id: typeof a.run_id === 'string' ? a.run_id : '',
      status: 'READY',
      run_link: '',
      storage_location: storage,
    };
    m.versions.push(v);
    m.last_updated_timestamp = t;
    return { model_version: this.versionJson(v, false) };
  }

  private version(name: string, version: string): VersionRec {
    const v = this.registered.get(name)?.versions.find((x) => x.version === version);
    if (!v) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=${version}) not found`);
    return v;
  }

  /** Test helper: move a version to a stage (MLflow's transition-stage). */
  setStage(name: string, version: string, stage: string): void {
    this.version(name, version).current_stage = stage;
  }

  private setAlias(a: Json): Json {
    const m = this.registeredModel(str(a.name, 'name'));
    const version = str(a.version, 'version');
    this.version(m.name, version);
    m.aliases.set(str(a.alias, 'alias'), version);
    return {};
  }

  private getAlias(a: Json): Json {
    const m = this.registeredModel(str(a.name, 'name'));
    const alias = str(a.alias, 'alias');
    const version = m.aliases.get(alias);
    if (version === undefined) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Registered model alias ${alias} not found.`);
    return { model_version: this.versionJson(this.version(m.name, version), true) };
  }

  private latestPerStage(m: RegisteredRec, stages: string[] | undefined): VersionRec[] {
    const wanted = stages?.length ? stages.map((s) => s.toLowerCase()) : undefined;
    const best = new Map<string, VersionRec>();
    for (const v of m.versions) {
      if (wanted && !wanted.includes(v.current_stage.toLowerCase())) continue;
      const cur = best.get(v.current_stage);
      if (!cur || Number(v.version) > Number(cur.version)) best.set(v.current_stage, v);
    }
    return [...best.values()];
  }

  private latestVersions(a: Json): Json {
    const m = this.registeredModel(str(a.name, 'name'));
    const stages = a.stages === undefined ? undefined : Array.isArray(a.stages) ? (a.stages as string[]) : [String(a.stages)];
    const latest = this.latestPerStage(m, stages);
    return latest.length ? { model_versions: latest.map((v) => this.versionJson(v, false)) } : {};
  }

  private searchVersions(a: Json): Json {
    const filter = typeof a.filter === 'string' ? a.filter : '';
    const nameIs = /^\s*name\s*=\s*'([^']*)'\s*$/.exec(filter);
    if (filter && !nameIs) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid filter '${filter}' (the fake supports name='…')`);
    const all = [...this.registered.values()]
      .filter((m) => !nameIs || m.name === nameIs[1])
      .flatMap((m) => m.versions)
      .sort((x, y) => y.last_updated_timestamp - x.last_updated_timestamp || Number(y.version) - Number(x.version));
    const max = Number(a.max_results ?? 10000);
    const offset = offsetOf(a.page_token);
    const page = all.slice(offset, offset + max);
    return {
      ...(page.length ? { model_versions: page.map((v) => this.versionJson(v, false)) } : {}),
      ...(offset + max < all.length ? { next_page_token: pageToken(offset + max) } : {}),
    };
  }

  // --- artifacts ---------------------------------------------------------------------------------

  /** Entries directly under `dir` of the artifact store: basenames, dirs first as stored. */
  private children(dir: string): { name: string; isDir: boolean; size?: number }[] {
    const prefix = dir ? `${dir.replace(/\/+$/, '')}/` : '';
    const out = new Map<string, { name: string; isDir: boolean; size?: number }>();
    for (const [p, data] of this.artifacts) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) out.set(rest, { name: rest, isDir: false, size: data.length });
      else out.set(rest.slice(0, slash), { name: rest.slice(0, slash), isDir: true });
    }
    return [...out.values()].sort((x, y) => (x.name < y.name ? -1 : 1));
  }

  private artifactProxy(method: string, rel: string, query: URLSearchParams, body: Buffer, res: ServerResponse): void {
    if (method === 'GET' && rel === '') {
      const path = posix.normalize(query.get('path') ?? '').replace(/^\.$/, '');
      const override = this.listingOverrides.get(path);
      if (override !== undefined) return this.json(res, 200, override);
      const files = this.children(path).map((c) => (c.isDir ? { path: c.name, is_dir: true } : { path: c.name, is_dir: false, file_size: c.size }));
      return this.json(res, 200, files.length ? { files } : {});
    }
    if (method === 'PUT') {
      this.artifacts.set(rel, body);
      return this.json(res, 200, {});
    }
    if (method === 'GET') {
      const data = this.artifacts.get(rel);
      if (!data) {
        res.writeHead(500, { server: 'uvicorn', 'content-type': 'application/json' });
        res.end(
          pyDumps({
            error_code: 'INTERNAL_ERROR',
            message: `The following failures occurred while downloading one or more artifacts from /srv/fake-mlflow/artifacts:\n##### File ${rel} #####\n[Errno 2] No such file or directory: '/srv/fake-mlflow/artifacts/${rel}'`,
          }),
        );
        return;
      }
      res.writeHead(200, { server: 'uvicorn', 'content-type': guessType(rel), 'content-disposition': `attachment; filename=${posix.basename(rel)}` });
      res.end(data);
      return;
    }
    this.text(res, 404, FLASK_404, 'text/html; charset=utf-8');
  }

  /** The tracking API's listing: paths relative to the root URI. */
  private listWithRoot(rootUri: string, path: string): Json {
    const root = rootUri.replace(/^mlflow-artifacts:\/+/, '');
    const dir = path ? `${root}/${path}` : root;
    const files = this.children(dir).map((c) => {
      const p = path ? `${path}/${c.name}` : c.name;
      return c.isDir ? { path: p, is_dir: true } : { path: p, is_dir: false, file_size: c.size };
    });
    return { root_uri: rootUri, ...(files.length ? { files } : {}) };
  }

  private trackingList(a: Json): Json {
    const r = this.run(str(a.run_id ?? a.run_uuid, 'run_id'));
    return this.listWithRoot(r.info.artifact_uri, typeof a.path === 'string' ? a.path : '');
  }

  /** Test helper: put bytes into the artifact store under an artifact URI (`mlflow-artifacts:/1/…`) and relative path. */
  putArtifact(artifactUri: string, rel: string, data: string | Buffer): void {
    this.artifacts.set(`${artifactUri.replace(/^mlflow-artifacts:\/+/, '')}/${rel}`, Buffer.from(data));
  }
}

function str(v: unknown, name: string): string {
  if (v === undefined || v === null || v === '') throw missing(name);
  return String(v);
}

function pyRepr(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v as Json)
      .map(([k, x]) => `'${k}': ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}
