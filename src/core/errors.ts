/** Errors carry `retriable` so one retry helper can decide for every engine. */
export class SentinelError extends Error {
  readonly retriable: boolean;
  constructor(message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable ?? false;
  }
}

/** A configuration or rule file is wrong: names the file, the line and the field. */
export class ConfigError extends SentinelError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

/** Two officers changed one alert at once; the second learns it instead of overwriting. */
export class ConflictError extends SentinelError {
  constructor(message: string) {
    super(message);
  }
}

export class NotFoundError extends SentinelError {}

/** An alert transition that the workflow does not allow (closing twice, assigning a closed alert). */
export class TransitionError extends SentinelError {}
