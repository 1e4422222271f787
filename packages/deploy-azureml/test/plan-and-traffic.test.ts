/**
 * The pure parts of @mlmodel/deploy-azureml: traffic maps (parse, check, moving a deleted
 * deployment's share), mirror maps (Azure's rules), the deployment body (Azure's defaults, ISO 8601 durations, the server
 * timeout under the endpoint's), the dry-run plan and redaction. The calls themselves are tested
 * end to end against the fake ARM in test/deploy-azureml.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  AzureMlError,
  checkLiveVsMirror,
  checkMirror,
  checkTraffic,
  deploymentBody,
  formatPlan,
  isoDuration,
  mirrorWithout,
  parseMirror,
  parseTraffic,
  planDelete,
  planDeployment,
  planTraffic,
  redact,
  rememberSecret,
  trafficWithout,
} from '../src/index.js';

const config = { subscriptionId: 'sub-1', resourceGroup: 'rg', workspace: 'ws' };
const W = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

describe('traffic', () => {
  it('parses DEPLOYMENT=PERCENT pairs and refuses anything else', () => {
    expect(parseTraffic('blue=90, green=10')).toEqual({ blue: 90, green: 10 });
    expect(parseTraffic('blue=100%')).toEqual({ blue: 100 });
    expect(() => parseTraffic('blue:90')).toThrow(/"blue:90" is not DEPLOYMENT=PERCENT/);
    expect(() => parseTraffic('blue=90,blue=10')).toThrow(/names deployment blue twice/);
    expect(() => parseTraffic('blue=-5')).toThrow(AzureMlError);
    expect(() => parseTraffic(',')).toThrow(/is empty/);
  });

  it('checks the sum, the range and the deployment names, and fills the others with 0', () => {
    expect(checkTraffic({ green: 100 }, ['blue', 'green'], 'e')).toEqual({ blue: 0, green: 100 });
    expect(() => checkTraffic({ blue: 60, green: 30 }, ['blue', 'green'], 'e')).toThrow(
      'traffic percentages must add up to 100, these add up to 90 (blue=60,green=30)',
    );
    expect(() => checkTraffic({ blue: 101 }, ['blue'], 'e')).toThrow(/whole percentage 0–100, not 101/);
    expect(() => checkTraffic({ red: 100 }, ['blue'], 'e')).toThrow(
      'endpoint e has no deployment red (it has blue): traffic can only go to existing deployments',
    );
  });

  it("moves a removed deployment's share to the others in proportion, the rounding to the largest", () => {
    expect(trafficWithout({ blue: 90, green: 10 }, 'green')).toEqual({ blue: 100 });
    expect(trafficWithout({ a: 50, b: 30, c: 20 }, 'a')).toEqual({ b: 60, c: 40 });
    expect(trafficWithout({ a: 34, b: 33, c: 33 }, 'b')).toEqual({ a: 51, c: 49 });
    expect(trafficWithout({ a: 100, b: 0 }, 'a')).toEqual({ b: 0 });
  });
});

describe('mirrored traffic', () => {
  it('parses green=10 and none', () => {
    expect(parseMirror('green=10')).toEqual({ green: 10 });
    expect(parseMirror('none')).toEqual({});
    expect(parseMirror(' OFF ')).toEqual({});
    expect(() => parseMirror('green')).toThrow(/^--mirror "green": "green" is not DEPLOYMENT=PERCENT \(e\.g\. green=10\)$/);
  });

  it("applies Azure's rules: existing deployment, one at most, 50% at most, never one with live traffic", () => {
    const known = ['blue', 'green', 'red'];
    const live = { blue: 100, green: 0, red: 0 };
    expect(checkMirror({ green: 50 }, known, live, 'e')).toEqual({ green: 50 });
    expect(checkMirror({ green: 0 }, known, live, 'e')).toEqual({});
    expect(() => checkMirror({ green: 51 }, known, live, 'e')).toThrow(/mirrored traffic for green must be a whole percentage 0–50, not 51/);
    expect(() => checkMirror({ green: 1.5 }, known, live, 'e')).toThrow(AzureMlError);
    expect(() => checkMirror({ purple: 10 }, known, live, 'e')).toThrow(/endpoint e has no deployment purple \(it has blue, green, red\)/);
    expect(() => checkMirror({ green: 10, red: 10 }, known, live, 'e')).toThrow(/one deployment only, not green and red/);
    expect(() => checkMirror({ blue: 10 }, known, live, 'e')).toThrow(/deployment blue takes 100% of the live traffic, so it cannot also get mirrored traffic/);
    expect(() => checkLiveVsMirror({ blue: 90, green: 10 }, { green: 10 }, 'e')).toThrow(/add --mirror none/);
    expect(() => checkLiveVsMirror({ blue: 100 }, { green: 10 }, 'e')).not.toThrow();
    expect(mirrorWithout({ green: 10 }, 'green')).toEqual({});
  });

  it('plans the traffic PUT with the mirror map, unchanged parts marked', () => {
    const p = planTraffic(config, 'e', undefined, { green: 10 });
    expect(p.calls.at(-1)).toMatchObject({ method: 'PUT', path: `${W}/onlineEndpoints/e`, body: { traffic: '<unchanged>', mirrorTraffic: 'green=10' } });
  });
});

describe('deployment body', () => {
  it("uses Azure's probe defaults, Managed compute and a server timeout under the endpoint's", () => {
    const b = deploymentBody({ location: 'eastus', modelId: `${W}/models/m/versions/1`, environmentId: `${W}/environments/e/versions/1` });
    expect(b.sku).toEqual({ name: 'Default', capacity: 1 });
    expect(b.properties).toMatchObject({
      endpointComputeType: 'Managed',
      instanceType: 'Standard_DS3_v2',
      requestSettings: { requestTimeout: 'PT60S', maxConcurrentRequestsPerInstance: 1 },
      livenessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 30, successThreshold: 1 },
      environmentVariables: { MLMODEL_TIMEOUT: '59' },
    });
    const short = deploymentBody({
      location: 'x',
      modelId: undefined,
      environmentId: 'env',
      settings: { requestTimeoutMs: 1500, environmentVariables: { MLMODEL_WORKERS: '4' } },
    });
    expect(short.properties.requestSettings?.requestTimeout).toBe('PT1.5S');
    expect(short.properties.environmentVariables).toEqual({ MLMODEL_TIMEOUT: '1', MLMODEL_WORKERS: '4' });
    expect('model' in short.properties).toBe(false);
  });

  it('refuses settings Azure would refuse, before any call', () => {
    expect(() => deploymentBody({ location: 'x', modelId: undefined, environmentId: 'e', settings: { requestTimeoutMs: 180_001 } })).toThrow(
      /1–180000 \(Azure's limit\)/,
    );
    expect(() => deploymentBody({ location: 'x', modelId: undefined, environmentId: 'e', settings: { instanceCount: 0 } })).toThrow(/--instance-count/);
    expect(() => deploymentBody({ location: 'x', modelId: undefined, environmentId: 'e', settings: { readinessProbe: { periodS: 0 } } })).toThrow(
      /periodS must be a whole number ≥ 1/,
    );
    expect(isoDuration(250)).toBe('PT0.25S');
  });
});

describe('dry run', () => {
  it('plans the calls of a create in order, with the ARM paths and the bodies that matter', () => {
    const plan = planDeployment(config, {
      mode: 'create',
      endpoint: 'iris',
      deployment: 'green',
      modelName: 'iris_onnx',
      image: 'img:1',
      traffic: { blue: 90, green: 10 },
    });
    expect(plan.apiVersion).toBe('2024-04-01');
    expect(plan.armHost).toBe('https://management.azure.com');
    const writes = plan.calls.filter((c) => c.method === 'PUT' && c.path.startsWith('/subscriptions/')).map((c) => c.path);
    expect(writes).toEqual([
      `${W}/models/iris_onnx/versions/<next>`,
      `${W}/environments/mlmodel-iris_onnx/versions/<next>`,
      `${W}/onlineEndpoints/iris`,
      `${W}/onlineEndpoints/iris/deployments/green`,
      `${W}/onlineEndpoints/iris`,
    ]);
    expect(plan.calls.at(-1)!.body).toEqual({ traffic: 'blue=90,green=10' });
    const text = formatPlan(plan).join('\n');
    expect(text).toMatch(/^dry run: no call is made/);
    expect(text).toContain('POST https://<loginServer>/oauth2/exchange');
  });

  it('plans a delete that refuses while the deployment takes traffic unless forced', () => {
    expect(planDelete(config, { endpoint: 'iris', deployment: 'blue' }).calls.map((c) => c.method)).toEqual(['GET', 'GET', '—', 'DELETE', 'DELETE']);
    expect(planDelete(config, { endpoint: 'iris', deployment: 'blue', force: true, keepAssets: true }).calls.map((c) => c.method)).toEqual([
      'GET',
      'GET',
      'PUT',
      'DELETE',
    ]);
  });
});

describe('dry run checks', () => {
  it('refuses the endpoint and deployment names a real run refuses, never prints a credential passed with --env, and names the repository the real push uses', () => {
    const base = { mode: 'create' as const, endpoint: 'iris', deployment: 'blue', modelName: 'iris_onnx', image: 'img:1' };
    expect(() => planDeployment(config, { ...base, endpoint: 'ab' })).toThrow(/endpoint name "ab" is not valid: 3–32/);
    expect(() => planDeployment(config, { ...base, endpoint: 'a'.repeat(33) })).toThrow(AzureMlError);
    expect(() => planDeployment(config, { ...base, deployment: 'x' })).toThrow(/deployment name "x" is not valid/);
    expect(() => planDeployment(config, { ...base, deployment: '1blue' })).toThrow(/deployment name "1blue" is not valid/);
    const withEnv = formatPlan(
      planDeployment(config, {
        ...base,
        settings: {
          environmentVariables: { HF_TOKEN: 'hf_live_value1', AZURE_CLIENT_SECRET: 'cs_live_value2', DB_PASSWORD: 'pw_live_value3', LOG_LEVEL: 'debug' },
        },
      }),
    ).join('\n');
    expect(withEnv).not.toMatch(/hf_live_value1|cs_live_value2|pw_live_value3/);
    expect(withEnv).toContain(
      '"environmentVariables":{"MLMODEL_TIMEOUT":"59","HF_TOKEN":"***","AZURE_CLIENT_SECRET":"***","DB_PASSWORD":"***","LOG_LEVEL":"debug"}',
    );
    const push = planDeployment(config, base).calls.find((c) => c.method === 'PUSH');
    expect(push?.path).toBe('<loginServer>/mlmodel/iris-onnx:blue-<next>');
  });
});

describe('redact', () => {
  it('removes remembered secrets, bearer tokens and secret query parameters', () => {
    rememberSecret('s3cr3t-endpoint-key');
    expect(redact('key s3cr3t-endpoint-key refused')).toBe('key *** refused');
    expect(redact('Authorization: Bearer eyJ0eXAi.abc.def')).toBe('Authorization: Bearer ***');
    expect(redact('grant_type=access_token&access_token=abc.def&service=x')).toBe('grant_type=access_token&access_token=***&service=x');
    expect(redact('https://a.blob.core.windows.net/c?sv=1&sig=AbC%2F')).toBe('https://a.blob.core.windows.net/c?sv=1&sig=***');
  });
});
