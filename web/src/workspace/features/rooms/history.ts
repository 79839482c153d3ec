import type { MessageRead } from '@/shared/types'

type Translate = (key: string, params?: Record<string, unknown>) => string
type Exists = (key: string) => boolean

/** A system line's words in the reader's language, from the code and names it carries. */
export function describeSystemLine(message: MessageRead, t: Translate, te: Exists): string {
  const transition = message.meta.transition
  if (typeof transition !== 'string') return message.body
  const key = `transitions.${transition}`
  return te(key) ? t(key, message.meta) : message.body
}
