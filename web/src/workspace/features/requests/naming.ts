import type { MessageAuthor, RequestCard } from '@/shared/types'

type Translate = (key: string, params?: Record<string, unknown>) => string

/** Any client as the workspace knows it: their id and, when someone knows it, their name. */
export interface ClientRef {
  id: number
  name?: string | null
}

/**
 * The one way the workspace names a client: their name, or "Client No. N" by their client id.
 * Queue cards, the request header, the block list, search hits and rooms all use it, so the
 * same person is called the same everywhere.
 */
export function nameOfClient(client: ClientRef, t: Translate): string {
  return client.name?.trim() || t('requests.anonymous', { id: client.id })
}

export function clientName(card: Pick<RequestCard, 'client'>, t: Translate): string {
  return nameOfClient(card.client, t)
}

/** A message's author as shown: clients through nameOfClient, employees by their name. */
export function authorName(author: MessageAuthor, t: Translate): string {
  if (author.kind === 'client' && author.id != null) return nameOfClient({ id: author.id, name: author.name }, t)
  return author.name
}
