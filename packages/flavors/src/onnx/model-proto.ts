/**
 * The few top-level fields of an ONNX `ModelProto` worth reporting (IR version, producer,
 * opsets), read straight from the protobuf wire format. The graph (field 7) is skipped by its
 * length prefix, so a large model costs a handful of small reads. This is informational only:
 * onnxruntime stays the judge of whether a file is a valid model.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface OnnxModelInfo {
  readonly irVersion: number | null;
  readonly producerName: string | null;
  readonly producerVersion: string | null;
  readonly domain: string | null;
  readonly modelVersion: number | null;
  /** Operator sets by domain (`''` is the default `ai.onnx` domain). */
  readonly opsets: Readonly<Record<string, number>>;
}

const FIELD = { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, opsetImport: 8 } as const;
/** Length-delimited fields we read; anything else (graph, docs, functions…) is skipped. */
const READ_LEN = new Set<number>([FIELD.producerName, FIELD.producerVersion, FIELD.domain, FIELD.opsetImport]);
const MAX_SMALL_FIELD = 1 << 16;

class Reader {
  readonly #fh: FileHandle;
  readonly size: number;
  pos = 0;
  readonly #buf = Buffer.alloc(10);

  constructor(fh: FileHandle, size: number) {
    this.#fh = fh;
    this.size = size;
  }

  async varint(): Promise<number> {
    const { bytesRead } = await this.#fh.read(this.#buf, 0, 10, this.pos);
    const [v, len] = decodeVarint(this.#buf.subarray(0, bytesRead), 0);
    this.pos += len;
    return v;
  }

  async bytes(n: number): Promise<Buffer> {
    const out = Buffer.alloc(n);
    const { bytesRead } = await this.#fh.read(out, 0, n, this.pos);
    if (bytesRead !== n) throw new RangeError('truncated field');
    this.pos += n;
    return out;
  }
}

/** A varint at `at`: [value, encoded length]. Values above 2^53 lose precision (never the case here). */
function decodeVarint(buf: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [v, i - at + 1];
  }
  throw new RangeError('malformed varint');
}

function parseOpset(buf: Uint8Array): [string, number] {
  let domain = '';
  let version = 0;
  let p = 0;
  while (p < buf.length) {
    const [tag, tl] = decodeVarint(buf, p);
    p += tl;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, l] = decodeVarint(buf, p);
      p += l;
      if (field === 2) version = v;
    } else if (wire === 2) {
      const [n, l] = decodeVarint(buf, p);
      p += l;
      if (field === 1) domain = Buffer.from(buf.subarray(p, p + n)).toString('utf8');
      p += n;
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else throw new RangeError('bad wire type');
  }
  return [domain, version];
}

/** The header fields of an ONNX file, or null when the file does not look like a ModelProto. */
export async function readOnnxModelInfo(path: string): Promise<OnnxModelInfo | null> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const r = new Reader(fh, (await fh.stat()).size);
    const info = {
      irVersion: null as number | null,
      producerName: null as string | null,
      producerVersion: null as string | null,
      domain: null as string | null,
      modelVersion: null as number | null,
      opsets: {} as Record<string, number>,
    };
    while (r.pos < r.size) {
      const tag = await r.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) return null;
      if (wire === 0) {
        const v = await r.varint();
        if (field === FIELD.irVersion) info.irVersion = v;
        else if (field === FIELD.modelVersion) info.modelVersion = v;
      } else if (wire === 2) {
        const n = await r.varint();
        if (r.pos + n > r.size) return null;
        if (READ_LEN.has(field) && n <= MAX_SMALL_FIELD) {
          const b = await r.bytes(n);
          if (field === FIELD.opsetImport) {
            const [d, v] = parseOpset(b);
            info.opsets[d] = v;
          } else {
            const s = b.toString('utf8');
            if (field === FIELD.producerName) info.producerName = s;
            else if (field === FIELD.producerVersion) info.producerVersion = s;
            else info.domain = s;
          }
        } else r.pos += n;
      } else if (wire === 1) r.pos += 8;
      else if (wire === 5) r.pos += 4;
      else return null;
    }
    return info.irVersion === null ? null : info;
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}
