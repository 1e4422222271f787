/**
 * What the fake AWS holds, open to tests: buckets and objects, SageMaker models, endpoint
 * configs, endpoints (with their simulated transitions), transform jobs, ECR repositories,
 * scalable targets and policies, and every call made. FAKE: a test double of AWS.
 */

export interface FakeObject {
  body: Buffer;
  contentType: string;
  tags: Record<string, string>;
}

export interface FakeBucket {
  region: string;
  objects: Map<string, FakeObject>;
}

export interface FakeTag {
  Key: string;
  Value: string;
}

export interface FakeModel {
  ModelName: string;
  ModelArn: string;
  ExecutionRoleArn: string;
  PrimaryContainer: { Image: string; ModelDataUrl?: string; Environment?: Record<string, string> };
  VpcConfig?: unknown;
  CreationTime: number;
}

export interface FakeVariantConfig {
  VariantName: string;
  ModelName: string;
  InitialVariantWeight?: number;
  InitialInstanceCount?: number;
  InstanceType?: string;
  ServerlessConfig?: { MemorySizeInMB: number; MaxConcurrency: number };
}

export interface FakeEndpointConfig {
  EndpointConfigName: string;
  EndpointConfigArn: string;
  ProductionVariants: FakeVariantConfig[];
  AsyncInferenceConfig?: unknown;
  DataCaptureConfig?: unknown;
  CreationTime: number;
}

/** What happens at the end of a transition. */
export type Outcome = { kind: 'ok' } | { kind: 'fail'; reason: string } | { kind: 'rollback'; reason: string } | { kind: 'never' };

export interface FakeLiveVariant {
  VariantName: string;
  CurrentWeight: number;
  DesiredWeight: number;
  CurrentInstanceCount?: number;
  DesiredInstanceCount?: number;
  CurrentServerlessConfig?: { MemorySizeInMB?: number; MaxConcurrency?: number };
}

export interface FakeEndpoint {
  EndpointName: string;
  EndpointArn: string;
  EndpointConfigName: string;
  EndpointStatus: string;
  FailureReason?: string;
  ProductionVariants: FakeLiveVariant[];
  CreationTime: number;
  LastModifiedTime: number;
  /** The transition in progress: polls left and how it ends. */
  pending?: { pollsLeft: number; outcome: Outcome; targetConfig?: string; weights?: Record<string, number> };
}

export interface FakeTransformJob {
  TransformJobName: string;
  TransformJobArn: string;
  ModelName: string;
  TransformJobStatus: string;
  FailureReason?: string;
  request: Record<string, unknown>;
  CreationTime: number;
  /** The /invocations requests the job sent to the container: content type and body. */
  invocations: { contentType: string; body: string }[];
  /** What the container's /execution-parameters said (null when it did not answer). */
  executionParameters: Record<string, unknown> | null;
}

export interface FakeRepository {
  repositoryName: string;
  repositoryArn: string;
  repositoryUri: string;
  registryId: string;
  createdAt: number;
}

export interface FakeScalableTarget {
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  MinCapacity: number;
  MaxCapacity: number;
  CreationTime: number;
}

export interface FakeScalingPolicy {
  PolicyName: string;
  PolicyARN: string;
  ResourceId: string;
  ScalableDimension: string;
  ServiceNamespace: string;
  PolicyType: string;
  TargetTrackingScalingPolicyConfiguration?: unknown;
}

/** One InvokeEndpointAsync request, as the fake queued and ran it. */
export interface FakeAsyncInvocation {
  readonly inferenceId: string;
  readonly endpoint: string;
  readonly inputLocation: string;
  readonly contentType: string | null;
  readonly outputLocation: string;
  readonly failureLocation: string | null;
  status: 'queued' | 'done' | 'failed';
}

export interface FakeCall {
  readonly service: string;
  readonly operation: string;
  readonly params: Record<string, unknown>;
  readonly region: string;
  readonly accessKeyId: string;
}

export interface Inventory {
  readonly buckets: string[];
  readonly objects: string[];
  readonly models: string[];
  readonly endpointConfigs: string[];
  readonly endpoints: string[];
  readonly scalableTargets: string[];
  readonly scalingPolicies: string[];
  readonly repositories: string[];
}

export class FakeAwsState {
  readonly buckets = new Map<string, FakeBucket>();
  readonly models = new Map<string, FakeModel>();
  readonly endpointConfigs = new Map<string, FakeEndpointConfig>();
  readonly endpoints = new Map<string, FakeEndpoint>();
  readonly transformJobs = new Map<string, FakeTransformJob>();
  readonly repositories = new Map<string, FakeRepository>();
  readonly scalableTargets = new Map<string, FakeScalableTarget>();
  readonly scalingPolicies = new Map<string, FakeScalingPolicy>();
  readonly tags = new Map<string, FakeTag[]>();
  readonly asyncInvocations: FakeAsyncInvocation[] = [];
  readonly calls: FakeCall[] = [];

  /** Everything that exists now, by kind (objects as s3:// URIs): what a test compares to "nothing left". */
  inventory(): Inventory {
    const objects: string[] = [];
    for (const [b, bucket] of this.buckets) for (const k of bucket.objects.keys()) objects.push(`s3://${b}/${k}`);
    return {
      buckets: [...this.buckets.keys()].sort(),
      objects: objects.sort(),
      models: [...this.models.keys()].sort(),
      endpointConfigs: [...this.endpointConfigs.keys()].sort(),
      endpoints: [...this.endpoints.keys()].sort(),
      scalableTargets: [...this.scalableTargets.keys()].sort(),
      scalingPolicies: [...this.scalingPolicies.keys()].sort(),
      repositories: [...this.repositories.keys()].sort(),
    };
  }

  /** The mutating calls made (not Describe/List/Get/Head), as `service:Operation`. */
  mutatingCalls(): string[] {
    return this.calls.filter((c) => !/^(Describe|List|Get|Head)/.test(c.operation)).map((c) => `${c.service}:${c.operation}`);
  }
}
