/**
 * The default log destination: whole lines, writes of at most 4 KiB, written within flushMs, and
 * everything written at exit.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BufferedLines } from '../src/logging/buffered-lines.js';

function recorder(): { writes: string[]; write: (b: Uint8Array) => number } {
  const writes: string[] = [];
  return { writes, write: (b) => (writes.push(Buffer.from(b).toString('utf8')), b.length) };
}

describe('BufferedLines', () => {
  it('collects lines into writes of whole lines of at most maxBytes', () => {
    const r = recorder();
    const out = new BufferedLines(1, { maxBytes: 100, flushMs: 60_000, write: r.write });
    const line = (i: number): string => `{"n":${i},"msg":"request completed","é":"ü"}\n`;
    for (let i = 0; i < 50; i++) out.write(line(i));
    out.flush();
    expect(r.writes.join('')).toBe(Array.from({ length: 50 }, (_, i) => line(i)).join(''));
    for (const w of r.writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(100);
      expect(w.endsWith('\n')).toBe(true);
    }
    expect(r.writes.length).toBeLessThan(50);
    // a line longer than maxBytes goes out alone, at once
    const long = `${'x'.repeat(300)}\n`;
    out.write(long);
    expect(r.writes.at(-1)).toBe(long);
    expect(out.pending).toBe(0);
  });

  it('writes a waiting line within flushMs', async () => {
    const r = recorder();
    const out = new BufferedLines(1, { flushMs: 5, write: r.write });
    out.write('one\n');
    expect(r.writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.writes).toEqual(['one\n']);
  });

  it('finishes partial writes, waits out EAGAIN, and stops writing after EPIPE', () => {
    const writes: string[] = [];
    let calls = 0;
    const out = new BufferedLines(1, {
      flushMs: 60_000,
      write: (b) => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('again'), { code: 'EAGAIN' });
        const n = Math.min(3, b.length);
        writes.push(Buffer.from(b.subarray(0, n)).toString());
        return n;
      },
    });
    out.write('abcdefgh\n');
    out.flush();
    expect(writes.join('')).toBe('abcdefgh\n');

    let piped = 0;
    const broken = new BufferedLines(1, {
      flushMs: 60_000,
      write: () => {
        piped++;
        throw Object.assign(new Error('gone'), { code: 'EPIPE' });
      },
    });
    broken.write('a\n');
    broken.flush();
    broken.write('b\n');
    broken.flush();
    expect(piped).toBe(1);
  });

  it('writes what is waiting when the process exits', () => {
    const module = fileURLToPath(new URL('../dist/logging/buffered-lines.js', import.meta.url));
    const code = `import { bufferedStdout } from ${JSON.stringify(module)}; const o = bufferedStdout(); o.write('a\\n'); o.write('b\\n');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(r.stdout).toBe('a\nb\n');
  });
});
