import { useSession } from '../state/session.ts';

/** An error the server named: `code` is stable, `message` says what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** JSON request to the Tape API with the current access token, refreshed once on 401. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
  retry = true,
): Promise<T> {
  const token = useSession.getState().accessToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError(0, 'offline', 'The server cannot be reached: check your connection');
  }
  if (res.status === 401 && retry && token && (await useSession.getState().refresh())) {
    return api<T>(path, init, false);
  }
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok)
    throw new ApiError(res.status, body.error ?? 'http_error', body.message ?? `HTTP ${res.status}`);
  return body as T;
}

/**
 * A one-time ticket for one WebSocket (`?ticket=`, ≤ 30 s, single use): the access token never
 * goes in a URL, where the browser console (every failed connect) and proxies' access logs show
 * it. Asked for before each connection; a 401 renews the session first, as for any request.
 */
export async function socketTicket(): Promise<string> {
  return (await api<{ ticket: string; expiresInS: number }>('/api/v1/auth/socket-ticket', { method: 'POST' }))
    .ticket;
}
