import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SignatureError,
  loadYaml,
  parseParams,
  parseSchema,
  parseSignature,
  serializeParams,
  serializeSchema,
  signatureToDict,
  typeToString,
} from '../src/index.js';
import { FIXTURE_MODELS, fixturePath } from './fixtures.js';

describe('signatures saved by MLflow 3.5', () => {
  it('finds the fixture models', () => {
    expect(FIXTURE_MODELS).toEqual(expect.arrayContaining(['churn_pipeline', 'diabetes_tensor', 'iris_onnx', 'iris_sklearn']));
  });

  for (const name of FIXTURE_MODELS) {
    it(`${name}: every signature string re-serializes to the same bytes`, () => {
      const d = loadYaml(readFileSync(fixturePath(name, 'MLmodel'), 'utf8')) as { signature: Record<string, string | null> };
      const sig = parseSignature(d.signature);
      expect(signatureToDict(sig)).toEqual(d.signature);
    });
  }

  it('reads column and tensor specs with their types', () => {
    const churn = parseSchema(
      '[{"type": "string", "name": "plan", "required": true}, {"type": "long", "name": "tenure_months", "required": true}, {"type": "double", "name": "monthly_charges", "required": true}]',
    );
    expect(churn.kind).toBe('columns');
    expect(churn.specs.map((s) => [s.name, s.kind === 'column' ? s.type : null])).toEqual([
      ['plan', 'string'],
      ['tenure_months', 'long'],
      ['monthly_charges', 'double'],
    ]);
    const iris = parseSchema(
      '[{"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}, {"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
    );
    expect(iris).toEqual({
      kind: 'tensors',
      specs: [
        { kind: 'tensor', name: 'probabilities', dtype: 'float32', shape: [-1, 3] },
        { kind: 'tensor', name: 'label', dtype: 'int64', shape: [-1] },
      ],
    });
  });
});

describe('ColSpec types round-trip exactly', () => {
  const cases = [
    '[{"type": "boolean", "name": "a", "required": true}, {"type": "integer", "name": "b", "required": false}]',
    '[{"type": "float", "name": "f", "required": true}, {"type": "binary", "name": "b", "required": true}, {"type": "datetime", "name": "d", "required": false}]',
    '[{"type": "array", "items": {"type": "string"}, "name": "q", "required": true}]',
    '[{"type": "array", "items": {"type": "array", "items": {"type": "double"}}, "name": "m", "required": true}]',
    '[{"type": "object", "properties": {"a": {"type": "string", "required": true}, "b": {"type": "map", "values": {"type": "long"}, "required": false}}, "name": "o", "required": true}]',
    '[{"type": "map", "values": {"type": "array", "items": {"type": "any"}}, "name": "mp", "required": true}]',
    '[{"type": "any", "name": "x", "required": false}]',
    '[{"type": "long", "required": true}, {"type": "string", "required": true}]',
    '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 10]}}]',
    '[{"name": "a", "type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}}, {"name": "b", "type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 28, 28, 3]}}]',
    '[{"type": "string", "name": "caf\\u00e9", "required": true}]',
  ];
  for (const text of cases) {
    it(text.slice(0, 70), () => {
      expect(serializeSchema(parseSchema(text))).toBe(text);
    });
  }

  it('sorts object properties by name, as MLflow does', () => {
    const s = parseSchema('[{"type": "object", "properties": {"z": {"type": "long"}, "a": {"type": "string"}}, "name": "o", "required": true}]');
    expect(serializeSchema(s)).toBe(
      '[{"type": "object", "properties": {"a": {"type": "string", "required": true}, "z": {"type": "long", "required": true}}, "name": "o", "required": true}]',
    );
  });

  it('defaults required to true for primitives and null for complex types (MLflow quirk)', () => {
    const s = parseSchema('[{"type": "double", "name": "x"}, {"type": "array", "items": {"type": "long"}, "name": "y"}]');
    expect(s.specs.map((c) => (c.kind === 'column' ? c.required : undefined))).toEqual([true, null]);
    expect(serializeSchema(s)).toBe(
      '[{"type": "double", "name": "x", "required": true}, {"type": "array", "items": {"type": "long"}, "name": "y", "required": null}]',
    );
  });

  it('names complex types readably', () => {
    const s = parseSchema('[{"type": "map", "values": {"type": "array", "items": {"type": "string"}}, "name": "m", "required": true}]');
    expect(s.kind === 'columns' && typeToString(s.specs[0]!.type)).toBe('Map(str -> Array(string))');
  });
});

describe('ParamSpec', () => {
  it('round-trips MLflow param JSON, keeping floats as floats', () => {
    const text =
      '[{"name": "temperature", "default": 0.5, "shape": null, "type": "double"}, {"name": "top_k", "default": 1, "shape": null, "type": "long"}, {"name": "scale", "default": 1.0, "shape": null, "type": "float"}, {"name": "stops", "default": ["a", "b"], "shape": [-1], "type": "string"}, {"name": "when", "default": "2023-06-26T00:00:00", "shape": null, "type": "datetime"}, {"name": "flag", "default": null, "shape": null, "type": "boolean"}, {"name": "weights", "default": [1.0, 2.5], "shape": [-1], "type": "double"}]';
    expect(serializeParams(parseParams(text))).toBe(text);
  });

  it('round-trips object params', () => {
    const text =
      '[{"name": "cfg", "default": {"a": 1, "b": "x"}, "shape": null, "type": "object", "properties": {"a": {"type": "long", "required": true}, "b": {"type": "string", "required": true}}}]';
    expect(serializeParams(parseParams(text))).toBe(text);
  });

  it('accepts the legacy dtype key', () => {
    const [p] = parseParams('[{"name": "n", "default": 3, "shape": null, "dtype": "long"}]');
    expect(p).toEqual({ name: 'n', type: 'long', default: 3, shape: null });
  });
});

describe('invalid signatures give clear errors', () => {
  const bad: [string, string, RegExp][] = [
    ['not JSON', '[{"type": ', /schema: not valid JSON/],
    ['not a list', '{"type": "double"}', /expected a JSON list/],
    ['empty', '[]', /at least one input/],
    ['unknown type', '[{"type": "decimal", "name": "x"}]', /unknown type "decimal"/],
    [
      'mixed tensor and columns',
      '[{"type": "double", "name": "x"}, {"name": "t", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]',
      /cannot mix/,
    ],
    ['partly named', '[{"type": "double", "name": "x"}, {"type": "double"}]', /all inputs are named or none/],
    [
      'two unnamed tensors',
      '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}, {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]',
      /requires names/,
    ],
    ['unnamed optional', '[{"type": "double", "required": false}]', /cannot be optional/],
    ['bad dtype', '[{"type": "tensor", "tensor-spec": {"dtype": "<U10", "shape": [-1]}}]', /unsupported tensor dtype "<U10"/],
    ['bad shape', '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-2]}}]', /tensor shape/],
    ['duplicate names', '[{"type": "double", "name": "x"}, {"type": "long", "name": "x"}]', /duplicate input name "x"/],
    ['empty object', '[{"type": "object", "properties": {}, "name": "o"}]', /at least one property/],
    ['array without items', '[{"type": "array", "name": "a"}]', /needs 'items'/],
    ['required not bool', '[{"type": "double", "name": "x", "required": "yes"}]', /'required' must be true or false/],
  ];
  for (const [what, text, re] of bad) {
    it(what, () => {
      expect(() => parseSchema(text)).toThrow(SignatureError);
      expect(() => parseSchema(text)).toThrow(re);
    });
  }

  it('rejects bad params', () => {
    expect(() => parseParams('[{"name": "b", "default": "x", "shape": null, "type": "binary"}]')).toThrow(/binary is not supported/);
    expect(() => parseParams('[{"name": "a", "default": 1, "shape": [2], "type": "long"}]')).toThrow(/shape must be null or \[-1\]/);
    expect(() =>
      parseParams('[{"name": "a", "default": 1, "shape": null, "type": "long"}, {"name": "a", "default": 2, "shape": null, "type": "long"}]'),
    ).toThrow(/duplicate param name "a"/);
  });
});
