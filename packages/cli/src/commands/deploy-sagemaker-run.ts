/**
 * The implementation of `mlmodel deploy sagemaker …` (loaded when a subcommand runs): options
 * into @mlmodel/deploy-sagemaker calls, progress on stderr (`mlmodel: …`), results on stdout as
 * text or JSON, dry runs as the list of planned calls. Errors are the library's typed one-line
 * errors (exit 1).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type * as Sm from '@mlmodel/deploy-sagemaker';
import { keyValues, modelResolver } from '../args.js';
import { catchInterrupts, signalExitCode, type Interrupts } from '../interrupts.js';
import { table, toJson, type Io } from '../output.js';
import { imageFlavors, loadImageBuilder } from './image-builder.js';

export interface SageMakerCliOptions {
  region?: string;
  profile?: string;
  endpointUrl?: string;
  maxAttempts?: number;
  json?: boolean;
  timeout?: number;
  pollInterval?: number;
  dryRun?: boolean;
  quiet?: boolean;
  name?: string;
  model?: string;
  mode?: 'replace' | 'add';
  initialWeight?: number;
  traffic?: string;
  imageUrl?: string;
  repository?: string;
  imageTag?: string;
  executionRoleArn?: string;
  bucket?: string;
  env?: string[];
  tag?: string[];
  variantName?: string;
  instanceType?: string;
  instanceCount?: number;
  serverlessMemory?: number;
  serverlessConcurrency?: number;
  asyncOutputPath?: string;
  asyncFailurePath?: string;
  cleanupTimeout?: number;
  async?: boolean;
  all?: boolean;
  inputLocation?: string;
  asyncMaxConcurrent?: number;
  dataCapture?: string;
  dataCapturePercent?: number;
  vpcSubnets?: string;
  vpcSecurityGroups?: string;
  minInstances?: number;
  maxInstances?: number;
  targetInvocations?: number;
  keepSuperseded?: boolean;
  keepModels?: boolean;
  nameContains?: string;
  inputPath?: string;
  contentType?: string;
  accept?: string;
  targetVariant?: string;
  customAttributes?: string;
  outputPath?: string;
  input?: string;
  output?: string;
  jobName?: string;
  splitType?: 'Line' | 'None' | 'RecordIO' | 'TFRecord';
  batchStrategy?: 'SingleRecord' | 'MultiRecord';
  maxPayloadMb?: number;
  maxConcurrent?: number;
  keep?: boolean;
  flavors?: string;
  registryHost?: string;
  image?: string;
  baseImage?: string;
  network?: string;
  platform?: string;
  port?: number;
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function planText(sm: typeof Sm, session: Sm.AwsSession, io: Io): void {
  io.out('dry run: nothing was changed. These calls would be made:');
  for (const line of sm.formatPlan(session.calls)) io.out(`  ${line}`);
  io.out(`reads made to plan them: ${session.reads.length > 0 ? [...new Set(session.reads)].join(', ') : 'none'}`);
}

export async function runSageMakerCommand(action: string, o: SageMakerCliOptions, io: Io): Promise<number> {
  const sm = await import('@mlmodel/deploy-sagemaker');
  // a dry run's progress says "creating …" for calls it only plans: the prefix keeps that clear
  const prefix = o.dryRun ? 'mlmodel: dry run: ' : 'mlmodel: ';
  const status = o.quiet ? () => undefined : (line: string) => io.err(`${prefix}${line}`);
  const resolver = modelResolver({ log: io.err });
  const wait: Sm.WaitSettings = { intervalMs: (o.pollInterval ?? 5) * 1000, timeoutMs: (o.timeout ?? 1200) * 1000 };
  const env = keyValues(o.env, '--env');
  const tags = keyValues(o.tag, '--tag');

  if (action === 'run-local') return runLocalCommand(sm, o, io, status, env);

  const clients = sm.createClients({
    ...(o.region ? { region: o.region } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.endpointUrl ? { endpointUrl: o.endpointUrl } : {}),
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
  });
  const session = new sm.AwsSession(clients, { dryRun: o.dryRun === true });
  const stopOnSignal = onInterrupt(action, o, session, io);
  try {
    switch (action) {
      case 'build-and-push': {
        const ib = await loadImageBuilder();
        const flavors = o.flavors !== undefined ? imageFlavors(ib, o.flavors) : undefined;
        const view = o.quiet ? null : ib.plainProgress((l) => io.err(`mlmodel: ${l}`));
        const push = o.quiet ? undefined : ib.plainPushProgress((l) => io.err(`mlmodel: ${l}`));
        let r: Sm.BuildAndPushResult;
        try {
          r = await sm.buildAndPush(session, {
            ...(o.model !== undefined ? { model: o.model, resolver } : {}),
            ...(flavors ? { flavors } : {}),
            ...(o.repository ? { repository: o.repository } : {}),
            ...(o.imageTag ? { tag: o.imageTag } : {}),
            ...(o.registryHost ? { registryHost: o.registryHost } : {}),
            ...(o.image ? { image: o.image } : {}),
            ...(o.baseImage ? { baseImage: o.baseImage } : {}),
            ...(o.network ? { network: o.network } : {}),
            ...(o.platform ? { platform: o.platform } : {}),
            ...(view ? { onBuildEvent: (e: Parameters<typeof view.event>[0]) => view.event(e) } : {}),
            ...(push ? { onPushEvent: push } : {}),
            onStatus: status,
          });
        } finally {
          view?.finish();
        }
        if (o.json) io.out(toJson(r));
        else if (r.dryRun) planText(sm, session, io);
        else {
          io.out(
            [
              `pushed ${r.imageUri}${r.pushed ? ` in ${(r.pushed.durationMs / 1000).toFixed(1)} s` : ''}`,
              `  digest      ${r.pushed?.digest ?? '-'}`,
              `  repository  ${r.repositoryUri}${r.createdRepository ? ' (created)' : ''}`,
              `  deploy      mlmodel deploy sagemaker create -n ENDPOINT -m MODEL --image-url ${r.imageUri}`,
            ].join('\n'),
          );
        }
        return 0;
      }
      case 'create':
      case 'update': {
        if (action === 'update' && o.model === undefined) {
          if (!o.traffic) throw new InvalidArgumentError('update needs -m MODEL to deploy, or --traffic to shift traffic');
          const weights = await sm.applyTraffic(session, o.name!, sm.parseTraffic(o.traffic), wait, status);
          if (o.json) io.out(toJson({ endpointName: o.name, weights, dryRun: session.dryRun }));
          else if (session.dryRun) planText(sm, session, io);
          else
            io.out(
              `traffic on ${o.name}: ${Object.entries(weights)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}`,
            );
          return 0;
        }
        for (const [dependent, needs, given, base] of [
          ['--serverless-concurrency', '--serverless-memory', o.serverlessConcurrency, o.serverlessMemory],
          ['--data-capture-percent', '--data-capture', o.dataCapturePercent, o.dataCapture],
          ['--async-failure-path', '--async-output-path', o.asyncFailurePath, o.asyncOutputPath],
          ['--async-max-concurrent', '--async-output-path', o.asyncMaxConcurrent, o.asyncOutputPath],
        ] as const) {
          if (given !== undefined && base === undefined) throw new InvalidArgumentError(`${dependent} needs ${needs}: without it, it would be ignored`);
        }
        const autoScaling =
          o.minInstances !== undefined || o.maxInstances !== undefined || o.targetInvocations !== undefined
            ? { minInstances: o.minInstances ?? 1, maxInstances: o.maxInstances ?? o.minInstances ?? 1, targetInvocationsPerInstance: o.targetInvocations ?? 0 }
            : undefined;
        if (autoScaling && o.targetInvocations === undefined)
          throw new InvalidArgumentError('auto-scaling needs --target-invocations (with --min-instances/--max-instances)');
        if ((o.vpcSubnets === undefined) !== (o.vpcSecurityGroups === undefined))
          throw new InvalidArgumentError('--vpc-subnets and --vpc-security-groups go together');
        const r = await sm.deployEndpoint(session, {
          endpointName: o.name!,
          model: o.model!,
          resolver,
          mode: action === 'create' ? 'create' : (o.mode ?? 'replace'),
          ...(o.imageUrl ? { imageUrl: o.imageUrl } : {}),
          ...(o.repository ? { repository: o.repository } : {}),
          ...(o.imageTag ? { imageTag: o.imageTag } : {}),
          ...(o.executionRoleArn ? { executionRoleArn: o.executionRoleArn } : {}),
          ...(o.bucket ? { bucket: o.bucket } : {}),
          ...(o.variantName ? { variantName: o.variantName } : {}),
          ...(o.instanceType ? { instanceType: o.instanceType } : {}),
          ...(o.instanceCount !== undefined ? { instanceCount: o.instanceCount } : {}),
          ...(o.serverlessMemory !== undefined ? { serverless: { memorySizeMb: o.serverlessMemory, maxConcurrency: o.serverlessConcurrency ?? 5 } } : {}),
          ...(o.asyncOutputPath
            ? {
                asyncInference: {
                  outputPath: o.asyncOutputPath,
                  ...(o.asyncFailurePath ? { failurePath: o.asyncFailurePath } : {}),
                  ...(o.asyncMaxConcurrent ? { maxConcurrentInvocationsPerInstance: o.asyncMaxConcurrent } : {}),
                },
              }
            : {}),
          ...(o.dataCapture
            ? { dataCapture: { destination: o.dataCapture, ...(o.dataCapturePercent !== undefined ? { samplingPercent: o.dataCapturePercent } : {}) } }
            : {}),
          ...(o.vpcSubnets ? { vpc: { subnets: list(o.vpcSubnets), securityGroupIds: list(o.vpcSecurityGroups) } } : {}),
          ...(Object.keys(env).length > 0 ? { env } : {}),
          ...(Object.keys(tags).length > 0 ? { tags } : {}),
          ...(o.initialWeight !== undefined ? { initialWeight: o.initialWeight } : {}),
          ...(o.traffic ? { traffic: sm.parseTraffic(o.traffic) } : {}),
          ...(autoScaling ? { autoScaling } : {}),
          ...(o.keepSuperseded ? { keepSuperseded: true } : {}),
          ...(o.cleanupTimeout !== undefined ? { cleanupTimeoutMs: o.cleanupTimeout * 1000 } : {}),
          wait,
          onStatus: status,
        });
        if (o.json) io.out(toJson(r));
        else if (r.dryRun) planText(sm, session, io);
        else {
          io.out(
            [
              `endpoint ${r.endpointName} is ${r.status} (${r.mode}, ${(r.durationMs / 1000).toFixed(1)} s)`,
              `  config    ${r.endpointConfigName}`,
              `  variant   ${r.variantName} → model ${r.modelName}`,
              `  image     ${r.image}`,
              `  model     ${r.modelDataUrl}`,
              ...(r.cleanedUp.length > 0 ? [`  removed   ${r.cleanedUp.map((c) => `${c.kind} ${c.name}`).join(', ')}`] : []),
            ].join('\n'),
          );
        }
        return 0;
      }
      case 'delete': {
        const r = await sm.deleteDeployment(session, o.name!, { wait, onStatus: status, ...(o.keepModels ? { keepModels: true } : {}) });
        if (o.json) io.out(toJson(r));
        else if (r.dryRun) planText(sm, session, io);
        else {
          io.out(`deleted ${r.endpointName}: ${r.removed.map((c) => `${c.kind} ${c.name}`).join(', ')}`);
          for (const k of r.kept) io.out(`  kept ${k.kind} ${k.name} (not made by mlmodel for this endpoint)`);
        }
        return 0;
      }
      case 'status': {
        const s = await sm.endpointStatus(session, o.name!);
        if (o.json) {
          io.out(toJson(s));
          return 0;
        }
        io.out(`${s.name}  ${s.status}${s.failureReason ? `  (${s.failureReason})` : ''}`);
        io.out(`  config  ${s.endpointConfigName ?? '-'}`);
        io.out(
          table(
            ['VARIANT', 'MODEL', 'WEIGHT', 'INSTANCES', 'TYPE'],
            s.variants.map((v) => [
              v.name,
              v.model ?? '-',
              v.currentWeight === null ? '-' : String(v.currentWeight),
              v.currentInstanceCount === null ? '-' : String(v.currentInstanceCount),
              v.serverless ? `serverless ${v.serverless.memorySizeMb} MB` : (v.instanceType ?? '-'),
            ]),
          ),
        );
        return 0;
      }
      case 'list': {
        const l = await sm.listDeployments(session, { ...(o.nameContains ? { nameContains: o.nameContains } : {}), ...(o.all ? { all: true } : {}) });
        if (o.json) io.out(toJson(l));
        else if (l.length === 0) io.out(o.all ? 'no endpoints' : 'no endpoints made by mlmodel (--all lists every endpoint)');
        else if (o.all)
          io.out(
            table(
              ['ENDPOINT', 'STATUS', 'MODIFIED'],
              l.map((e) => [e.name, e.status, e.modifiedAt ?? '-']),
            ),
          );
        else
          io.out(
            table(
              ['ENDPOINT', 'STATUS', 'MODIFIED', 'MODEL'],
              l.map((e) => [e.name, e.status, e.modifiedAt ?? '-', e.modelUri ?? '-']),
            ),
          );
        return 0;
      }
      case 'predict': {
        const path = o.inputPath!;
        let body: Buffer;
        try {
          body = path === '-' ? await readStdin() : await readFile(path);
        } catch (e) {
          throw new InvalidArgumentError(`cannot read --input-path ${path}: ${(e as Error).message}`);
        }
        const r = await sm.predict(session, {
          endpointName: o.name!,
          body,
          fileName: path === '-' ? 'stdin.json' : path,
          ...(o.contentType ? { contentType: o.contentType } : {}),
          ...(o.accept ? { accept: o.accept } : {}),
          ...(o.targetVariant ? { targetVariant: o.targetVariant } : {}),
          ...(o.customAttributes ? { customAttributes: o.customAttributes } : {}),
          ...(o.async ? { async: true } : {}),
          ...(o.bucket ? { bucket: o.bucket } : {}),
          ...(o.inputLocation ? { inputLocation: o.inputLocation } : {}),
          wait,
          onStatus: status,
        });
        if (r.mode === 'async') status(`async request ${r.inferenceId ?? '?'} answered: ${r.outputLocation} (${r.contentType ?? 'no content type'})`);
        else status(`answered by variant ${r.invokedVariant ?? '?'} (${r.contentType ?? 'no content type'})`);
        if (o.outputPath) await writeFile(o.outputPath, r.body);
        else if (o.json) {
          io.out(
            toJson({
              contentType: r.contentType,
              ...(r.mode === 'async'
                ? { inferenceId: r.inferenceId, outputLocation: r.outputLocation, failureLocation: r.failureLocation }
                : { invokedVariant: r.invokedVariant }),
              body: r.body.toString('utf8'),
            }),
          );
        } else io.out(r.body.toString('utf8'));
        return 0;
      }
      case 'batch-transform': {
        const r = await sm.runTransformJob(session, {
          model: o.model!,
          resolver,
          input: o.input!,
          ...(o.output ? { output: o.output } : {}),
          ...(o.jobName ? { jobName: o.jobName } : {}),
          ...(o.contentType ? { contentType: o.contentType } : {}),
          ...(o.accept ? { accept: o.accept } : {}),
          ...(o.splitType ? { splitType: o.splitType } : {}),
          ...(o.batchStrategy ? { batchStrategy: o.batchStrategy } : {}),
          ...(o.maxPayloadMb !== undefined ? { maxPayloadMb: o.maxPayloadMb } : {}),
          ...(o.maxConcurrent !== undefined ? { maxConcurrentTransforms: o.maxConcurrent } : {}),
          ...(o.instanceType ? { instanceType: o.instanceType } : {}),
          ...(o.instanceCount !== undefined ? { instanceCount: o.instanceCount } : {}),
          ...(o.imageUrl ? { imageUrl: o.imageUrl } : {}),
          ...(o.repository ? { repository: o.repository } : {}),
          ...(o.imageTag ? { imageTag: o.imageTag } : {}),
          ...(o.executionRoleArn ? { executionRoleArn: o.executionRoleArn } : {}),
          ...(o.bucket ? { bucket: o.bucket } : {}),
          ...(Object.keys(env).length > 0 ? { env } : {}),
          ...(Object.keys(tags).length > 0 ? { tags } : {}),
          ...(o.keep ? { keep: true } : {}),
          wait,
          onStatus: status,
        });
        if (r.dryRun) {
          if (o.json) io.out(toJson(r));
          else planText(sm, session, io);
          return 0;
        }
        if (o.outputPath) {
          if (!r.outputObject) throw new InvalidArgumentError('-o/--output-path needs a single input file (the job read a prefix)');
          await writeFile(o.outputPath, await sm.readS3Object(session, r.outputObject));
        }
        if (o.json) io.out(toJson(r));
        else {
          io.out(
            [
              `transform job ${r.jobName} ${r.status} in ${(r.durationMs / 1000).toFixed(1)} s`,
              `  input   ${r.input}`,
              `  output  ${r.outputObject ?? r.outputPath}${o.outputPath ? ` (downloaded to ${o.outputPath})` : ''}`,
              ...(r.cleanedUp.length > 0 ? [`  removed ${r.cleanedUp.map((c) => `${c.kind} ${c.name}`).join(', ')}`] : []),
            ].join('\n'),
          );
        }
        return 0;
      }
      default:
        throw new InvalidArgumentError(`unknown sagemaker command ${action}`);
    }
  } finally {
    stopOnSignal();
    sm.destroyClients(clients);
  }
}

/** The resource a mutating call names, for the interrupt message. */
function callTarget(c: Sm.PlannedCall): string {
  const p = c.params;
  for (const k of ['EndpointName', 'EndpointConfigName', 'ModelName', 'TransformJobName', 'ResourceId', 'repositoryName']) {
    if (typeof p[k] === 'string') return p[k];
  }
  if (typeof p.Bucket === 'string') return typeof p.Key === 'string' ? `s3://${p.Bucket}/${p.Key}` : `s3://${p.Bucket}`;
  return '';
}

/**
 * SIGINT/SIGTERM while a command runs (mostly: during a wait of many minutes). SageMaker goes on
 * with every call already sent and nothing can cancel a create or an update, so the CLI does not
 * die silently: it names the calls made, what to run next, and exits 130 (SIGINT) or 143.
 */
function onInterrupt(action: string, o: SageMakerCliOptions, session: Sm.AwsSession, io: Io): () => void {
  const interrupts = catchInterrupts((signal) => {
    const sent = session.dryRun ? [] : session.calls.filter((c) => c.mutating);
    const what = `${action}${o.name ? ` of ${o.name}` : ''}`;
    const made = sent.map((c) => `${c.operation} ${callTarget(c)}`.trim()).join(', ');
    let next = '';
    if (o.name && (action === 'create' || action === 'update' || action === 'delete')) {
      const endpointMade = action !== 'create' || sent.some((c) => c.operation === 'CreateEndpoint');
      next = endpointMade
        ? `; see \`mlmodel deploy sagemaker status -n ${o.name}\`${action === 'delete' ? ' and run delete again' : `, and \`mlmodel deploy sagemaker delete -n ${o.name}\` removes it`}`
        : '; the endpoint was not created yet, so remove these by hand (they carry the mlmodel:endpoint tag)';
    } else if (action === 'batch-transform' && sent.some((c) => c.operation === 'CreateTransformJob')) {
      next = '; the transform job goes on (aws sagemaker stop-transform-job stops it)';
    }
    io.err(
      sent.length === 0
        ? `error: interrupted (${signal}) during ${what}: nothing had been changed yet`
        : `error: interrupted (${signal}) during ${what}; nothing was rolled back and SageMaker goes on with the calls already made: ${made}${next}`,
    );
    process.exit(signalExitCode(signal));
  });
  return () => interrupts.dispose();
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function runLocalCommand(sm: typeof Sm, o: SageMakerCliOptions, io: Io, status: (l: string) => void, env: Record<string, string>): Promise<number> {
  const resolver = modelResolver({ log: io.err });
  let image = o.image;
  if (!image) {
    const ib = await loadImageBuilder();
    const model = await (await import('@mlmodel/format')).openModelDir(o.model!, { resolver });
    const archive = await sm.createModelArchive(model.dir);
    const repository = o.repository ?? sm.repositoryNameFor(basename(model.dir));
    const view = o.quiet ? null : ib.plainProgress((l) => io.err(`mlmodel: ${l}`));
    try {
      const built = await ib.buildImage({
        model: model.dir,
        tag: `${repository}:model-${archive.sha256.slice(0, 12)}`,
        ...(o.baseImage ? { baseImage: o.baseImage } : {}),
        ...(o.network ? { network: o.network } : {}),
        onEvent: (e) => view?.event(e),
        onStatus: status,
      });
      image = built.tag;
    } finally {
      view?.finish();
    }
  }
  const local = await sm.runLocal({
    model: o.model!,
    resolver,
    image,
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.network ? { network: o.network } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(o.timeout !== undefined ? { readyTimeoutMs: o.timeout * 1000 } : {}),
    onStatus: status,
  });
  io.out(
    `serving ${o.model} with ${image} at ${local.url} (container ${local.containerId.slice(0, 12)}, ready in ${(local.readyMs / 1000).toFixed(1)} s); Ctrl-C stops it`,
  );
  let interrupts: Interrupts | undefined;
  const outcome = await Promise.race([
    new Promise<{ signal: true }>((resolve) => {
      interrupts = catchInterrupts(() => resolve({ signal: true }));
    }),
    local.waitExit().then((code) => ({ signal: false as const, code })),
  ]);
  interrupts?.dispose();
  if (!outcome.signal) {
    const tail = (await local.logs()).trim().split('\n').slice(-5).join(' | ');
    await local.stop();
    io.err(`error: the container exited with ${outcome.code}: ${tail || 'no output'}`);
    return 1;
  }
  status('stopping the container');
  await local.stop();
  return 0;
}
