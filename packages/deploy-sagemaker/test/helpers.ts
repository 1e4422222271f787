/** Shared set-up of the package's tests: the fake AWS, a session on the real SDK clients, the example model. */
import { fileURLToPath } from 'node:url';
import { AwsSession, createClients, destroyClients, type AwsClients } from '../src/index.js';
import { startFakeAws, type FakeAws } from './fake-aws/index.js';

export const MODEL = fileURLToPath(new URL('../../../examples/iris-onnx', import.meta.url));
export const IMAGE = '123456789012.dkr.ecr.us-west-2.amazonaws.com/mlmodel-iris-onnx:test';
export const ROLE = 'arn:aws:iam::123456789012:role/SageMakerExecution';
/** Polls in milliseconds: the fake's transitions take a few polls. */
export const FAST = { intervalMs: 5, timeoutMs: 5_000 };

export interface Harness {
  readonly fake: FakeAws;
  readonly clients: AwsClients;
  session(opts?: { dryRun?: boolean }): AwsSession;
  close(): Promise<void>;
}

export async function harness(opts: { maxAttempts?: number } = {}): Promise<Harness> {
  const fake = await startFakeAws();
  const clients = createClients({ ...fake.clientConfig(), maxAttempts: opts.maxAttempts ?? 4 });
  return {
    fake,
    clients,
    session: (o = {}) => new AwsSession(clients, o),
    close: async () => {
      destroyClients(clients);
      await fake.stop();
    },
  };
}

/** What the fake holds, minus the kinds a test does not look at. */
export function leftovers(fake: FakeAws): Record<string, string[]> {
  const inv = fake.state.inventory();
  return Object.fromEntries(Object.entries(inv).filter(([, v]) => v.length > 0));
}
