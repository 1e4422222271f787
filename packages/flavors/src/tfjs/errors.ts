import { MlmodelError, ModelFormatError, SchemaEnforcementError } from '@mlmodel/format';

/** A TensorFlow.js model file (model.json or a weight shard) that is missing, unreadable or malformed. */
export class TfjsModelFileError extends ModelFormatError {}

/** Input data that the TensorFlow.js model cannot take: missing inputs, wrong dtype or shape (HTTP 400). */
export class TfjsInputError extends SchemaEnforcementError {}

/** A tfjs backend that cannot be initialised, or a request for a second backend in the same process. */
export class TfjsBackendError extends MlmodelError {}
