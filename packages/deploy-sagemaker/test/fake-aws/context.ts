/**
 * What the fake's service handlers share: the state, the account, and the behaviour tests set
 * (how transitions end, how long they take, which containers answer for which image).
 * FAKE: a test double of AWS.
 */
import type { FakeAwsState, Outcome } from './state.js';

export interface Behaviour {
  /** DescribeEndpoint polls a CreateEndpoint stays Creating (default 2). */
  createPolls: number;
  /** Polls an UpdateEndpoint / weights update stays Updating (default 2). */
  updatePolls: number;
  /** Polls a DeleteEndpoint stays Deleting (default 1). */
  deletePolls: number;
  /** How the next CreateEndpoint ends (consumed), then ok. */
  nextCreate: Outcome[];
  /** How the next UpdateEndpoint ends (consumed), then ok. */
  nextUpdate: Outcome[];
  /** Polls a transform job's Describe reports InProgress at least (default 1). */
  transformPolls: number;
  /** Milliseconds before an InvokeEndpointAsync request is run and its output (or failure) written to S3 (default 30). */
  asyncDelayMs: number;
}

export interface FakeContext {
  readonly state: FakeAwsState;
  readonly behaviour: Behaviour;
  readonly account: string;
  /** Password of ECR's `AWS` user (GetAuthorizationToken returns base64 AWS:<it>). */
  readonly registryPassword: string;
  /** The caller STS reports. */
  callerArn: string;
  /** Container base URLs by image: InvokeEndpoint and transform jobs send requests there. */
  readonly containers: Map<string, string>;
  /** Timers of queued async invocations (cleared when the fake stops). */
  readonly timers: Set<NodeJS.Timeout>;
}

export function arn(ctx: FakeContext, region: string, service: string, resource: string): string {
  return `arn:aws:${service}:${region}:${ctx.account}:${resource}`;
}
