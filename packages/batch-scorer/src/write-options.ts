import type { ParquetCompression, TableFormat, TableWriterOptions } from '@mlmodel/format';

/**
 * How the output is written: the format, its compression, and for Parquet dictionary encoding
 * except for floating-point columns (predictions are floats that rarely repeat; building their
 * dictionaries before falling back to plain encoding takes several times the rest of the write).
 */
export function outputOptions(format: TableFormat, compression: ParquetCompression | undefined): TableWriterOptions {
  return { format, ...(compression ? { compression } : {}), ...(format === 'parquet' ? { dictionary: 'auto' as const } : {}) };
}
