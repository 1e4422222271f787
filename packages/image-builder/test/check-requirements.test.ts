/**
 * The build-time requirement check (assets/python/check_requirements.py) run by the host's
 * Debian Python, which has scikit-learn and pandas: statuses, exit codes per mode, and its own
 * version comparison when neither packaging nor pip can be imported (a bare base image).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../assets/python/check_requirements.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-check-req-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function check(requirements: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const file = join(tmp, 'requirements.txt');
  writeFileSync(file, requirements);
  const r = spawnSync(PYTHON, [SCRIPT, '--requirements', file, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('check_requirements.py', () => {
  it('local: present requirements import; a missing one fails with exit 3 and one error line', () => {
    const ok = check('scikit-learn\npandas>=1\nmlflow==3.5.1\n# a comment\n', ['--mode', 'local', '--skip', 'mlflow']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ {2}ok +scikit-learn +\d/m);
    expect(ok.stdout).toMatch(/^ {2}skipped +mlflow==3\.5\.1 +not needed/m);
    expect(ok.stdout).toMatch(/every requirement imports/);
    const missing = check('scikit-learn\nno-such-dist-xyz==1.0\n', ['--mode', 'local']);
    expect(missing.status).toBe(3);
    expect(missing.stderr.trim().split('\n')).toEqual([
      "mlmodel: error: the image's Python lacks no-such-dist-xyz==1.0 (missing): use a --base-image whose Python has them, or --env-manager virtualenv to install them at build time",
    ]);
  });

  it('virtualenv: writes what to install (missing, differing versions), exits 0', () => {
    const out = join(tmp, 'unsatisfied.txt');
    const r = check('scikit-learn\nnumpy==0.1.0\nno-such-dist-xyz\n', ['--mode', 'virtualenv', '--unsatisfied', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}differs +numpy==0\.1\.0 +installed \d/m);
    expect(readFileSync(out, 'utf8')).toBe('numpy==0.1.0\nno-such-dist-xyz\n');
  });

  it('a differing version is a warning in local mode; a saved Python version that differs is noted', () => {
    const r = check('numpy==0.1.0\n', ['--mode', 'local', '--python-version', '2.7.18']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/warning: numpy==0\.1\.0: installed .* \(using it as it is\)/);
    expect(r.stdout).toMatch(/warning: the model was saved with Python 2\.7\.18; this image has 3\./);
  });

  it('compares versions by itself when packaging and pip are not importable', () => {
    const code = `import sys
sys.modules['packaging'] = None
sys.modules['pip'] = None
sys.path.insert(0, sys.argv[1])
import check_requirements as c
assert c.SPECIFIERS is None
cases = [('1.2.1', '==1.2.1', True), ('1.2.1', '==1.2', False), ('1.2.0', '==1.2', True), ('1.24.2', '>=1.21,<2', True),
         ('2.0', '>=1.21,<2', False), ('1.4.2', '~=1.4', True), ('2.0', '~=1.4', False), ('1.2.3', '==1.2.*', True),
         ('1.3.0', '==1.2.*', False), ('4.0.2+dfsg', '==4.0.2', True), ('1.0', '!=1.0', False), ('1.0', '', True)]
bad = [(v, s) for v, s, want in cases if c.satisfies(v, s) != want]
print(bad)`;
    const r = spawnSync(PYTHON, ['-c', code, join(SCRIPT, '..')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('[]');
  });
});
