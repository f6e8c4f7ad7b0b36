/** What this package throws for bad configuration: a stable `code` and a message saying what. */
export class ObservabilityError extends Error {
  constructor(
    readonly code: 'ERR_SYSLOG_INVALID_FIELD' | 'ERR_SYSLOG_INVALID_TARGET' | 'ERR_METRICS_INVALID_OPTION',
    message: string,
  ) {
    super(message);
    this.name = 'ObservabilityError';
  }
}
