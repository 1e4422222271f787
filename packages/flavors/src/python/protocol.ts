/**
 * Framing of the python_function worker protocol (see python/PROTOCOL.md): every message is
 * `u32 length | u8 type | u32 request id | payload`, little-endian, where `length` counts the
 * bytes after the length field (5 + payload).
 */

export const MessageType = {
  LOAD: 1,
  LOAD_OK: 2,
  LOAD_ERR: 3,
  PREDICT: 4,
  RESULT: 5,
  ERROR: 6,
  PING: 7,
  PONG: 8,
  SHUTDOWN: 9,
} as const;

/**
 * Set on a frame's type when its payload is in the sender's shared file instead of on the stream;
 * the frame then carries only `u32 payload length` (see PROTOCOL.md, "Shared files").
 */
export const SHARED_FLAG = 0x80;

export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Bytes before the payload: length (4), type (1), request id (4). */
export const FRAME_HEADER_BYTES = 9;

/** Largest frame accepted from a worker (2 GiB - 1, the u32 length's useful range for Buffers). */
export const MAX_FRAME_BYTES = 0x7fff_ffff;

export interface Frame {
  readonly type: number;
  readonly id: number;
  /** The payload, copied into its own ArrayBuffer starting at offset 0 (so aligned views work). */
  readonly payload: Uint8Array;
}

/** The header bytes of a frame whose payload is `payloadBytes` long; send the payload parts after it. */
export function frameHeader(type: MessageType, id: number, payloadBytes: number): Uint8Array {
  const head = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(head.buffer);
  view.setUint32(0, payloadBytes + 5, true);
  view.setUint8(4, type);
  view.setUint32(5, id >>> 0, true);
  return head;
}

/** A frame as one list of byte chunks: header first, then the payload parts. */
export function encodeFrame(type: MessageType, id: number, parts: readonly Uint8Array[] = []): Uint8Array[] {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  return [frameHeader(type, id, total), ...parts];
}

/** A JSON payload (UTF-8). */
export function jsonPayload(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function parseJsonPayload(payload: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(payload)) as unknown;
}

/** A malformed frame from the worker (the stream cannot be trusted afterwards). */
export class FrameError extends Error {}

/**
 * Reassembles frames from stdout chunks. Keeps partial frames between `push` calls and copies each
 * payload once into its own buffer.
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;

  /** Append a chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffered < FRAME_HEADER_BYTES) break;
      const head = this.#peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32LE(0);
      if (length < 5 || length > MAX_FRAME_BYTES) throw new FrameError(`invalid frame length ${length} from the Python worker`);
      const total = 4 + length;
      if (this.#buffered < total) break;
      const whole = this.#take(total);
      const payload = new Uint8Array(total - FRAME_HEADER_BYTES);
      payload.set(whole.subarray(FRAME_HEADER_BYTES));
      frames.push({ type: whole.readUInt8(4), id: whole.readUInt32LE(5), payload });
    }
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.#buffered;
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.byteLength >= n) return first;
    const merged = Buffer.concat(this.#chunks);
    this.#chunks = [merged];
    return merged;
  }

  #take(n: number): Buffer {
    const merged = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = merged.subarray(0, n);
    const rest = merged.subarray(n);
    this.#chunks = rest.byteLength > 0 ? [rest] : [];
    this.#buffered = rest.byteLength;
    return out;
  }
}
