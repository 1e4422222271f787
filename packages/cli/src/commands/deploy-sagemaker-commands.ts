/** `mlmodel deploy sagemaker …` — placeholder; filled by the #15 work. */
import type { Command } from 'commander';
import type { Io } from '../output.js';

export function registerSageMakerCommands(deploy: Command, _io: Io, _result: { code: number }): void {
  deploy.command('sagemaker').description('Amazon SageMaker endpoints and batch transform');
}
