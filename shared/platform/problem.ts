import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { DomainError, ValidationError, type FieldProblem } from './errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Where the runbook for API errors lives in the repository; each slug is a section. */
export const API_ERRORS_RUNBOOK = 'runbooks/api-errors.md';

export interface ProblemContext {
  readonly instance: string;
  readonly correlationId: string;
}

/**
 * The one mapping from errors to RFC 9457 problem documents. Domain errors expose their
 * message (4xx); anything else becomes a 500 whose body carries only a generic text and
 * the correlation id, the details staying in the logs.
 */
export function toProblemResponse(error: unknown, ctx: ProblemContext): APIGatewayProxyStructuredResultV2 {
  const known = error instanceof DomainError ? error : undefined;
  const status = known?.status ?? 500;
  const slug = known?.slug ?? 'internal';
  const body = {
    type: `urn:recall:problem:${slug}`,
    title: known?.title ?? 'Internal error',
    status,
    detail: known ? known.message : 'Something went wrong on our side. Quote the correlation id when reporting it.',
    instance: ctx.instance,
    correlationId: ctx.correlationId,
    runbook: `${API_ERRORS_RUNBOOK}#${slug}`,
    ...(known?.extensions() ?? {}),
  };
  return {
    statusCode: status,
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      'x-correlation-id': ctx.correlationId,
      ...(known?.headers() ?? {}),
    },
    body: JSON.stringify(body),
  };
}

/**
 * Turns zod issues into field problems, one per offending field (unknown keys each named).
 * Fields are dotted paths; a key that is empty or not a plain name is quoted, e.g.
 * `product[""]`, so every problem names a field a caller can find.
 */
export function fieldProblems(error: z.ZodError, prefix?: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const field = (segments: PropertyKey[]) => {
    let out = prefix ?? '';
    for (const segment of segments) {
      const name = String(segment);
      if (/^[A-Za-z0-9_$-]+$/.test(name)) out += out ? `.${name}` : name;
      else out += `[${JSON.stringify(name)}]`;
    }
    return out || 'body';
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: field([...issue.path, key]), message: 'unknown field' });
    } else {
      problems.push({ field: field(issue.path), message: issue.message });
    }
  }
  return problems;
}

/** Parses `value` with `schema` or throws a ValidationError listing every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(fieldProblems(result.error, prefix));
  return result.data;
}
