/**
 * model.tar.gz: deterministic, entries at the archive root, readable by GNU tar (an independent
 * implementation), long names through pax headers, and an extraction that refuses to escape.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelArchive, extractModelArchive } from '../src/index.js';
import { MODEL } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-archive-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('createModelArchive', () => {
  it('is deterministic and has the model files at its root, as GNU tar lists them', async () => {
    const a = await createModelArchive(MODEL);
    const b = await createModelArchive(MODEL);
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.files).toBe(readdirSync(MODEL).length);
    const file = join(tmp, 'model.tar.gz');
    writeFileSync(file, a.bytes);
    const listed = execFileSync('tar', ['-tzvf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed.map((l) => l.split(/\s+/).pop())).toEqual(readdirSync(MODEL).sort());
    expect(listed.every((l) => /^-rw-r--r-- (root|0)\/(root|0) /.test(l) && l.includes('1970-01-01'))).toBe(true);
    // GNU tar extracts it to the same bytes
    const out = join(tmp, 'gnu');
    mkdirSync(out);
    execFileSync('tar', ['-xzf', file, '-C', out]);
    for (const f of readdirSync(MODEL)) expect(readFileSync(join(out, f)).equals(readFileSync(join(MODEL, f)))).toBe(true);
  });

  it('keeps directories and names longer than 100 bytes (pax), and extracts what GNU tar made', async () => {
    const dir = join(tmp, 'deep');
    const long = join('artifacts', 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(join(dir, long), { recursive: true });
    writeFileSync(join(dir, 'MLmodel'), 'flavors: {}\n');
    writeFileSync(join(dir, long, 'weights.bin'), Buffer.from([1, 2, 3]));
    const a = await createModelArchive(dir);
    writeFileSync(join(tmp, 'deep.tar.gz'), a.bytes);
    expect(execFileSync('tar', ['-tzf', join(tmp, 'deep.tar.gz')], { encoding: 'utf8' })).toContain(`${long}/weights.bin`);
    const out = join(tmp, 'deep-out');
    const files = await extractModelArchive(a.bytes, out);
    expect(files).toEqual(['MLmodel', `${long}/weights.bin`]);
    expect([...readFileSync(join(out, long, 'weights.bin'))]).toEqual([1, 2, 3]);
    // an archive GNU tar wrote (./ prefixes, its own long-name records)
    execFileSync('tar', ['-czf', join(tmp, 'gnu.tar.gz'), '-C', dir, '.']);
    const out2 = join(tmp, 'gnu-out');
    expect((await extractModelArchive(readFileSync(join(tmp, 'gnu.tar.gz')), out2)).sort()).toEqual(['MLmodel', `${long}/weights.bin`]);
  });

  it('refuses a directory without MLmodel, and archives whose entries escape or are links', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await expect(createModelArchive(empty)).rejects.toThrow(/has no MLmodel file at its root/);
    const evil = join(tmp, 'evil-src');
    mkdirSync(evil);
    writeFileSync(join(evil, 'x'), 'x');
    execFileSync('tar', ['-czf', join(tmp, 'evil.tar.gz'), '-C', evil, '--transform', 's,^,../,', 'x']);
    await expect(extractModelArchive(readFileSync(join(tmp, 'evil.tar.gz')), join(tmp, 'evil-out'))).rejects.toThrow(/entry outside its root: "\.\.\/x"/);
    execFileSync('ln', ['-s', '/etc/passwd', join(evil, 'link')]);
    execFileSync('tar', ['-czf', join(tmp, 'link.tar.gz'), '-C', evil, 'link']);
    await expect(extractModelArchive(readFileSync(join(tmp, 'link.tar.gz')), join(tmp, 'link-out'))).rejects.toThrow(
      /of a kind SageMaker models should not hold \(type "2"\): link/,
    );
    await expect(extractModelArchive(gzipSync(Buffer.alloc(0)).subarray(0, 5), join(tmp, 'bad'))).rejects.toThrow(/not gzip data/);
  });
});
