/**
 * `mlmodel deploy sagemaker|azureml …`: one `deploy` command whose two clouds register their own
 * subcommands (options are declared here, implementations load when a subcommand runs).
 */
import type { Command } from 'commander';
import type { Io } from '../output.js';
import { registerAzureMlCommands } from './deploy-azureml-commands.js';
import { registerSageMakerCommands } from './deploy-sagemaker-commands.js';

export function registerDeployCommands(program: Command, io: Io, result: { code: number }): void {
  const deploy = program
    .command('deploy')
    .description('deploy a model to a cloud: sagemaker (endpoints, batch transform) or azureml (managed online endpoints)');
  registerSageMakerCommands(deploy, io, result);
  registerAzureMlCommands(deploy, io, result);
}
