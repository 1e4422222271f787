/**
 * MLflow's `{"predictions": ...}` JSON of a large prediction, in pieces: the prediction is cut into
 * row ranges, each encoded by format's `encodePredictions` (the one encoder), and the pieces are
 * joined with the separators Python's json module writes, so that their concatenation is exactly
 * `encodePredictions(prediction)`. No string of the whole answer is ever built.
 *
 * - one unnamed tensor → its rows, in ranges: `[` row, row, … `]`;
 * - named tensors → `{"name": [rows…], …}`, each tensor in ranges;
 * - a column batch → its records, in ranges;
 * - JSON values, 0-d tensors and empty ones → in one piece.
 */
import { encodeJsonValue, encodePredictions, slicePrediction, type Prediction, type Tensor } from '@mlmodel/format';

/** About this many elements go into one piece (~300 KB of JSON for floats). */
export const CHUNK_ELEMENTS = 1 << 14;

/** The rows of `p` (a single-tensor or column prediction with `rows` rows) from `start` to `end`, as the inside of a JSON list. */
function rowsText(p: Prediction, rows: number, start: number, end: number): string {
  const slice = slicePrediction(p, rows, start, end);
  if (slice === null) throw new Error('internal: a prediction slice failed');
  const list = encodePredictions(slice, { unwrapped: true });
  return list.slice(1, -1);
}

/** A row-sliceable prediction as a JSON list, in pieces of about CHUNK_ELEMENTS elements. */
function* listPieces(p: Prediction, rows: number, rowWidth: number): Generator<string> {
  if (rows === 0) {
    yield '[]';
    return;
  }
  const step = Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(1, rowWidth)));
  for (let start = 0; start < rows; start += step) {
    const end = Math.min(rows, start + step);
    yield `${start === 0 ? '[' : ', '}${rowsText(p, rows, start, end)}${end === rows ? ']' : ''}`;
  }
}

function tensorPieces(t: Tensor): Generator<string> {
  const rows = t.shape[0]!;
  const width = rows === 0 ? 0 : t.values.length / rows;
  return listPieces({ kind: 'tensors', tensors: [{ ...t, name: null } as Tensor] }, rows, width);
}

/** The body `encodePredictions(p, { unwrapped })` gives, in pieces. */
export function* predictionPieces(p: Prediction, unwrapped: boolean): Generator<string> {
  const open = unwrapped ? '' : '{"predictions": ';
  const close = unwrapped ? '' : '}';
  if (p.kind === 'columns' && p.numRows > 0 && p.columns.length > 0) {
    yield open;
    yield* listPieces(p, p.numRows, p.columns.length);
    yield close;
    return;
  }
  if (p.kind === 'tensors' && p.tensors.length > 0 && p.tensors.every((t) => t.shape.length > 0)) {
    const ts = p.tensors;
    yield open;
    if (ts.length === 1 && ts[0]!.name === null) yield* tensorPieces(ts[0]!);
    else {
      for (let j = 0; j < ts.length; j++) {
        yield `${j === 0 ? '{' : ', '}${encodeJsonValue(ts[j]!.name ?? String(j))}: `;
        yield* tensorPieces(ts[j]!);
      }
      yield '}';
    }
    yield close;
    return;
  }
  yield encodePredictions(p, { unwrapped });
}
