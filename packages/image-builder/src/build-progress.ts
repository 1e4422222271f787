/**
 * The engine's build stream (one JSON object per line: `stream`, `status`, `aux`, `error`) as
 * events, and two views of them: plain lines (logs, CI, pipes) and a live view for terminals
 * that keeps the finished steps and redraws the running one with its last output lines.
 */

export type BuildEvent =
  /** `Step 3/14 : RUN ...` */
  | { readonly kind: 'step'; readonly index: number; readonly total: number; readonly instruction: string }
  /** A line the running step printed (or the engine's own note, e.g. ` ---> Using cache`). */
  | { readonly kind: 'output'; readonly line: string }
  /** Pulling the base image. */
  | { readonly kind: 'status'; readonly line: string }
  /** The built image's id (`aux.ID`). */
  | { readonly kind: 'image'; readonly id: string }
  /** The daemon's error for the failing step. */
  | { readonly kind: 'error'; readonly message: string };

interface RawMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string };
}

const STEP = /^Step (\d+)\/(\d+) : (.*)$/;
/** The engine colours a step's stderr lines (ESC[91m ... ESC[0m). */
// eslint-disable-next-line no-control-regex
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** Events from one parsed message of the build stream. */
export function eventsOf(msg: RawMessage): BuildEvent[] {
  const out: BuildEvent[] = [];
  if (msg.error !== undefined || msg.errorDetail?.message !== undefined) {
    out.push({ kind: 'error', message: (msg.errorDetail?.message ?? msg.error ?? 'unknown error').trim() });
    return out;
  }
  if (msg.aux?.ID) out.push({ kind: 'image', id: msg.aux.ID });
  if (msg.status !== undefined) out.push({ kind: 'status', line: [msg.id, msg.status, msg.progress].filter(Boolean).join(' ') });
  if (msg.stream !== undefined) {
    for (const raw of msg.stream.split('\n')) {
      const line = raw.replace(/\r/g, '').replace(ANSI_COLOUR, '').trimEnd();
      if (line === '') continue;
      const m = STEP.exec(line);
      if (m) {
        out.push({ kind: 'step', index: Number(m[1]), total: Number(m[2]), instruction: m[3]! });
        continue;
      }
      // the classic builder's bookkeeping (` ---> 1a2b3c`, ` ---> Running in 1a2b3c`) is not worth showing
      const text = line.replace(/^ ---> /, '');
      if (/^([0-9a-f]{12,}|(Running in|Removing intermediate container) [0-9a-f]{12,}|Successfully (built|tagged) .*)$/.test(text)) continue;
      out.push({ kind: 'output', line: text });
    }
  }
  return out;
}

/** Splits the byte stream into JSON messages (a message may span chunks; a chunk may hold several). */
export class BuildStreamParser {
  private rest = '';
  constructor(private readonly onEvent: (e: BuildEvent) => void) {}

  push(chunk: Buffer | string): void {
    this.rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = this.rest.indexOf('\n')) >= 0) {
      this.line(this.rest.slice(0, nl));
      this.rest = this.rest.slice(nl + 1);
    }
  }

  end(): void {
    if (this.rest.trim() !== '') this.line(this.rest);
    this.rest = '';
  }

  private line(text: string): void {
    const t = text.trim();
    if (t === '') return;
    let msg: RawMessage;
    try {
      msg = JSON.parse(t) as RawMessage;
    } catch {
      msg = { stream: `${t}\n` };
    }
    for (const e of eventsOf(msg)) this.onEvent(e);
  }
}

export interface ProgressView {
  event(e: BuildEvent): void;
  /** Leave the terminal clean (the live view's last frame is replaced by the finished steps). */
  finish(): void;
}

/** Plain lines: each step as `Step 3/14 : ...`, its output indented. */
export function plainProgress(write: (line: string) => void): ProgressView {
  return {
    event(e) {
      if (e.kind === 'step') write(`Step ${e.index}/${e.total} : ${e.instruction}`);
      else if (e.kind === 'output') write(`  ${e.line}`);
      // a pull repeats each layer's progress many times a second: only its milestones become lines
      else if (e.kind === 'status' && !/^(\S+ )?(Downloading|Extracting|Waiting|Verifying Checksum)\b/.test(e.line)) write(`  ${e.line}`);
    },
    finish() {},
  };
}

/** What a terminal view writes to: a TTY stream, or a test's recorder. */
export interface Terminal {
  write(s: string): unknown;
  readonly columns?: number;
}

/**
 * A live view: finished steps stay as one line each with their time; the running step shows a
 * spinner, its elapsed time and its last `tail` output lines, redrawn in place (ANSI cursor moves).
 */
export function liveProgress(term: Terminal, opts: { tail?: number; now?: () => number; intervalMs?: number } = {}): ProgressView {
  const tail = opts.tail ?? 6;
  const now = opts.now ?? (() => Date.now());
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  let drawn = 0; // lines of the live area on screen
  let current: { title: string; started: number; lines: string[]; cached: boolean } | null = null;
  // a pseudo-terminal without a size says 0 columns
  const width = (): number => Math.max(20, (term.columns !== undefined && term.columns > 0 ? term.columns : 100) - 1);
  const clip = (s: string): string => (s.length > width() ? `${s.slice(0, width() - 1)}…` : s);
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

  const clear = (): void => {
    if (drawn > 0) term.write(`\x1b[${drawn}F\x1b[0J`);
    drawn = 0;
  };
  const draw = (): void => {
    clear();
    if (!current) return;
    const lines = [
      clip(`${frames[frame % frames.length]} ${current.title}  ${seconds(now() - current.started)}`),
      ...current.lines.map((l) => clip(`    ${l}`)),
    ];
    term.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const close = (failed: boolean): void => {
    if (!current) return;
    clear();
    const mark = failed ? '✗' : '✓';
    term.write(`${clip(`${mark} ${current.title}  ${current.cached ? 'cached' : seconds(now() - current.started)}`)}\n`);
    if (failed) for (const l of current.lines) term.write(`${clip(`    ${l}`)}\n`);
    current = null;
  };
  const timer = setInterval(() => {
    frame++;
    if (current) draw();
  }, opts.intervalMs ?? 120);
  timer.unref();

  return {
    event(e) {
      if (e.kind === 'step') {
        close(false);
        current = { title: `[${e.index}/${e.total}] ${e.instruction}`, started: now(), lines: [], cached: false };
      } else if (e.kind === 'output' || e.kind === 'status') {
        if (!current) current = { title: 'preparing', started: now(), lines: [], cached: false };
        if (e.kind === 'output' && e.line === 'Using cache') current.cached = true;
        current.lines.push(e.line);
        if (current.lines.length > tail) current.lines.splice(0, current.lines.length - tail);
      } else if (e.kind === 'error') {
        close(true);
        return;
      }
      draw();
    },
    finish() {
      clearInterval(timer);
      close(false);
    },
  };
}
