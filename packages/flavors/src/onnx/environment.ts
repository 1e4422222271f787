/**
 * The Python environment a saved ONNX model declares, so that MLflow (`mlflow models serve`,
 * `mlflow.pyfunc.load_model`) can recreate it. MLflow writes the versions of the interpreter and
 * packages it ran in; we run in none, so the pins are chosen:
 *
 * - `onnxruntime` = the onnxruntime-node version that validated the model at save time (ORT
 *   releases its Python and Node packages together), so Python runs the same runtime;
 * - `onnx` = MLflow's `onnx_version` (`onnx.__version__` in MLflow): the ONNX Python release that
 *   reads the model's IR version (`onnxVersionFor`). The ORT version cannot serve here: ORT and
 *   ONNX are versioned separately, and `onnx==1.30.0` does not exist;
 * - Python 3.11.2 with its pip/setuptools/wheel, the interpreter of the MLflow 3.5 fixtures.
 */
import { writeModelEnvironment, type ModelEnvironment } from '@mlmodel/format';

export const DEFAULT_PYTHON_VERSION = '3.11.2';
export const DEFAULT_MLFLOW_VERSION = '3.5.1';
const BUILD_DEPENDENCIES = { pip: '23.0.1', setuptools: '66.1.1', wheel: '0.38.4' };

/**
 * ONNX Python releases and the newest IR version each reads (onnx's docs/Versioning.md). 1.17.0
 * is the default: it has wheels for Python 3.8–3.12 and reads IR ≤ 10.
 */
const ONNX_RELEASES: readonly [maxIr: number, version: string][] = [
  [10, '1.17.0'],
  [13, '1.21.0'],
];

/** The ONNX Python release to pin for a model of this IR version (the newest known for newer IRs). */
export function onnxVersionFor(irVersion: number | null): string {
  for (const [maxIr, version] of ONNX_RELEASES) if (irVersion === null || irVersion <= maxIr) return version;
  return ONNX_RELEASES[ONNX_RELEASES.length - 1]![1];
}

export interface PythonPins {
  readonly pythonVersion: string;
  readonly mlflowVersion: string;
  readonly onnxVersion: string;
  readonly onnxruntimeVersion: string;
}

export function onnxModelEnvironment(p: PythonPins): ModelEnvironment {
  const requirements = [`mlflow==${p.mlflowVersion}`, `onnx==${p.onnxVersion}`, `onnxruntime==${p.onnxruntimeVersion}`];
  return {
    requirements,
    conda: {
      channels: ['conda-forge'],
      dependencies: [`python=${p.pythonVersion}`, `pip<=${BUILD_DEPENDENCIES.pip}`, { pip: requirements }],
      name: 'mlflow-env',
    },
    pythonEnv: {
      python: p.pythonVersion,
      build_dependencies: Object.entries(BUILD_DEPENDENCIES).map(([k, v]) => `${k}==${v}`),
      dependencies: ['-r requirements.txt'],
    },
  };
}

export async function writeOnnxEnvironment(dir: string, p: PythonPins): Promise<void> {
  await writeModelEnvironment(dir, onnxModelEnvironment(p));
}
