import { expect } from 'vitest';
import { ERROR_CODE } from './server.ts';

// A REST caller for server tests: as a named user's token (or none), JSON both ways; every
// refusal, whatever the route, must name a short code and say what it means.

export function restClient<J = Record<string, unknown>>(url: () => string, tokens: Record<string, string>) {
  return async (who: string | null, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url()}${path}`, {
      method,
      headers: {
        ...(who ? { Authorization: `Bearer ${tokens[who]}` } : {}),
        'Content-Type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // When the answer arrived (its head), before its body is read.
    const at = performance.now();
    // A 204 has no body.
    const text = await r.text();
    const json = (text ? JSON.parse(text) : {}) as J;
    if (r.status >= 400)
      expect(json, `${method} ${path} → ${r.status}`).toMatchObject({
        error: expect.stringMatching(ERROR_CODE),
        message: expect.stringMatching(/\w \w/),
      });
    return { status: r.status, body: json, at };
  };
}
