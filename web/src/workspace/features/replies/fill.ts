/** Filling a canned reply's variables as it is inserted. */

export interface ReplyContext {
  client?: string
  employee?: string
  queue?: string
  resource?: string
  /** The resource whose shared replies are offered (a request's); none in rooms. */
  resourceId?: number
}

/** The variables a reply may hold, each under its English and Russian name. */
export const VARIABLES: { key: keyof Omit<ReplyContext, 'resourceId'>; names: string[] }[] = [
  { key: 'client', names: ['client', 'клиент'] },
  { key: 'employee', names: ['employee', 'сотрудник'] },
  { key: 'queue', names: ['queue', 'очередь'] },
  { key: 'resource', names: ['resource', 'ресурс'] },
]

const BY_NAME = new Map(VARIABLES.flatMap((v) => v.names.map((name) => [name, v.key] as const)))

/**
 * The text with each known variable replaced by its value. A variable that is unknown, or has
 * no value here (no client in a room, a client who gave no name), stays as written, so the
 * employee sees it before sending.
 */
export function fillReply(text: string, context: ReplyContext): string {
  return text.replace(/\{([^{}\s]+)\}/g, (whole, name: string) => {
    const key = BY_NAME.get(name.toLowerCase())
    const value = key ? context[key]?.trim() : ''
    return value ? value : whole
  })
}

export interface Reply {
  id: number
  code: string
  text: string
  shared: boolean
  resource_id: number | null
  editable: boolean
}

/** Replies for a composer: by code first, then by text, as the employee types after "/". */
export function matchingReplies(replies: Reply[], query: string, resourceId?: number): Reply[] {
  const q = query.trim().toLowerCase()
  const offered = replies.filter((r) => r.resource_id === null || r.resource_id === resourceId)
  const byCode = offered.filter((r) => r.code.startsWith(q))
  const byText = offered.filter((r) => !r.code.startsWith(q) && (r.code.includes(q) || r.text.toLowerCase().includes(q)))
  return [...byCode, ...byText]
}
