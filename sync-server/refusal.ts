// A request refused for a reason the client can act on: its HTTP status, a stable code and a
// message that says what to do. Transport-neutral, so domain code refuses with it (OrderError)
// without importing http/; http/uws.ts answers any Refusal as its status and code.

export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Sent as Retry-After (a 429 or 503 the client may repeat). */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}
