import type { RequestCard } from '@/shared/types'

type Translate = (key: string, params?: Record<string, unknown>) => string

export function clientName(card: Pick<RequestCard, 'client'>, t: Translate): string {
  return card.client.name || t('requests.anonymous', { id: card.client.id })
}
