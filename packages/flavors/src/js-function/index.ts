/**
 * The `js_function` flavor: a model that is a JavaScript module exporting `load(context)` →
 * `{ predict(input, params), close?() }`, saved with its code and artifacts (MLflow's PythonModel).
 */
export { jsFunctionFlavor, JS_FUNCTION_FLAVOR, type JsFunctionSaveInput, type JsFunctionFlavorConfig } from './flavor.js';
export type { JsModelContext } from './context.js';
export type { JsModelModule, JsModelPredictor } from './contract.js';
export { JsFunctionError, ModelPredictError } from './errors.js';
