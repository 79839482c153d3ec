/** The visitor's session with IMP: token kept per site, requests with the bearer token. */
import { ApiError } from '@/shared/api'

export interface NamedRef {
  id: number
  name: string
}

export interface VisitorRequest {
  id: number
  status: 'choosing' | 'waiting' | 'assigned' | 'closed'
  queue_name: string | null
  operator_name: string | null
  topic_due_at: string | null
  topic_picked: boolean
  /** While waiting: 1 for the next to be taken. */
  position?: number | null
  /** The queue's usual wait, in seconds; null when it has none to go by. */
  expected_wait_seconds?: number | null
}

/** How the website's chat looks (Administration → Resources → "Виджет"). */
export interface WidgetLook {
  colour: string
  position: 'right' | 'left'
  button_label: string
  title: string
  greeting: string
  language: 'auto' | 'ru' | 'en'
  /** Replies show the employee's name and photo (absent: they do). */
  show_employee?: boolean
}

export interface WidgetSession {
  visitor_token: string
  client: NamedRef
  /** calls: the calls the client may start once an employee has taken the request. */
  resource: { name: string; topics: NamedRef[]; topic_choice_seconds: number; look?: WidgetLook; calls?: ('voice' | 'video')[] }
  request: VisitorRequest | null
  preferred_topic_id: number | null
  blocked: boolean
  /** Business hours: outside them the chat offers the offline form. */
  hours?: { open: boolean; back_at: string | null }
}

export const params = new URLSearchParams(location.search)
export const publicKey = params.get('key') ?? ''
const tokenKey = `imp.visitor.${publicKey}`

export function embeddingOrigin(): string {
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins
  return ancestors?.length ? ancestors[0] : (params.get('origin') ?? '')
}

// The chat is an iframe from IMP's address inside the website: a browser that blocks
// third-party storage throws on any use of localStorage. The chat must still work then; it
// only forgets the visitor when the page goes.
let unsavedToken: string | null = null

export function savedToken(): string | null {
  try {
    return localStorage.getItem(tokenKey)
  } catch {
    return unsavedToken
  }
}

export function saveToken(token: string | null): void {
  unsavedToken = token
  try {
    if (token) localStorage.setItem(tokenKey, token)
    else localStorage.removeItem(tokenKey)
  } catch {
    // Storage blocked: unsavedToken keeps it for this page.
  }
}

/** A message the client wrote that the server has not confirmed yet: kept across reloads, so
 * words written without a connection go once it is back (the id makes a resend harmless). */
export interface Unsent {
  client_message_id: string
  body: string
  attachment_ids: number[]
}

const outboxKey = (clientId: number) => `imp.outbox.${publicKey}.${clientId}`

export function unsent(clientId: number): Unsent[] {
  try {
    return JSON.parse(localStorage.getItem(outboxKey(clientId)) ?? '[]') as Unsent[]
  } catch {
    return []
  }
}

export function keepUnsent(clientId: number, items: Unsent[]): void {
  try {
    if (items.length) localStorage.setItem(outboxKey(clientId), JSON.stringify(items))
    else localStorage.removeItem(outboxKey(clientId))
  } catch {
    // Storage blocked: they are kept for as long as the page is open.
  }
}

export async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {}
  if (token) headers.Authorization = `Bearer ${token}`
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const response = await fetch(path, { method, headers, body: payload })
  const text = await response.text()
  const data = text ? JSON.parse(text) : undefined
  if (!response.ok) {
    throw new ApiError(response.status, typeof data?.detail === 'string' ? data.detail : `HTTP ${response.status}`, data?.code ?? '')
  }
  return data as T
}

/** The widget's socket offers this subprotocol and its token as a second one. */
export function socketProtocols(token: string): string[] {
  return ['imp.visitor', token]
}

/**
 * A file of the conversation, fetched with the token in the Authorization header and shown from
 * memory: links and images cannot send headers, and a token in their address would be written
 * to access logs. Each file is fetched once per page.
 */
const fileObjects = new Map<string, Promise<string>>()

/** The file, or with ``thumbnail`` its small copy (pictures only). */
export function fileObjectUrl(attachmentId: number, token: string, thumbnail = false): Promise<string> {
  const address = `/api/widget/files/${attachmentId}${thumbnail ? '/thumbnail' : ''}`
  let url = fileObjects.get(address)
  if (!url) {
    url = fetch(address, { headers: { Authorization: `Bearer ${token}` } }).then(
      async (response) => {
        if (!response.ok) throw new ApiError(response.status, `HTTP ${response.status}`)
        return URL.createObjectURL(await response.blob())
      },
    )
    url.catch(() => fileObjects.delete(address))
    fileObjects.set(address, url)
  }
  return url
}
