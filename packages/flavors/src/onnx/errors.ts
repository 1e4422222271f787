import { MlmodelError, ModelFormatError } from '@mlmodel/format';

/**
 * An `.onnx` file that onnxruntime cannot load (corrupt, not ONNX, unsupported opset, missing
 * external data). The message names the file and carries onnxruntime's own reason.
 */
export class OnnxModelError extends ModelFormatError {}

/** A batch that cannot be fed to the graph: wrong input names, dtypes or shapes. */
export class OnnxInputError extends MlmodelError {
  constructor(message: string) {
    super(message, 'INVALID_PARAMETER_VALUE');
  }
}

/** An ONNX output that cannot be turned into a prediction (unsupported element type, ragged frame). */
export class OnnxOutputError extends MlmodelError {
  constructor(message: string) {
    super(message, 'INTERNAL_ERROR', { userError: false });
  }
}

/** onnxruntime's message without its noisy `[ONNXRuntimeError] : 1 : FAIL :` prefix. */
export function ortMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '').trim();
}

/** onnxruntime failed while running the graph (MLflow answers such predict failures with BAD_REQUEST). */
export class OnnxRunError extends MlmodelError {
  constructor(message: string, cause: unknown) {
    super(message, 'BAD_REQUEST', { cause });
  }
}
