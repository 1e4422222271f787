/**
 * `mlmodel deploy sagemaker …`: build-and-push, create, update, delete, status, list, predict,
 * batch-transform and run-local. Options are declared here; the implementation
 * (deploy-sagemaker-run.ts, and with it the AWS SDK) loads only when a subcommand runs.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collect, MODEL_ARG_HELP } from '../args.js';
import type { Io } from '../output.js';
import { integerOption } from './image-builder.js';
import type { SageMakerCliOptions } from './deploy-sagemaker-run.js';

/** A positive number of seconds (decimals allowed). */
function secondsOption(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) throw new InvalidArgumentError(`${flag} must be a positive number of seconds, got ${v}`);
    return n;
  };
}

function numberOption(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v.trim())) throw new InvalidArgumentError(`${flag} must be a non-negative number, got ${v}`);
    return n;
  };
}

/** Options every subcommand takes: where AWS is and how to talk to it. */
function awsOptions(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region (default: AWS_REGION, then the profile)')
    .option('--profile <name>', 'a profile from ~/.aws/config (default: AWS_PROFILE, then the SDK default chain)')
    .option(
      '--endpoint-url <url>',
      'one endpoint for every AWS service (compatible clouds, tests); the SDK also reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>',
    )
    .option('--max-attempts <n>', 'attempts per AWS call, retries of throttling and transient errors included (default 5)', integerOption('--max-attempts', 1))
    .option('--json', 'print the result as JSON');
}

function waitOptions(cmd: Command): Command {
  return cmd
    .option('--timeout <seconds>', 'give up waiting for SageMaker after this long (default 1200, as MLflow)', secondsOption('--timeout'))
    .option('--poll-interval <seconds>', 'between status polls (default 5, as MLflow)', secondsOption('--poll-interval'))
    .option('--dry-run', 'print the calls that would change something, make only the reads')
    .option('-q, --quiet', 'no progress lines on stderr');
}

/** What the model runs as: image, role, bucket, environment, tags. */
function modelOptions(cmd: Command): Command {
  return cmd
    .option('--image-url <uri>', 'the image to run (default: the ECR repository build-and-push uses, with the tag it gives this model)')
    .option('--repository <name>', 'ECR repository to take the image from (default mlmodel-<model directory name>)')
    .option('--image-tag <tag>', 'tag of that image (default model-<12 hex of the model archive digest>, as build-and-push)')
    .option('--execution-role-arn <arn>', 'the IAM role SageMaker runs the model as (default: the role of an assumed-role caller)')
    .option('--bucket <name>', 'S3 bucket for model.tar.gz (default mlmodel-sagemaker-<region>-<account>, created when missing)')
    .option('--env <key=value>', 'environment variable of the container (repeatable)', collect)
    .option('--tag <key=value>', 'tag on every resource created (repeatable)', collect);
}

/** The endpoint's shape: instances or serverless or async, capture, network, scaling. */
function endpointOptions(cmd: Command): Command {
  return modelOptions(cmd)
    .option('--variant-name <name>', 'the new production variant (default v<N+1>: v1, v2, …)')
    .option('--instance-type <type>', 'instance type (default ml.m5.large)')
    .option('--instance-count <n>', 'initial instance count (default 1)', integerOption('--instance-count', 1))
    .option('--serverless-memory <mb>', 'serverless endpoint with this memory: 1024, 2048, …, 6144', integerOption('--serverless-memory', 1))
    .option('--serverless-concurrency <n>', 'serverless: most concurrent invocations (default 5)', integerOption('--serverless-concurrency', 1))
    .option('--async-output-path <s3uri>', 'asynchronous inference, results written under this s3:// path')
    .option('--async-failure-path <s3uri>', 'asynchronous: errors written under this s3:// path (default <async-output-path>/failures)')
    .option('--async-max-concurrent <n>', 'asynchronous: most concurrent invocations per instance', integerOption('--async-max-concurrent', 1))
    .option('--data-capture <s3uri>', 'capture requests and responses to this s3:// path')
    .option('--data-capture-percent <n>', 'share of requests captured (default 100)', integerOption('--data-capture-percent', 0))
    .option('--vpc-subnets <ids>', 'run in these VPC subnets (comma-separated; with --vpc-security-groups)')
    .option('--vpc-security-groups <ids>', 'VPC security groups (comma-separated)')
    .option('--min-instances <n>', 'auto-scaling: fewest instances', integerOption('--min-instances', 1))
    .option('--max-instances <n>', 'auto-scaling: most instances', integerOption('--max-instances', 1))
    .option('--target-invocations <n>', 'auto-scaling: target invocations per instance per minute', numberOption('--target-invocations'))
    .option('--keep-superseded', 'keep the replaced config, models and archives (default: removed once the new ones serve)');
}

export function registerSageMakerCommands(deploy: Command, io: Io, result: { code: number }): void {
  const sm = deploy
    .command('sagemaker')
    .description('Amazon SageMaker: push the image to ECR, deploy real-time/serverless/async endpoints, batch transform, run locally as SageMaker does');
  const run = async (action: string, opts: SageMakerCliOptions): Promise<void> => {
    const impl = await import('./deploy-sagemaker-run.js');
    result.code = await impl.runSageMakerCommand(action, opts, io);
  };

  awsOptions(
    sm
      .command('build-and-push')
      .description("build the model's image and push it to ECR (repository created when missing, login with an ECR authorization token)")
      .option('-m, --model <model>', `the model to put in the image: ${MODEL_ARG_HELP}`)
      .option('--flavors <list>', 'without -m: a generic image for these flavors (the model comes from /opt/ml/model)')
      .option('--repository <name>', 'ECR repository (default mlmodel-<model directory name>)')
      .option('--image-tag <tag>', 'image tag (default model-<12 hex of the model archive digest>; latest for a generic image)')
      .option('--registry-host <host[:port]>', 'push to this registry instead of the ECR host (ECR-compatible registries)')
      .option('--image <image>', 'push this local image instead of building one')
      .option('--base-image <image>', 'the image to build on (default node:20-bookworm-slim)')
      .option('--network <mode>', 'network of the build steps, e.g. host')
      .option('--platform <os/arch>', 'linux/amd64 (default) or linux/arm64')
      .option('--dry-run', 'print what would be built, created and pushed')
      .option('-q, --quiet', 'no progress lines on stderr'),
  ).action((opts: SageMakerCliOptions) => run('build-and-push', opts));

  for (const [name, description] of [
    ['create', 'deploy a model to a new endpoint (fails when the endpoint exists); a failed create removes everything it made'],
    ['update', 'deploy a model to an existing endpoint (--mode replace or add) and/or shift traffic (--traffic); a rollback by SageMaker is reported'],
  ] as const) {
    const cmd = sm.command(name).description(description).requiredOption('-n, --name <endpoint>', 'the endpoint');
    if (name === 'create') cmd.requiredOption('-m, --model <model>', `the model: ${MODEL_ARG_HELP}`);
    else {
      cmd
        .option('-m, --model <model>', `the model (without it, update only shifts --traffic): ${MODEL_ARG_HELP}`)
        .addOption(
          new Option('--mode <mode>', 'replace: the model becomes the only variant; add: a new variant next to the others')
            .choices(['replace', 'add'])
            .default('replace'),
        )
        .option('--initial-weight <w>', 'add: traffic weight of the new variant (default 0)', numberOption('--initial-weight'));
    }
    cmd.option('--traffic <weights>', 'after the deploy, set variant weights, e.g. v1=90,v2=10 (variants not named keep theirs)');
    cmd.option(
      '--cleanup-timeout <seconds>',
      'a failed deploy waits this long for the endpoint to leave Creating before removing it, since SageMaker refuses earlier (default: --timeout)',
      secondsOption('--cleanup-timeout'),
    );
    awsOptions(waitOptions(endpointOptions(cmd))).action((opts: SageMakerCliOptions) => run(name, opts));
  }

  awsOptions(
    waitOptions(
      sm
        .command('delete')
        .description('delete an endpoint with its scaling targets, and the config, models and S3 archives mlmodel made for it')
        .requiredOption('-n, --name <endpoint>', 'the endpoint')
        .option('--keep-models', 'keep the models and their archives'),
    ),
  ).action((opts: SageMakerCliOptions) => run('delete', opts));

  awsOptions(
    sm
      .command('status')
      .description("an endpoint's status, variants, weights, instances and FailureReason")
      .requiredOption('-n, --name <endpoint>', 'the endpoint'),
  ).action((opts: SageMakerCliOptions) => run('status', opts));

  awsOptions(
    sm
      .command('list')
      .description('the endpoints mlmodel made in the region (by their mlmodel:endpoint tag); --all for every endpoint')
      .option('--name-contains <text>', 'only endpoints whose name contains this')
      .option('--all', 'every endpoint in the region, not only those mlmodel made'),
  ).action((opts: SageMakerCliOptions) => run('list', opts));

  awsOptions(
    sm
      .command('predict')
      .description(
        'send a file to an endpoint and print the answer: InvokeEndpoint, or for an async endpoint InvokeEndpointAsync (the request uploaded to S3, the result polled)',
      )
      .requiredOption('-n, --name <endpoint>', 'the endpoint')
      .requiredOption(
        '-i, --input-path <file>',
        'the request body: JSON, CSV or Parquet (by extension or -t); - for stdin; real-time: at most 6 MB (serverless 4 MB)',
      )
      .option('-t, --content-type <type>', 'json, csv, parquet, arrow, or a MIME type')
      .option('--accept <type>', 'Accept header')
      .option('--target-variant <name>', 'send to this variant')
      .option('--custom-attributes <text>', 'X-Amzn-SageMaker-Custom-Attributes')
      .option('-o, --output-path <file>', 'write the answer here instead of stdout')
      .option('--async', 'call InvokeEndpointAsync (default: when the endpoint has an AsyncInferenceConfig)')
      .option('--bucket <name>', 'async: upload the request to this bucket (default mlmodel-sagemaker-<region>-<account>)')
      .option('--input-location <s3uri>', 'async: a request already in S3 (not uploaded, not removed)')
      .option('--timeout <seconds>', 'async: give up waiting for the result after this long (default 1200)', secondsOption('--timeout'))
      .option('--poll-interval <seconds>', 'async: between polls of the output location (default 5)', secondsOption('--poll-interval'))
      .option('-q, --quiet', 'no progress lines on stderr'),
  ).action((opts: SageMakerCliOptions) => run('predict', opts));

  awsOptions(
    waitOptions(
      modelOptions(
        sm
          .command('batch-transform')
          .description('score S3 data with a SageMaker batch transform job (the container tells /execution-parameters), wait, report where the output is')
          .requiredOption('-m, --model <model>', `the model: ${MODEL_ARG_HELP}`)
          .requiredOption('--input <path>', 'a local file (uploaded) or an s3:// object or prefix')
          .option('--output <s3uri>', 'where the job writes (default s3://<bucket>/<job>/output)')
          .option('-o, --output-path <file>', 'download the result (of a single input file) here')
          .option('--job-name <prefix>', 'prefix of the job name (default: the model directory name)')
          .option('-t, --content-type <type>', 'content type of the input (default from its extension: csv, json, …)')
          .option('--accept <type>', 'content type of the output (default application/json)')
          .addOption(new Option('--split-type <type>', 'how the input is split into records (default Line)').choices(['Line', 'None', 'RecordIO', 'TFRecord']))
          .addOption(new Option('--batch-strategy <s>', 'records per request (default: what the container says)').choices(['SingleRecord', 'MultiRecord']))
          .option('--max-payload-mb <n>', 'largest request (default: what the container says)', integerOption('--max-payload-mb', 0))
          .option('--max-concurrent <n>', 'parallel requests per instance (default: what the container says)', integerOption('--max-concurrent', 1))
          .option('--instance-type <type>', 'instance type (default ml.m5.large)')
          .option('--instance-count <n>', 'instances (default 1)', integerOption('--instance-count', 1))
          .option('--keep', "keep the job's model, archive and uploaded input"),
      ),
    ),
  ).action((opts: SageMakerCliOptions) => run('batch-transform', opts));

  sm.command('run-local')
    .description(
      'run the image exactly as SageMaker would: `serve`, SAGEMAKER_BIND_TO_PORT, the model unpacked from the same model.tar.gz at /opt/ml/model; stops on Ctrl-C',
    )
    .requiredOption('-m, --model <model>', `the model: ${MODEL_ARG_HELP}`)
    .option('--image <image>', 'the image to run (default: build it now, as build-and-push would, tagged <repository>:<tag>)')
    .option('--repository <name>', 'name of the image built when --image is not given (default mlmodel-<model directory name>)')
    .option('--base-image <image>', 'when building: the image to build on')
    .option('-p, --port <port>', 'port (SAGEMAKER_BIND_TO_PORT; default 8080)', integerOption('--port', 1))
    .option('--network <mode>', 'host: share the host network (also for the build); default: publish the port on 127.0.0.1')
    .option('--env <key=value>', 'environment variable of the container (repeatable)', collect)
    .option('--timeout <seconds>', 'how long /ping may take to answer (default 240, as SageMaker)', secondsOption('--timeout'))
    .option('-q, --quiet', 'no progress lines on stderr')
    .action((opts: SageMakerCliOptions) => run('run-local', opts));
}
