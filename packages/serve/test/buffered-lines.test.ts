/**
 * The default log destination: whole lines, writes of at most 4 KiB, written within flushMs, and
 * everything written at exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('writes up to 64 KiB at once to a regular file, PIPE_BUF to a pipe; processes sharing a file never mix their lines', async () => {
    const module = fileURLToPath(new URL('../dist/logging/buffered-lines.js', import.meta.url));
    const limit = `import { writeLimitFor } from ${JSON.stringify(module)}; process.stderr.write(String(writeLimitFor(1)));`;
    expect(spawnSync(process.execPath, ['--input-type=module', '-e', limit], { encoding: 'utf8' }).stderr).toBe('4096');
    const dir = mkdtempSync(join(tmpdir(), 'mlmodel-lines-'));
    try {
      const file = join(dir, 'out.log');
      const fd = openSync(file, 'w');
      try {
        expect(spawnSync(process.execPath, ['--input-type=module', '-e', limit], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' }).stderr).toBe('65536');
        // two processes, one open file (as a shell's `>` gives them), 20,000 lines of ~150 bytes each
        const writer = (tag: string) =>
          `import { bufferedStdout } from ${JSON.stringify(module)}; const o = bufferedStdout(); ` +
          `for (let i = 0; i < 20000; i++) o.write('${tag}' + String(i).padStart(6, '0') + ' ' + '${tag}'.repeat(140) + '\\n');`;
        const run = (tag: string) =>
          new Promise<number | null>((resolve) =>
            spawn(process.execPath, ['--input-type=module', '-e', writer(tag)], { stdio: ['ignore', fd, 'inherit'] }).on('exit', resolve),
          );
        expect(await Promise.all([run('a'), run('b')])).toEqual([0, 0]);
      } finally {
        closeSync(fd);
      }
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      for (const tag of ['a', 'b']) {
        const mine = lines.filter((l) => l.startsWith(tag));
        expect(mine).toHaveLength(20000);
        mine.forEach((l, i) => expect(l).toBe(tag + String(i).padStart(6, '0') + ' ' + tag.repeat(140)));
      }
      expect(lines).toHaveLength(40000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes what is waiting when the process exits', () => {
    const module = fileURLToPath(new URL('../dist/logging/buffered-lines.js', import.meta.url));
    const code = `import { bufferedStdout } from ${JSON.stringify(module)}; const o = bufferedStdout(); o.write('a\\n'); o.write('b\\n');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(r.stdout).toBe('a\nb\n');
  });
});
