/** The HTTP API client: JSON in and out, the CSRF header on writes, readable errors. */

export class ApiError extends Error {
  constructor(
    public status: number,
    public detail: string,
    public code = '',
  ) {
    super(detail)
  }
}

type Handler = () => void
let onUnauthenticated: Handler = () => {}

/** Called when any request finds the session gone (not for the login call itself). */
export function setUnauthenticatedHandler(handler: Handler): void {
  onUnauthenticated = handler
}

export function readCookie(name: string): string {
  const prefix = `${name}=`
  for (const part of document.cookie.split(';')) {
    const trimmed = part.trim()
    if (trimmed.startsWith(prefix)) return decodeURIComponent(trimmed.slice(prefix.length))
  }
  return ''
}

function describe(body: unknown, status: number): { detail: string; code: string } {
  if (body && typeof body === 'object' && 'detail' in body) {
    const { detail, code } = body as { detail: unknown; code?: string }
    if (typeof detail === 'string') return { detail, code: code ?? '' }
    if (Array.isArray(detail)) {
      return { detail: detail.map((d) => (d as { msg?: string }).msg ?? '').join('; '), code: code ?? '' }
    }
  }
  return { detail: `HTTP ${status}`, code: '' }
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  let payload: BodyInit | undefined
  if (body instanceof FormData) {
    payload = body
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  if (method !== 'GET') headers['X-CSRF-Token'] = readCookie('imp_csrf')
  let response: Response
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'network')
  }
  if (response.status === 204) return undefined as T
  const text = await response.text()
  let parsed: unknown = undefined
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!response.ok) {
    const { detail, code } = describe(parsed, response.status)
    if (response.status === 401 && path !== '/api/auth/login') onUnauthenticated()
    throw new ApiError(response.status, detail, code)
  }
  return parsed as T
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  del: <T = void>(path: string) => request<T>('DELETE', path),
}
