import { describe, expect, it } from 'vitest';
import { PyFloat, pyFloatRepr, pyJsonDumps } from '../src/pyjson.js';

describe("Python's float repr", () => {
  const cases: [number, string][] = [
    [0.1, '0.1'],
    [1, '1.0'],
    [-2.5, '-2.5'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [123456789012345680, '1.2345678901234568e+17'],
    [5.099999904632568, '5.099999904632568'],
    [1.5e-10, '1.5e-10'],
    [-0, '-0.0'],
    [0, '0.0'],
    [2 ** 53, '9007199254740992.0'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '5e-324'],
  ];
  for (const [x, repr] of cases) it(`${x} -> ${repr}`, () => expect(pyFloatRepr(x)).toBe(repr));
});

describe('json.dumps compatibility', () => {
  it('uses Python separators and ensure_ascii', () => {
    expect(pyJsonDumps({ a: [1, 2.5, 'é', null, true], b: { c: 'x"\n' } })).toBe('{"a": [1, 2.5, "\\u00e9", null, true], "b": {"c": "x\\"\\n"}}');
  });
  it('escapes astral characters as surrogate pairs', () => {
    expect(pyJsonDumps('😀')).toBe('"\\ud83d\\ude00"');
  });
  it('writes NaN and Infinity as bare tokens and floats marked PyFloat with .0', () => {
    expect(pyJsonDumps([NaN, Infinity, -Infinity, new PyFloat(3)])).toBe('[NaN, Infinity, -Infinity, 3.0]');
  });
  it('indents like json.dumps(indent=2)', () => {
    expect(pyJsonDumps({ inputs: [[1, 2]], e: [] }, { indent: 2 })).toBe('{\n  "inputs": [\n    [\n      1,\n      2\n    ]\n  ],\n  "e": []\n}');
  });
  it('writes bigints exactly and bytes as base64', () => {
    expect(pyJsonDumps([2n ** 63n - 1n, new Uint8Array([104, 105])])).toBe('[9223372036854775807, "aGk="]');
  });
});
