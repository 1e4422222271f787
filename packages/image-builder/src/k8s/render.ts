/** Manifests as one multi-document YAML file (key order as built), with a comment header. */
import { dumpYaml } from '@mlmodel/format';
import type { Manifest } from './manifests.js';

export function manifestsYaml(manifests: readonly Manifest[], header: readonly string[] = []): string {
  const comments = header.map((l) => `# ${l}`.trimEnd()).join('\n');
  const docs = manifests.map((m) => `---\n${dumpYaml(m, { sortKeys: false })}`).join('');
  return comments ? `${comments}\n${docs}` : docs;
}
