/** The HTTP API client: JSON in and out, the CSRF header on writes, readable errors. */

/**
 * Turns a server refusal's code into the reader's words; null when the code has none, and
 * then the server's English text is shown. Each front end (workspace, widget) installs one.
 */
export type ErrorTranslator = (code: string, params: Record<string, unknown>) => string | null

let translateError: ErrorTranslator = () => null

export function setErrorTranslator(translator: ErrorTranslator): void {
  translateError = translator
}

export class ApiError extends Error {
  /** What the person reads: the translation of the code, else the server's text. */
  readonly detail: string
  /** The server's own (English) text. */
  readonly serverDetail: string

  constructor(
    public status: number,
    detail: string,
    public code = '',
    public params: Record<string, unknown> = {},
  ) {
    const translated = code ? translateError(code, params) : null
    super(translated ?? detail)
    this.detail = translated ?? detail
    this.serverDetail = detail
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

interface Refusal {
  detail: string
  code: string
  params: Record<string, unknown>
}

function describe(body: unknown, status: number): Refusal {
  if (body && typeof body === 'object' && 'detail' in body) {
    const { detail, code, params } = body as { detail: unknown; code?: string; params?: Record<string, unknown> }
    const known = { code: code ?? '', params: params ?? {} }
    if (typeof detail === 'string') return { detail, ...known }
    if (Array.isArray(detail)) {
      return { detail: detail.map((d) => (d as { msg?: string }).msg ?? '').join('; '), ...known }
    }
  }
  // No body to read (a proxy's page, say): the status still says what kind of failure it is.
  return { detail: `HTTP ${status}`, code: status >= 500 ? 'unavailable' : '', params: {} }
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
    const { detail, code, params } = describe(parsed, response.status)
    if (response.status === 401 && path !== '/api/auth/login') onUnauthenticated()
    throw new ApiError(response.status, detail, code, params)
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
