import { randomUUID } from 'node:crypto';

/** A thin client of the recall HTTP API for the CLI: bearer token, JSON, problem+json. */
export interface ApiOptions {
  readonly apiUrl: string;
  readonly token?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: {
      title?: string;
      detail?: string;
      errors?: { field: string; message: string }[];
      correlationId?: string;
      runbook?: string;
      instance?: string;
      /** A gate's open checklist items (422). */
      unmet?: { id: string; principle: string; missing?: string; how?: string; runbook?: string }[];
      missingFacts?: { fact: string; missing?: string }[];
    },
  ) {
    super(`${status} ${problem.title ?? 'error'}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'ApiError';
  }

  /** Human-readable, every invalid field on its own line. */
  describe(hasToken = true): string {
    const lines = [`Error ${this.status}: ${this.problem.title ?? ''}`, this.problem.detail ? `  ${this.problem.detail}` : ''];
    // API Gateway answers these itself, as {"message": "..."}: say what to do.
    if (this.status === 401) {
      lines.push(hasToken
        ? '  The token was refused: it expired or is not for this API. Get a fresh one: in AWS `npx recall login`; locally npm start prints tokens for the demo users.'
        : '  No token was sent: sign in with `npx recall login` (AWS), or set RECALL_TOKEN / pass --token (npm start prints one per demo user).');
    }
    if (this.status === 429) lines.push('  Too many requests: the API is throttling. Wait a moment and retry.');
    if (this.status === 503) lines.push('  The service is unavailable for now (a timeout or a restart). Retry in a minute; if it lasts, see runbooks/api-errors.md#internal.');
    for (const e of this.problem.errors ?? []) lines.push(`  - ${e.field}: ${e.message}`);
    for (const u of this.problem.unmet ?? []) {
      lines.push(`  - ${u.id} (${u.principle}): ${u.missing ?? ''}`);
      // The problem's instance is /incidents/{id}/actions: put the real id into the command.
      const id = /^\/incidents\/([^/]+)/.exec(this.problem.instance ?? '')?.[1];
      if (u.how) lines.push(`      do: npx ${id ? u.how.replace(/\bID\b/, id) : u.how}    see ${u.runbook}`);
    }
    for (const f of this.problem.missingFacts ?? []) lines.push(`  - ${f.fact}: ${f.missing ?? ''}`);
    if (this.problem.runbook) lines.push(`  see ${this.problem.runbook}`);
    if (this.problem.correlationId) lines.push(`  correlation id ${this.problem.correlationId}`);
    return lines.filter(Boolean).join('\n');
  }
}

export async function request<T = unknown>(
  options: ApiOptions,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  let response: Response;
  try {
    response = await fetch(new URL(path, options.apiUrl), {
      method,
      headers: {
        accept: 'application/json',
        'x-correlation-id': `cli-${randomUUID()}`,
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new Error(`Cannot reach the API at ${options.apiUrl} (${(error as Error).message}). Is it running? Start it with: npm start`);
  }
  const text = await response.text();
  const isJson = /json/i.test(response.headers.get('content-type') ?? 'application/json');
  const parsed = !text ? undefined : isJson || !response.ok ? safeJson(text) : text;
  if (!response.ok) {
    const body = (parsed as { message?: string; title?: string } | undefined) ?? { title: text };
    // HTTP API's own answers carry only `message` (e.g. {"message":"Unauthorized"}).
    throw new ApiError(response.status, body.title === undefined && typeof body.message === 'string' ? { title: body.message } : body);
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { title: text };
  }
}
