import { SentinelError } from '../core/errors.ts';

/**
 * A source could not deliver: the feed is not a feed, the file is unreadable, the server said no.
 * `origin` names the URL or file so the duty desk can tell which of many sources broke.
 */
export class SourceError extends SentinelError {
  readonly origin: string;
  constructor(origin: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(`${origin}: ${message}`, opts);
    this.origin = origin;
  }
}

/** A fetch was refused or failed. Network hiccups, timeouts, 5xx and 429 are retriable; the rest are not. */
export class FetchError extends SourceError {
  readonly status?: number;
  constructor(url: string, message: string, opts: { retriable?: boolean; cause?: unknown; status?: number } = {}) {
    super(url, message, opts);
    this.status = opts.status;
  }
}

/** The guard refused an address (loopback, private, link-local, …). Never retriable: the answer will not change. */
export class ForbiddenAddressError extends FetchError {
  readonly address: string;
  constructor(url: string, address: string) {
    super(
      url,
      `refusing to connect to ${address}: loopback, private, link-local and other internal addresses are blocked (use allowPrivate for an internal source)`,
    );
    this.address = address;
  }
}
