/** The engine's build stream as events, and the plain and live views of them. */
import { describe, expect, it } from 'vitest';
import { BuildStreamParser, eventsOf, liveProgress, plainProgress, type BuildEvent } from '../src/build-progress.js';

const line = (o: unknown): string => `${JSON.stringify(o)}\r\n`;

describe('BuildStreamParser', () => {
  it('splits messages across and within chunks, and names steps, output, the image and errors', () => {
    const events: BuildEvent[] = [];
    const p = new BuildStreamParser((e) => events.push(e));
    const stream =
      line({ stream: 'Step 1/3 : FROM node:20\n' }) +
      line({ stream: ' ---> 1a2b3c4d5e6f\n' }) +
      line({ stream: 'Step 2/3 : RUN sh harden.sh\n' }) +
      line({ stream: ' ---> Running in 0123456789ab\n' }) +
      line({ stream: 'removed 3 tools\nmlmodel: done\n' }) +
      line({ aux: { ID: 'sha256:abc' } }) +
      line({ errorDetail: { message: "The command '/bin/sh -c x' returned a non-zero code: 3" }, error: 'ignored' });
    for (let i = 0; i < stream.length; i += 7) p.push(Buffer.from(stream.slice(i, i + 7)));
    p.end();
    expect(events).toEqual([
      { kind: 'step', index: 1, total: 3, instruction: 'FROM node:20' },
      { kind: 'step', index: 2, total: 3, instruction: 'RUN sh harden.sh' },
      { kind: 'output', line: 'removed 3 tools' },
      { kind: 'output', line: 'mlmodel: done' },
      { kind: 'image', id: 'sha256:abc' },
      { kind: 'error', message: "The command '/bin/sh -c x' returned a non-zero code: 3" },
    ]);
  });

  it('takes the colour off a step’s stderr lines', () => {
    expect(eventsOf({ stream: '\x1b[91mmlmodel: error: no python3\n\x1b[0m\n' })).toEqual([{ kind: 'output', line: 'mlmodel: error: no python3' }]);
  });

  it('keeps the engine notes worth reading and pull status', () => {
    expect(eventsOf({ stream: ' ---> Using cache\n' })).toEqual([{ kind: 'output', line: 'Using cache' }]);
    expect(eventsOf({ status: 'Downloading', id: 'abc', progress: '[==>  ] 1MB/9MB' })).toEqual([{ kind: 'status', line: 'abc Downloading [==>  ] 1MB/9MB' }]);
  });
});

describe('plainProgress', () => {
  it('prints steps and indented output, and pull milestones but not every progress tick', () => {
    const out: string[] = [];
    const v = plainProgress((l) => out.push(l));
    v.event({ kind: 'step', index: 1, total: 2, instruction: 'FROM x' });
    v.event({ kind: 'status', line: 'abc Downloading [=> ] 1MB' });
    v.event({ kind: 'status', line: 'abc Pull complete' });
    v.event({ kind: 'output', line: 'hello' });
    v.finish();
    expect(out).toEqual(['Step 1/2 : FROM x', '  abc Pull complete', '  hello']);
  });
});

describe('liveProgress', () => {
  it('redraws the running step in place and leaves one ✓ line per finished step', () => {
    let t = 0;
    let screen = '';
    const v = liveProgress({ write: (s: string) => (screen += s), columns: 60 }, { now: () => t, tail: 2, intervalMs: 1e9 });
    v.event({ kind: 'step', index: 1, total: 2, instruction: 'RUN make env' });
    v.event({ kind: 'output', line: 'a' });
    v.event({ kind: 'output', line: 'b' });
    v.event({ kind: 'output', line: 'c' });
    t = 1500;
    v.event({ kind: 'step', index: 2, total: 2, instruction: 'CMD ["serve"]' });
    v.event({ kind: 'output', line: 'Using cache' });
    v.finish();
    // replay the ANSI moves: ESC[nF goes n lines up, ESC[0J clears what is below
    const ESC = String.fromCharCode(27);
    const lines: string[] = [];
    for (const part of screen.split(new RegExp(`(${ESC}\\[\\d+F${ESC}\\[0J)`))) {
      const up = new RegExp(`^${ESC}\\[(\\d+)F${ESC}\\[0J$`).exec(part);
      if (up) lines.splice(lines.length - Number(up[1]));
      else lines.push(...part.split('\n').slice(0, -1));
    }
    expect(lines).toEqual(['✓ [1/2] RUN make env  1.5 s', '✓ [2/2] CMD ["serve"]  cached']);
    // while it ran, the last `tail` output lines were on screen
    expect(screen).toContain('    b\n    c\n');
    expect(screen).not.toContain('    a\n    b\n    c\n');
  });

  it('keeps a failed step’s output on screen', () => {
    let screen = '';
    const v = liveProgress({ write: (s: string) => (screen += s), columns: 80 }, { now: () => 0, intervalMs: 1e9 });
    v.event({ kind: 'step', index: 3, total: 9, instruction: 'RUN check' });
    v.event({ kind: 'output', line: 'mlmodel: error: the image’s Python lacks x' });
    v.event({ kind: 'error', message: 'returned a non-zero code: 3' });
    v.finish();
    expect(screen.endsWith('✗ [3/9] RUN check  0.0 s\n    mlmodel: error: the image’s Python lacks x\n')).toBe(true);
  });
});
