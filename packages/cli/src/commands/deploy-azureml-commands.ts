/** `mlmodel deploy azureml …` — placeholder; filled by the #16 work. */
import type { Command } from 'commander';
import type { Io } from '../output.js';

export function registerAzureMlCommands(deploy: Command, _io: Io, _result: { code: number }): void {
  deploy.command('azureml').description('Azure ML managed online endpoints');
}
