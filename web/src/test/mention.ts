import type { MentionRead } from '@/shared/types'

/** A mention of Boris by Anna in the room "Склад", as the server sends it. */
export function mention(id: number, body = `@Борис ${id}`): MentionRead {
  return {
    id,
    read: false,
    created_at: '2026-12-04T10:00:00Z',
    place: { kind: 'team', id: 3, name: 'Склад' },
    message: {
      id: 100 + id,
      room_id: 3,
      kind: 'text',
      body,
      author: { kind: 'employee', id: 1, name: 'Анна Смирнова' },
      attachments: [],
      client_message_id: null,
      meta: { mentions: [{ id: 2, name: 'Борис Петров' }] },
      created_at: '2026-12-04T10:00:00Z',
      edited_at: null,
      deleted: false,
    },
  }
}
