/**
 * YAML as MLflow writes it: `dumpYaml` reproduces PyYAML's
 * `yaml.safe_dump(data, default_flow_style=False)` byte for byte, `loadYaml` reads what PyYAML's
 * `safe_load` reads (minus aliases, tags and other unsafe or ambiguous constructs).
 */
export { dumpYaml, formatFloat } from './emit.js';
export type { DumpYamlOptions } from './emit.js';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, loadYaml, resolvePlainTag } from './load.js';
export type { LoadYamlOptions, PlainTag } from './load.js';
