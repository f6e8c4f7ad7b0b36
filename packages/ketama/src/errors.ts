/** Stable codes of the errors this package throws. */
export type KetamaErrorCode =
  | 'ERR_KETAMA_INVALID_WEIGHT'
  | 'ERR_KETAMA_INVALID_ADDRESS'
  | 'ERR_KETAMA_INVALID_BUCKETS'
  | 'ERR_KETAMA_INVALID_KEY'
  | 'ERR_KETAMA_INVALID_OPTION'
  | 'ERR_KETAMA_TOO_MANY_POINTS';

/** The error every bad input to this package throws; `code` says which rule was broken. */
export class KetamaError extends Error {
  readonly code: KetamaErrorCode;

  constructor(code: KetamaErrorCode, message: string) {
    super(message);
    this.name = 'KetamaError';
    this.code = code;
  }
}
