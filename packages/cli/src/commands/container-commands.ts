/**
 * The container commands: `build-docker`, `generate-dockerfile` (MLflow's names and habits) and
 * `generate-k8s`. Registered by main.ts with one call; each stores its exit code in `result.code`.
 */
import { Option, type Command } from 'commander';
import { collect } from '../args.js';
import type { Io } from '../output.js';
import { buildDockerCommand, type BuildDockerCliOptions } from './build-docker.js';
import { generateDockerfileCommand, type GenerateDockerfileCliOptions } from './generate-dockerfile.js';
import { generateK8sCommand, type GenerateK8sCliOptions } from './generate-k8s.js';
import { integerOption } from './image-builder.js';

const FLAVORS = 'onnx, tfjs, js_function, python_function';

/** `-m`/`--model-uri` (MLflow's name) as one option. */
function modelOf(o: { model?: string; modelUri?: string }): string | undefined {
  return o.model ?? o.modelUri;
}

export function registerContainerCommands(program: Command, io: Io, result: { code: number }): void {
  program
    .command('build-docker')
    .description('build a Docker image that serves a model with `mlmodel serve` on port 8080 (through the engine at $DOCKER_HOST)')
    .option(
      '-m, --model <model>',
      "the model to put in the image; without it, a generic image serving the model mounted at /opt/ml/model (MLflow's --model-uri works too)",
    )
    .addOption(new Option('--model-uri <model>', 'same as --model').hideHelp())
    .requiredOption('-n, --name <name[:tag]>', 'the image name, e.g. iris-onnx:1 (:latest when no tag is given)')
    .option('--flavors <list>', `flavors a generic image serves, comma-separated: ${FLAVORS}`)
    .option('--flavor <name>', 'serve the model with this flavor instead of the first native one that can')
    .option('--base-image <image>', 'the image to build on: Node 20 on glibc (and Python 3 for python_function) (default node:20-bookworm-slim)')
    .option('--label <key=value>', 'a label for the image (repeatable)', collect)
    .addOption(
      new Option('--env-manager <name>', 'python_function: virtualenv installs what the base lacks at build time; local uses the base Python as it is').choices(
        ['local', 'virtualenv'],
      ),
    )
    .option('--pip-index-url <url>', "python_function: pip's index for requirements the base image lacks (a build arg: keep credentials out of it)")
    .option('--no-cache', 'build every step again instead of reusing cached layers')
    .option('--network <mode>', 'network of the build steps, e.g. host where the engine has no bridge network')
    .addOption(
      new Option('--platform <os/arch>', 'the platform the image is for: its base image and the native binaries it carries').choices([
        'linux/amd64',
        'linux/arm64',
      ]),
    )
    .option('-q, --quiet', 'no build progress; only the result')
    .option('--json', 'print the result as JSON')
    .action(async (opts: BuildDockerCliOptions & { modelUri?: string }) => {
      const model = modelOf(opts);
      result.code = await buildDockerCommand({ ...opts, ...(model !== undefined ? { model } : {}) }, io);
    });

  program
    .command('generate-dockerfile')
    .description('write the self-contained build context build-docker uses (Dockerfile, runtime, model) for your own build tooling')
    .option('-m, --model <model>', 'the model to put in the image; without it, a generic image serving the model mounted at /opt/ml/model')
    .addOption(new Option('--model-uri <model>', 'same as --model').hideHelp())
    .option('-d, --output-directory <dir>', 'the directory to write (new or empty)', 'mlmodel-dockerfile')
    .option('--flavors <list>', `flavors a generic image serves, comma-separated: ${FLAVORS}`)
    .option('--flavor <name>', 'serve the model with this flavor instead of the first native one that can')
    .option('--base-image <image>', 'the default base image written into the Dockerfile (default node:20-bookworm-slim)')
    .addOption(new Option('--env-manager <name>', 'python_function: virtualenv (default) or local').choices(['local', 'virtualenv']))
    .addOption(
      new Option('--platform <os/arch>', 'the platform whose native binaries the runtime carries (default linux/amd64)').choices([
        'linux/amd64',
        'linux/arm64',
      ]),
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: GenerateDockerfileCliOptions & { modelUri?: string }) => {
      const model = modelOf(opts);
      result.code = await generateDockerfileCommand({ ...opts, ...(model !== undefined ? { model } : {}) }, io);
    });

  program
    .command('generate-k8s')
    .description('write Kubernetes manifests for an image: Deployment + Service + HorizontalPodAutoscaler, or a KServe InferenceService (--kserve)')
    .requiredOption('--image <image>', 'the image the pods run (as pushed to your registry)')
    .option('-m, --model <model>', 'the model in the image: its name and flavor set the defaults (python_function: Python workers, /dev/shm)')
    .option('--flavor <name>', 'the flavor the image serves the model with (as build-docker --flavor)')
    .option('--name <name>', 'name of every object (default: from the model directory, else the image)')
    .option('--namespace <ns>', 'namespace of every object (default: none, kubectl picks)')
    .option('--replicas <n>', 'replicas to start with (default: --min-replicas)', integerOption('--replicas', 0))
    .option('--min-replicas <n>', 'fewest replicas the autoscaler keeps (default 1)', integerOption('--min-replicas', 1))
    .option('--max-replicas <n>', 'most replicas the autoscaler makes (default: 3, or --min-replicas if more)', integerOption('--max-replicas', 1))
    .option('--cpu <quantity>', 'CPU request per pod, e.g. 1 or 500m; also sets the server processes (default 1)')
    .option('--memory <quantity>', 'memory request and limit per pod, e.g. 1Gi (default 1Gi; 2Gi for python_function)')
    .option(
      '--target-cpu-utilization <percent>',
      'the HPA scales to keep average CPU at this share of the request (default 70)',
      integerOption('--target-cpu-utilization', 1),
    )
    .option('--auth-secret <secret>', "a Secret whose key 'token' becomes the bearer token clients must send")
    .option('--kserve', 'write a KServe serving.kserve.io/v1beta1 InferenceService instead')
    .option('-o, --output <file>', 'write the manifests to this file instead of stdout')
    .action(async (opts: GenerateK8sCliOptions) => {
      result.code = await generateK8sCommand(opts, io);
    });
}
