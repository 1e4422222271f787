/**
 * Node module hooks that run this repository's TypeScript sources directly in a child `node`
 * process (tests that need a fresh process, e.g. to measure its memory): `.ts` files are
 * transpiled with the workspace's `typescript` (types are not checked), and relative `.js`
 * imports resolve to the `.ts` file next to them. Register with `--import ./register-ts.mjs`.
 * With MLMODEL_TRACE_IMPORTS=1 every module URL resolved is printed to stderr as `import: <url>`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const trace = process.env.MLMODEL_TRACE_IMPORTS === '1';

async function resolveTs(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) return next(`${specifier.slice(0, -3)}.ts`, context);
    throw e;
  }
}

export async function resolve(specifier, context, next) {
  const r = await resolveTs(specifier, context, next);
  if (trace) process.stderr.write(`import: ${r.url}\n`);
  return r;
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, sourceMap: false },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
