/**
 * Typed domain errors. Branch on them with `instanceof`; `problem.ts` maps them to
 * RFC 9457 problem+json in one place. 4xx details reach the caller, so a message here must
 * never contain personal data (no names, phone numbers, e-mail or postal addresses).
 */
export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `defect.category`; `body` for the whole body. */
  readonly field: string;
  readonly message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  /** Short stable slug; also the anchor of the runbook section that explains it. */
  abstract readonly slug: string;
  abstract readonly title: string;
  /** Extra members for the problem document (e.g. `errors`, `failedItems`). */
  extensions(): Record<string, unknown> {
    return {};
  }
  /** Extra response headers (e.g. `Allow`, `WWW-Authenticate`). */
  headers(): Record<string, string> {
    return {};
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly slug = 'validation';
  readonly title = 'The request is invalid';
  constructor(readonly errors: readonly FieldProblem[]) {
    super(`${errors.length} invalid field(s): ${errors.map((e) => e.field).join(', ')}`);
  }
  override extensions() {
    return { errors: this.errors };
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly slug = 'unauthorized';
  readonly title = 'Authentication required';
  override headers() {
    return { 'www-authenticate': 'Bearer' };
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly slug = 'forbidden';
  readonly title = 'Not allowed for your role';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly slug = 'not-found';
  readonly title = 'Not found';
}

export class MethodNotAllowedError extends DomainError {
  readonly status = 405;
  readonly slug = 'method-not-allowed';
  readonly title = 'Method not allowed';
  constructor(readonly allow: readonly string[], message: string) {
    super(message);
  }
  override headers() {
    return { allow: this.allow.join(', ') };
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly slug = 'conflict';
  readonly title = 'Conflict with the current state';
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly slug = 'payload-too-large';
  readonly title = 'Request body too large';
  constructor(readonly limitBytes: number, actualBytes: number) {
    super(`The body is ${actualBytes} bytes; the limit is ${limitBytes} bytes.`);
  }
  override extensions() {
    return { limitBytes: this.limitBytes };
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly slug = 'unsupported-media-type';
  readonly title = 'Unsupported media type';
}

/** A rule of the domain refused the request (e.g. a checklist gate has open items). */
export class UnprocessableError extends DomainError {
  readonly status = 422;
  readonly slug = 'unprocessable';
  readonly title = 'The request breaks a rule of the process';
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
  }
  override extensions() {
    return this.details;
  }
}

/** Too many requests from one caller in a window (the store intake limit). */
export class TooManyRequestsError extends DomainError {
  readonly status = 429;
  readonly slug = 'too-many-requests';
  readonly title = 'Too many requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
  override headers() {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }
}
