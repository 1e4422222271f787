import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { YamlError } from '../src/errors.js';
import { PyFloat, pyFloatRepr } from '../src/pyjson.js';
import { dumpYaml, loadYaml } from '../src/yaml/index.js';

const FIXTURES = new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url);

/** Join lines into a YAML document ending with a newline. */
function y(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Run `fn` and return the YamlError it throws (failing the test if it does not throw one). */
function yamlError(fn: () => unknown): YamlError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(YamlError);
    return err as YamlError;
  }
  throw new Error('expected a YamlError');
}

describe('MLflow 3.5 fixtures round-trip byte for byte', () => {
  const dirs = readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

  it('finds the fixture models', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(4);
  });

  for (const dir of dirs) {
    for (const [file, sortKeys] of [
      ['MLmodel', true],
      ['conda.yaml', true],
      ['python_env.yaml', false],
    ] as const) {
      it(`${dir}/${file}`, () => {
        const text = readFileSync(new URL(`${dir}/${file}`, FIXTURES), 'utf8');
        expect(dumpYaml(loadYaml(text, { file }), { sortKeys })).toBe(text);
      });
    }
  }

  it('reads MLmodel values the way PyYAML does', () => {
    const model = loadYaml(readFileSync(new URL('iris_sklearn/MLmodel', FIXTURES), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
    expect(model.flavors?.python_function?.python_version).toBe('3.11.2');
    expect(model.utc_time_created).toBe('2026-11-28 01:07:33.534510');
    expect(model.is_signature_from_type_hint).toBe(false);
    expect(model.model_size_bytes).toBe(1488);
    expect(model.model_id).toBeNull();
    expect(JSON.parse(String(model.signature?.inputs))).toHaveLength(4);
  });
});

interface DumpCase {
  name: string;
  input: unknown;
  sortKeys?: boolean;
  expected: string;
}

// Expected outputs generated with PyYAML 6.0.3: yaml.safe_dump(input, default_flow_style=False[, sort_keys=False]).
const CASES: DumpCase[] = [
  {
    name: 'implicit',
    input: {
      bool_yes: 'yes',
      bool_On: 'On',
      bool_True: 'True',
      bool_FALSE: 'FALSE',
      null: 'null',
      Null: 'Null',
      tilde: '~',
      empty: '',
      int: '12',
      signed_int: '+12',
      octal: '012',
      hex: '0x1F',
      bin: '0b101',
      underscore: '1_000',
      sexagesimal: '1:20',
      float: '14.3',
      dot_float: '.5',
      exp_without_dot: '1e3',
      exp_float: '1.0e+3',
      inf: '.inf',
      neg_inf: '-.Inf',
      nan: '.NaN',
      date: '2024-01-01',
      timestamp: '2024-10-29 07:39:02.032550',
      iso_ts: '2024-1-1T10:00:00Z',
      merge: '<<',
      value: '=',
      version: '3.11.2',
      python_octal: '0o12',
      y: 'y',
      plain: 'mlflow.sklearn',
      pip: 'pip<=23.0.1',
      dash_r: '-r requirements.txt',
    },
    expected: y(
      "'Null': 'Null'",
      "bin: '0b101'",
      "bool_FALSE: 'FALSE'",
      "bool_On: 'On'",
      "bool_True: 'True'",
      "bool_yes: 'yes'",
      'dash_r: -r requirements.txt',
      "date: '2024-01-01'",
      "dot_float: '.5'",
      "empty: ''",
      "exp_float: '1.0e+3'",
      'exp_without_dot: 1e3',
      "float: '14.3'",
      "hex: '0x1F'",
      "inf: '.inf'",
      "int: '12'",
      "iso_ts: '2024-1-1T10:00:00Z'",
      "merge: '<<'",
      "nan: '.NaN'",
      "neg_inf: '-.Inf'",
      "'null': 'null'",
      "octal: '012'",
      'pip: pip<=23.0.1',
      'plain: mlflow.sklearn',
      'python_octal: 0o12',
      "sexagesimal: '1:20'",
      "signed_int: '+12'",
      "tilde: '~'",
      "timestamp: '2024-10-29 07:39:02.032550'",
      "underscore: '1_000'",
      "value: '='",
      'version: 3.11.2',
      'y: y',
    ),
  },
  {
    name: 'indicators',
    input: {
      leading_space: ' x',
      trailing_space: 'x ',
      colon_space: 'a: b',
      colon_inside: 'a:b',
      space_hash: 'a #b',
      hash_inside: 'a#b',
      dash_space: '- a',
      dash: '-a',
      question: '? a',
      doc_start: '---',
      doc_end: '...',
      quote: "it's",
      leading_quote: "'q'",
      leading_dquote: '"q"',
      star: '*x',
      amp: '&x',
      bang: '!x',
      percent: '%x',
      at: '@x',
      backtick: '`x',
      bracket: '[a]',
      brace: '{a}',
      pipe: '|',
      gt: '>',
      comma_inside: 'a,b',
      url: 'http://x.y/z?q=1#frag',
    },
    expected: y(
      "amp: '&x'",
      "at: '@x'",
      "backtick: '`x'",
      "bang: '!x'",
      "brace: '{a}'",
      "bracket: '[a]'",
      'colon_inside: a:b',
      "colon_space: 'a: b'",
      'comma_inside: a,b',
      'dash: -a',
      "dash_space: '- a'",
      "doc_end: '...'",
      "doc_start: '---'",
      "gt: '>'",
      'hash_inside: a#b',
      'leading_dquote: \'"q"\'',
      "leading_quote: '''q'''",
      "leading_space: ' x'",
      "percent: '%x'",
      "pipe: '|'",
      "question: '? a'",
      "quote: it's",
      "space_hash: 'a #b'",
      "star: '*x'",
      "trailing_space: 'x '",
      'url: http://x.y/z?q=1#frag',
    ),
  },
  {
    name: 'floats',
    input: [
      new PyFloat(1),
      0.5,
      new PyFloat(-2),
      1e-5,
      0.0001,
      new PyFloat(1e16),
      new PyFloat(1000000000000000),
      new PyFloat(1e20),
      new PyFloat(1.5e300),
      new PyFloat(-0),
      Infinity,
      -Infinity,
      NaN,
      123456789.123,
      5e-324,
      0.30000000000000004,
      new PyFloat(1e22),
      new PyFloat(1.2345678901234568e16),
    ],
    expected: y(
      '- 1.0',
      '- 0.5',
      '- -2.0',
      '- 1.0e-05',
      '- 0.0001',
      '- 1.0e+16',
      '- 1000000000000000.0',
      '- 1.0e+20',
      '- 1.5e+300',
      '- -0.0',
      '- .inf',
      '- -.inf',
      '- .nan',
      '- 123456789.123',
      '- 5.0e-324',
      '- 0.30000000000000004',
      '- 1.0e+22',
      '- 1.2345678901234568e+16',
    ),
  },
  {
    name: 'ints',
    input: [0, -5, 9007199254740993n, 100000000000000000000n, 1000000000000000000000n],
    expected: y('- 0', '- -5', '- 9007199254740993', '- 100000000000000000000', '- 1000000000000000000000'),
  },
  {
    name: 'unicode',
    input: {
      name: 'caf\u00e9',
      emoji: '\ud83d\ude00',
      tab: 'a\tb',
      cr: 'a\rb',
      nel: '\u0085',
      nbsp: '\u00a0',
      bell: '\u0007',
      esc: '\u001b',
      nul: '\u0000',
      bom: '\ufeff',
      cjk: '\u4e2d\u6587',
      ls: '\u2028',
      del: '\u007f',
      backslash_only: 'a\\b',
      'key \u00e9': 1,
    },
    expected: y(
      'backslash_only: a\\b',
      'bell: "\\a"',
      'bom: "\\uFEFF"',
      'cjk: "\\u4E2D\\u6587"',
      'cr: "a\\rb"',
      'del: "\\x7F"',
      'emoji: "\\U0001F600"',
      'esc: "\\e"',
      '"key \\xE9": 1',
      'ls: "\\L"',
      'name: "caf\\xE9"',
      'nbsp: "\\_"',
      'nel: "\\N"',
      'nul: "\\0"',
      'tab: "a\\tb"',
    ),
  },
  {
    name: 'multiline',
    input: {
      two_lines: 'a\nb',
      blank_line: 'a\n\nb',
      trailing_newline: 'a\n',
      leading_newline: '\na',
      space_before_break: 'a \nb',
      space_after_break: 'a\n b',
      quote_multi: "it's\nok",
      'key\nwith break': 'v',
      '': 'empty key',
    },
    expected: y(
      "? ''",
      ': empty key',
      "blank_line: 'a",
      '',
      '',
      "  b'",
      "? 'key",
      '',
      "  with break'",
      ': v',
      "leading_newline: '",
      '',
      "  a'",
      "quote_multi: 'it''s",
      '',
      "  ok'",
      'space_after_break: "a\\n b"',
      'space_before_break: "a \\nb"',
      "trailing_newline: 'a",
      '',
      "  '",
      "two_lines: 'a",
      '',
      "  b'",
    ),
  },
  {
    name: 'folding',
    input: {
      signature: {
        inputs:
          '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "double", "name": "sepal_width", "required": true}, {"type": "double", "name": "petal_length", "required": true}, {"type": "double", "name": "petal_width", "required": true}]',
        params: null,
      },
      plain_long:
        'word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39',
      in_list: [
        'word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39',
        {
          deep: 'word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39',
        },
      ],
      double_long:
        'caf\u00e9 word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39 \u00e9',
      double_spaces: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx   yyyyyyyyyyyyyyyyyyyy zzzzzzzzzz',
      single_double_space: "it's aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  bbbbbbbbbb c",
      no_spaces:
        'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk',
      kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: 'long key',
      kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: 'simple key 122',
      kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: 'complex key 123',
    },
    expected: y(
      'double_long: "caf\\xE9 word0 word1 word2 word3 word4 word5 word6 word7 word8 word9\\',
      '  \\ word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21\\',
      '  \\ word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33\\',
      '  \\ word34 word35 word36 word37 word38 word39 \\xE9"',
      'double_spaces: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx   yyyyyyyyyyyyyyyyyyyy',
      '  zzzzzzzzzz',
      'in_list:',
      '- word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12',
      '  word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24',
      '  word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36',
      '  word37 word38 word39',
      '- deep: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11',
      '    word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23',
      '    word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35',
      '    word36 word37 word38 word39',
      'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: simple',
      '  key 122',
      '? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk',
      ': complex key 123',
      '? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk',
      ': long key',
      'no_spaces: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk',
      'plain_long: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11',
      '  word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23',
      '  word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35',
      '  word36 word37 word38 word39',
      'signature:',
      '  inputs: \'[{"type": "double", "name": "sepal_length", "required": true}, {"type":',
      '    "double", "name": "sepal_width", "required": true}, {"type": "double", "name":',
      '    "petal_length", "required": true}, {"type": "double", "name": "petal_width", "required":',
      "    true}]'",
      '  params: null',
      "single_double_space: it's aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  bbbbbbbbbb",
      '  c',
    ),
  },
  {
    name: 'nested',
    input: { a: [1, [2, 3], { b: [], c: {} }, [[4]]], d: [{ e: 1, f: [5, 6] }], empty_list: [], empty_map: {}, m: { n: { o: null } } },
    expected: y(
      'a:',
      '- 1',
      '- - 2',
      '  - 3',
      '- b: []',
      '  c: {}',
      '- - - 4',
      'd:',
      '- e: 1',
      '  f:',
      '  - 5',
      '  - 6',
      'empty_list: []',
      'empty_map: {}',
      'm:',
      '  n:',
      '    o: null',
    ),
  },
  {
    name: 'top_plain',
    input: 'abc',
    expected: y('abc', '...'),
  },
  {
    name: 'top_quoted',
    input: 'true',
    expected: y("'true'"),
  },
  {
    name: 'top_null',
    input: null,
    expected: y('null', '...'),
  },
  {
    name: 'top_float',
    input: new PyFloat(1),
    expected: y('1.0', '...'),
  },
  {
    name: 'top_list',
    input: [1, 'a', [2]],
    expected: y('- 1', '- a', '- - 2'),
  },
  {
    name: 'top_empty_list',
    input: [],
    expected: y('[]'),
  },
  {
    name: 'top_empty_map',
    input: {},
    expected: y('{}'),
  },
  {
    name: 'top_empty_str',
    input: '',
    expected: y("''"),
  },
  {
    name: 'single_long',
    input: {
      v: "it's: w0'' w1'' w2'' w3'' w4'' w5'' w6'' w7'' w8'' w9'' w10'' w11'' w12'' w13'' w14'' w15'' w16'' w17'' w18'' w19'' w20'' w21'' w22'' w23'' w24'' w25'' w26'' w27'' w28'' w29''  tail  end",
    },
    expected: y(
      "v: 'it''s: w0'''' w1'''' w2'''' w3'''' w4'''' w5'''' w6'''' w7'''' w8'''' w9'''' w10''''",
      "  w11'''' w12'''' w13'''' w14'''' w15'''' w16'''' w17'''' w18'''' w19'''' w20''''",
      "  w21'''' w22'''' w23'''' w24'''' w25'''' w26'''' w27'''' w28'''' w29''''  tail  end'",
    ),
  },
  {
    name: 'double_escape_fold',
    input: {
      v: '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9 abc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\tabc\t x',
    },
    expected: y(
      'v: "\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\',
      '  \\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9\\xE9 abc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\t\\',
      '  abc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\tabc\\t x"',
    ),
  },
  {
    name: 'double_leading_space_fold',
    input: { v: '\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  b' },
    expected: y('v: "\\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\', '  \\  b"'),
  },
  {
    name: 'order_unsorted',
    input: new Map<string, unknown>([
      ['b', 1],
      ['a', 2],
      ['B', 3],
      ['\u00e9', 4],
      ['\ud83d\ude00', 5],
      ['\uffff', 6],
      ['_', 7],
      ['10', 8],
      ['9', 9],
    ]),
    sortKeys: false,
    expected: y('b: 1', 'a: 2', 'B: 3', '"\\xE9": 4', '"\\U0001F600": 5', '"\\uFFFF": 6', '_: 7', "'10': 8", "'9': 9"),
  },
  {
    name: 'order_sorted',
    input: { b: 1, a: 2, B: 3, '\u00e9': 4, '\ud83d\ude00': 5, '\uffff': 6, _: 7, '10': 8, '9': 9 },
    expected: y("'10': 8", "'9': 9", 'B: 3', '_: 7', 'a: 2', 'b: 1', '"\\xE9": 4', '"\\uFFFF": 6', '"\\U0001F600": 5'),
  },
];

describe('dumpYaml matches PyYAML safe_dump(default_flow_style=False)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      expect(dumpYaml(c.input, { sortKeys: c.sortKeys ?? true })).toBe(c.expected);
    });
    if (!(c.input instanceof Map)) {
      it(`${c.name} loads back to the same value`, () => {
        expect(loadYaml(c.expected, { requireMapping: false })).toEqual(c.input);
      });
    }
  }

  it('writes integral JS numbers as ints and bigints as ints', () => {
    expect(dumpYaml({ a: 1e21, b: -0, c: 2n ** 70n, d: 3 })).toBe(y('a: 1000000000000000000000', 'b: 0', 'c: 1180591620717411303424', 'd: 3'));
  });

  it('writes undefined as null', () => {
    expect(dumpYaml({ a: undefined, b: [undefined] })).toBe(y('a: null', 'b:', '- null'));
  });

  it('keeps insertion order with sortKeys: false (python_env.yaml)', () => {
    const env = { python: '3.11.2', build_dependencies: ['pip==23.0.1'], dependencies: ['-r requirements.txt'] };
    expect(dumpYaml(env, { sortKeys: false })).toBe(y('python: 3.11.2', 'build_dependencies:', '- pip==23.0.1', 'dependencies:', '- -r requirements.txt'));
    expect(dumpYaml(env)).toBe(y('build_dependencies:', '- pip==23.0.1', 'dependencies:', '- -r requirements.txt', 'python: 3.11.2'));
  });

  it('formats floats like Python repr', () => {
    const cases: Array<[number, string]> = [
      [1, '1.0'],
      [-0, '-0.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [1.5e-7, '1.5e-07'],
      [123.456, '123.456'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [Infinity, 'inf'],
      [NaN, 'nan'],
    ];
    for (const [value, repr] of cases) expect(pyFloatRepr(value)).toBe(repr);
    expect(String(new PyFloat(2))).toBe('2.0');
    expect(Number(new PyFloat(2))).toBe(2);
    expect(JSON.stringify({ x: new PyFloat(2) })).toBe('{"x":2}');
  });

  it('rejects values YAML cannot represent', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(yamlError(() => dumpYaml(cyclic)).message).toMatch(/cyclic/);
    expect(yamlError(() => dumpYaml({ f: () => 1 })).message).toMatch(/function/);
    expect(yamlError(() => dumpYaml({ d: new Date(0) })).message).toMatch(/Date/);
  });

  it('writes a shared (non-cyclic) object in full each time, without anchors', () => {
    const shared = { a: 1 };
    expect(dumpYaml({ x: shared, y: shared })).toBe(y('x:', '  a: 1', 'y:', '  a: 1'));
  });
});

describe('loadYaml reads values like PyYAML safe_load (YAML 1.1)', () => {
  it('resolves plain scalars with the YAML 1.1 rules', () => {
    const text = y(
      'bools: [yes, No, ON, off, true, FALSE, y, n]',
      'nulls: [~, null, Null, NULL]',
      'ints: [0, -5, +12, 012, 0x1F, 0b101, 1_000, 1:20, -1:00:01, 0o12]',
      'floats: [1.0, .5, -2., 1.0e+3, 1e3, 1_0.5, .inf, -.Inf, 1:30.5]',
      'big: 123456789012345678901234567890',
      'big_hex: 0xFFFFFFFFFFFFFFFFFF',
      'strings: [3.11.2, 2024-01-01, 2024-10-29 07:39:02.032550, "12", \'true\', mlflow.sklearn]',
      'empty:',
    );
    expect(loadYaml(text)).toEqual({
      bools: [true, false, true, false, true, false, 'y', 'n'],
      nulls: [null, null, null, null],
      ints: [0, -5, 12, 10, 31, 5, 1000, 80, -3601, '0o12'],
      floats: [new PyFloat(1), 0.5, new PyFloat(-2), new PyFloat(1000), '1e3', 10.5, Infinity, -Infinity, 90.5],
      big: 123456789012345678901234567890n,
      big_hex: 0xffffffffffffffffffn,
      // Timestamps stay strings: there are no Python datetimes in JS, and the text is kept intact.
      strings: ['3.11.2', '2024-01-01', '2024-10-29 07:39:02.032550', '12', 'true', 'mlflow.sklearn'],
      empty: null,
    });
    expect(Number.isNaN((loadYaml('x: .nan') as { x: number }).x)).toBe(true);
  });

  it('reads quoted, escaped, folded and block scalars', () => {
    const text = y(
      "single: 'it''s",
      "  folded'",
      'double: "caf\\xE9 \\u4E2D \\U0001F600 \\N\\_\\L\\P\\e\\0 \\',
      '  \\ x"',
      'literal: |',
      '  line 1',
      '  line 2',
      'folded: >-',
      '  a',
      '  b',
    );
    expect(loadYaml(text)).toEqual({
      single: "it's folded",
      double: 'caf\u00e9 \u4e2d \u{1f600} \x85\xa0\u2028\u2029\x1b\0  x',
      literal: 'line 1\nline 2\n',
      folded: 'a b',
    });
  });

  it('accepts core-schema tags', () => {
    expect(loadYaml('a: !!str 12\nb: !!float 1\nc: !!int "7"\nd: !!map {x: !!null ""}\ne: !!seq []\n')).toEqual({
      a: '12',
      b: new PyFloat(1),
      c: 7,
      d: { x: null },
      e: [],
    });
  });

  it('treats a raw NEL as a line break, like PyYAML', () => {
    expect(loadYaml('a: 1\x85b: 2\n')).toEqual({ a: 1, b: 2 });
  });

  it('stores a __proto__ key as plain data', () => {
    const value = loadYaml('__proto__:\n  polluted: true\n') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});

describe('loadYaml rejects unsafe or ambiguous input with actionable errors', () => {
  it('rejects duplicate keys, naming the key and both lines', () => {
    const err = yamlError(() => loadYaml('a: 1\nb:\n  c: 2\n  c: 3\n', { file: 'MLmodel' }));
    expect(err.message).toBe('MLmodel at b: line 4, column 3: duplicate key "c" (first defined on line 3)');
    expect(err.file).toBe('MLmodel');
    expect(err.keyPath).toBe('b');
  });

  it('rejects an alias bomb (billion laughs) quickly', () => {
    const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const start = Date.now();
    const err = yamlError(() => loadYaml(y(...lines), { file: 'bomb.yaml' }));
    expect(Date.now() - start).toBeLessThan(1000);
    expect(err.message).toMatch(/^bomb\.yaml at a0: line 1, column 5: anchor &a0 is not supported/);
    expect(err.message).toMatch(/billion laughs/);
  });

  it('rejects aliases', () => {
    expect(yamlError(() => loadYaml('a: 1\nb: *x\n')).message).toMatch(/line 2, column 4: alias \*x is not supported/);
  });

  it('rejects Python object tags and custom tags', () => {
    const err = yamlError(() => loadYaml('model: !!python/object:__main__.Foo {x: 1}\n', { file: 'MLmodel' }));
    expect(err.message).toMatch(/^MLmodel at model: line 1, column 8: tag !!python\/object:__main__\.Foo is not supported/);
    expect(yamlError(() => loadYaml('a: !!python/name:os.system\n')).message).toMatch(/tag !!python\/name:os\.system is not supported/);
    expect(yamlError(() => loadYaml('a: !custom 1\n')).message).toMatch(/tag !custom is not supported/);
    expect(yamlError(() => loadYaml('a: !!binary aGk=\n')).message).toMatch(/tag !!binary is not supported/);
    expect(yamlError(() => loadYaml('a: !!int abc\n')).message).toMatch(/"abc" is not a valid !!int value/);
  });

  it('rejects multiple documents', () => {
    expect(yamlError(() => loadYaml('a: 1\n---\nb: 2\n')).message).toMatch(/line 2, column 1: the file contains more than one YAML document/);
  });

  it('requires a mapping at the top level unless told otherwise', () => {
    expect(yamlError(() => loadYaml('- a\n- b\n', { file: 'conda.yaml' })).message).toBe(
      'conda.yaml: line 1, column 1: the top-level value must be a mapping (key: value pairs), but it is a list',
    );
    expect(yamlError(() => loadYaml('hello\n')).message).toMatch(/but it is a string/);
    expect(loadYaml('- a\n- b\n', { requireMapping: false })).toEqual(['a', 'b']);
    expect(loadYaml('hello\n...\n', { requireMapping: false })).toBe('hello');
  });

  it('says when the file is empty', () => {
    for (const text of ['', '\n\n', '# only a comment\n', '---\n']) {
      expect(yamlError(() => loadYaml(text, { file: 'MLmodel' })).message).toBe('MLmodel: file is empty (it contains no YAML document)');
    }
  });

  it('reports syntax errors with line and column', () => {
    expect(yamlError(() => loadYaml('a: [1, 2\nb: 3\n', { file: 'MLmodel' })).message).toMatch(/^MLmodel: line 2, column 1: invalid YAML syntax: /);
    expect(yamlError(() => loadYaml('a: b: c\n')).message).toMatch(/^line 1, column 4: invalid YAML syntax: /);
    expect(yamlError(() => loadYaml('a:\n  - x\n y: 2\n')).message).toMatch(/^line 3, column 1: invalid YAML syntax: /);
    expect(yamlError(() => loadYaml("a: 'unterminated\n")).message).toMatch(/invalid YAML syntax: .*quote/i);
  });

  it('limits the nesting depth', () => {
    const ok = `a: ${'['.repeat(99)}${']'.repeat(99)}\n`;
    expect(loadYaml(ok)).toBeTruthy();
    const flow = `a: ${'['.repeat(150)}${']'.repeat(150)}\n`;
    expect(yamlError(() => loadYaml(flow)).message).toMatch(/line 1, column \d+: nesting is too deep \(more than 100 levels/);
    const block = y(...Array.from({ length: 120 }, (_, i) => `${' '.repeat(i)}k:`));
    expect(yamlError(() => loadYaml(block)).message).toMatch(/line 101, column 101: nesting is too deep/);
    // Very deep input must fail cleanly (no stack overflow, no hang).
    const start = Date.now();
    expect(yamlError(() => loadYaml(`${'- '.repeat(20000)}x\n`)).message).toMatch(/nesting is too deep/);
    expect(yamlError(() => loadYaml(`${'['.repeat(20000)}${']'.repeat(20000)}\n`)).message).toMatch(/nesting is too deep/);
    expect(Date.now() - start).toBeLessThan(10_000);
    expect(yamlError(() => loadYaml('a: [[1]]\n', { maxDepth: 2 })).message).toMatch(/more than 2 levels/);
  });

  it('limits the input size', () => {
    expect(yamlError(() => loadYaml('a: 12345\n', { maxBytes: 4, file: 'MLmodel' })).message).toBe(
      'MLmodel: file is too large (9 bytes; the limit is 4 bytes)',
    );
    expect(yamlError(() => loadYaml(`a: "${'x'.repeat(11 * 1024 * 1024)}"\n`)).message).toMatch(/file is too large/);
  });

  it('rejects keys that are not strings, merge keys and !!value', () => {
    expect(yamlError(() => loadYaml('a:\n  2024: x\n')).message).toBe(
      "at a: line 2, column 3: mapping key 2024 is read as an int, but only string keys are supported; quote it ('2024') to make it a string",
    );
    expect(yamlError(() => loadYaml('? [a]\n: 1\n')).message).toMatch(/a mapping key must be a string/);
    expect(yamlError(() => loadYaml('a:\n  <<: {y: 2}\n')).message).toMatch(/line 2, column 3: merge keys \(<<\) are not supported/);
    expect(yamlError(() => loadYaml('a: =\n')).message).toMatch(/quote it \('='\)/);
  });

  it('rejects raw line/paragraph separators, which YAML 1.1 treats as line breaks', () => {
    expect(yamlError(() => loadYaml('a: "x\u2028y"\n')).message).toMatch(/line 1, column 6: a raw U\+2028 LINE SEPARATOR character is not supported/);
  });
});
