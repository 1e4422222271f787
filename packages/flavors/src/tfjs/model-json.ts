/**
 * Reading and checking a TensorFlow.js `model.json`: the file written by `tensorflowjs_converter`
 * (graph models) or `model.save()` (layers models), whose `weightsManifest` lists the binary
 * weight shards next to it. Pure file handling: tfjs itself is not needed here.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { TfjsModelFileError } from './errors.js';

export type TfjsModelType = 'graph' | 'layers';

/** A checked model.json. */
export interface ParsedModelJson {
  /** Absolute path of the file. */
  readonly file: string;
  /** The file's text, byte for byte (what `save` copies). */
  readonly text: string;
  readonly json: io.ModelJSON;
  readonly modelType: TfjsModelType;
  /** Every shard in load order, with the path as written in the manifest and its absolute path. */
  readonly shards: readonly ShardRef[];
}

export interface ShardRef {
  /** Index of the weight group in `weightsManifest`. */
  readonly group: number;
  /** The path as written in the manifest, relative to model.json. */
  readonly path: string;
  readonly absPath: string;
}

const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;
const WEIGHT_DTYPES = new Set(['float32', 'int32', 'bool', 'string', 'complex64']);
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
const STRING_LENGTH_BYTES = 4;

/** Read a model.json, check its structure and classify it; shards are located but not read. */
export async function readModelJson(file: string): Promise<ParsedModelJson> {
  let text: string;
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw new TfjsModelFileError('is a directory; expected a TensorFlow.js model.json file', { file });
    if (s.size > MAX_MODEL_JSON_BYTES) throw new TfjsModelFileError(`is ${s.size} bytes, larger than any model.json should be`, { file });
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof TfjsModelFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TfjsModelFileError(code === 'ENOENT' ? 'TensorFlow.js model.json not found' : `cannot read the model.json (${(e as Error).message})`, {
      file,
      cause: e,
      errorCode: code === 'ENOENT' ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TfjsModelFileError(`is not valid JSON (${(e as Error).message}); expected a TensorFlow.js model.json`, { file, cause: e });
  }
  const json = checkModelJson(raw, file);
  const modelType = classify(json, file);
  const base = dirname(file);
  const shards: ShardRef[] = [];
  json.weightsManifest.forEach((g, gi) => {
    g.paths.forEach((p, pi) => shards.push({ group: gi, path: p, absPath: shardPath(base, p, file, `weightsManifest[${gi}].paths[${pi}]`) }));
  });
  return { file, text, json, modelType, shards };
}

function checkModelJson(raw: unknown, file: string): io.ModelJSON {
  const notModel = (why: string): never => {
    throw new TfjsModelFileError(
      `is not a TensorFlow.js model.json: ${why} (expected the model.json written by tensorflowjs_converter or tf.LayersModel.save)`,
      { file },
    );
  };
  if (Array.isArray(raw)) {
    return notModel('it is a JSON list; a bare weights manifest without a model topology cannot be loaded');
  }
  if (raw === null || typeof raw !== 'object') return notModel(`it holds a JSON ${raw === null ? 'null' : typeof raw}, not an object`);
  const d = raw as Record<string, unknown>;
  if (d.modelTopology === undefined || d.modelTopology === null) return notModel('it has no "modelTopology"');
  if (typeof d.modelTopology !== 'object' || Array.isArray(d.modelTopology)) return notModel('"modelTopology" is not an object');
  const manifest = d.weightsManifest ?? [];
  if (!Array.isArray(manifest)) return notModel('"weightsManifest" is not a list');
  manifest.forEach((g: unknown, gi) => {
    const at = `weightsManifest[${gi}]`;
    if (!g || typeof g !== 'object') notModel(`${at} is not an object`);
    const group = g as Record<string, unknown>;
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string' && p !== '')) {
      notModel(`${at}.paths is not a list of file names`);
    }
    if (!Array.isArray(group.weights)) notModel(`${at}.weights is not a list`);
    (group.weights as unknown[]).forEach((w, wi) => {
      const e = w as Record<string, unknown> | null;
      const wat = `${at}.weights[${wi}]`;
      if (!e || typeof e !== 'object' || typeof e.name !== 'string') notModel(`${wat} has no name`);
      const entry = e as Record<string, unknown>;
      if (!Array.isArray(entry.shape) || !entry.shape.every((n) => Number.isInteger(n) && (n as number) >= 0)) {
        notModel(`${wat} (${String(entry.name)}) has no valid shape`);
      }
      if (typeof entry.dtype !== 'string' || !WEIGHT_DTYPES.has(entry.dtype)) {
        notModel(`${wat} (${String(entry.name)}) has unknown dtype ${JSON.stringify(entry.dtype)}`);
      }
      const q = entry.quantization as Record<string, unknown> | undefined;
      if (q !== undefined && (q === null || typeof q !== 'object' || typeof q.dtype !== 'string' || !(q.dtype in BYTES_PER_ELEMENT))) {
        notModel(`${wat} (${String(entry.name)}) has an unknown quantization`);
      }
    });
  });
  return { ...(d as unknown as io.ModelJSON), weightsManifest: manifest as io.WeightsManifestConfig };
}

/** Graph models come from tensorflowjs_converter (a TF GraphDef); layers models are Keras topologies. */
function classify(json: io.ModelJSON, file: string): TfjsModelType {
  if (json.format === 'graph-model') return 'graph';
  if (json.format === 'layers-model') return 'layers';
  const topo = json.modelTopology as Record<string, unknown>;
  if (Array.isArray(topo.node)) return 'graph';
  if (typeof topo.class_name === 'string' || (topo.model_config !== null && typeof topo.model_config === 'object')) return 'layers';
  throw new TfjsModelFileError(
    `cannot tell whether this is a graph or a layers model: "format" is ${JSON.stringify(json.format ?? null)}, and ` +
      '"modelTopology" has neither a "node" list (graph model) nor a Keras "class_name"/"model_config" (layers model)',
    { file },
  );
}

/** Absolute path of a shard, refusing URLs and paths that leave the model.json's directory. */
function shardPath(base: string, p: string, file: string, keyPath: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
    throw new TfjsModelFileError(`weight shard ${JSON.stringify(p)} is a URL; only shards on disk next to model.json are supported`, { file, keyPath });
  }
  const abs = resolve(base, p);
  if (isAbsolute(p) || normalize(p).split(/[\\/]/).includes('..') || !abs.startsWith(base + sep)) {
    throw new TfjsModelFileError(`weight shard ${JSON.stringify(p)} is outside the model.json's directory`, { file, keyPath });
  }
  return abs;
}

/**
 * Read every shard of a model, checking that each exists and that each weight group holds at
 * least the bytes its weight specs need. Returns the shard contents in load order.
 */
export async function readShards(model: ParsedModelJson): Promise<Uint8Array[]> {
  const data: Uint8Array[] = [];
  for (const s of model.shards) {
    try {
      data.push(await readFile(s.absPath));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TfjsModelFileError(
        code === 'ENOENT'
          ? `weight shard ${JSON.stringify(s.path)} listed in weightsManifest[${s.group}].paths is missing (looked for ${s.absPath})`
          : `cannot read weight shard ${JSON.stringify(s.path)} (${(e as Error).message})`,
        { file: model.file, cause: e, errorCode: code === 'ENOENT' ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE' },
      );
    }
  }
  model.json.weightsManifest.forEach((group, gi) => {
    const parts = data.filter((_, i) => model.shards[i]!.group === gi);
    const have = parts.reduce((n, b) => n + b.byteLength, 0);
    const need = groupByteLength(group.weights, parts);
    if (need.bytes > have) {
      const paths = group.paths.map((p) => JSON.stringify(p)).join(', ');
      throw new TfjsModelFileError(
        `weight shards ${paths} hold ${have} bytes, but weightsManifest[${gi}] needs ${need.bytes} bytes for its ${group.weights.length} weights` +
          `${need.firstShort ? ` (the data runs out at weight ${JSON.stringify(need.firstShort)})` : ''}: a shard is truncated or belongs to another model`,
        { file: model.file },
      );
    }
  });
  return data;
}

/**
 * Bytes a weight group needs: element count times the stored element size (the quantized
 * dtype when quantized). Strings are variable-length (a uint32 length before each value), so
 * their size is read from the data itself.
 */
export function groupByteLength(weights: readonly io.WeightsManifestEntry[], parts: readonly Uint8Array[]): { bytes: number; firstShort?: string } {
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  let offset = 0;
  let firstShort: string | undefined;
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype === 'string' && !w.quantization) {
      for (let i = 0; i < size; i++) {
        const len = offset + STRING_LENGTH_BYTES <= total ? readUint32(parts, offset) : undefined;
        // past the end: count one length prefix per remaining value, the least they can take
        offset += len === undefined ? (size - i) * STRING_LENGTH_BYTES : STRING_LENGTH_BYTES + len;
        if (len === undefined) break;
      }
    } else {
      offset += size * BYTES_PER_ELEMENT[w.quantization?.dtype ?? w.dtype]!;
    }
    if (firstShort === undefined && offset > total) firstShort = w.name;
  }
  return firstShort === undefined ? { bytes: offset } : { bytes: offset, firstShort };
}

/** The little-endian uint32 at `pos` of the concatenation of `parts` (which must hold it). */
function readUint32(parts: readonly Uint8Array[], pos: number): number {
  const four = new Uint8Array(STRING_LENGTH_BYTES);
  let skip = pos;
  let filled = 0;
  for (const p of parts) {
    if (skip >= p.byteLength) {
      skip -= p.byteLength;
      continue;
    }
    const take = Math.min(p.byteLength - skip, STRING_LENGTH_BYTES - filled);
    four.set(p.subarray(skip, skip + take), filled);
    filled += take;
    skip = 0;
    if (filled === STRING_LENGTH_BYTES) break;
  }
  return new DataView(four.buffer).getUint32(0, true);
}
