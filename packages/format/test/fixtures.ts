import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The models saved by real MLflow 3.5 in ../shared/fixtures (relative to the repository root). */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));

export const FIXTURE_MODELS = readdirSync(FIXTURES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

export function fixturePath(model: string, file = ''): string {
  return `${FIXTURES_DIR}${model}${file ? `/${file}` : ''}`;
}
