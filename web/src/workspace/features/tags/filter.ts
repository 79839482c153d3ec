import type { RequestCard } from '@/shared/types'

/** The cards that carry the tag; all of them when no tag is chosen. */
export function withTag(cards: RequestCard[], tagId: number | null): RequestCard[] {
  if (tagId === null) return cards
  return cards.filter((card) => card.tags?.some((tag) => tag.id === tagId))
}
