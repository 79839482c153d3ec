import type { MessageRead } from '@/shared/types'

/** What the unread counters count, the same rule as the server's: what someone else wrote
 * (a message, or a colleague's note in a request).
 * System lines (a request accepted, a topic timer, a call record) are history, not news. */
export function countsAsUnread(message: MessageRead, myId: number): boolean {
  if ((message.kind !== 'text' && message.kind !== 'note') || message.deleted) return false
  return !(message.author.kind === 'employee' && message.author.id === myId)
}

/** The first message a reader has not seen, given how many of the newest ones are unread. */
export function firstUnreadId(messages: MessageRead[], unread: number, myId: number): number | null {
  if (unread <= 0) return null
  let left = unread
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (countsAsUnread(messages[index], myId)) {
      left -= 1
      if (left === 0) return messages[index].id
    }
  }
  return null
}

/** The first message after a read mark that someone else wrote. */
export function firstUnreadAfter(messages: MessageRead[], readMark: number, myId: number): number | null {
  return messages.find((m) => m.id > readMark && countsAsUnread(m, myId))?.id ?? null
}
