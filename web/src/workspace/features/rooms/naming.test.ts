import { describe, expect, it } from 'vitest'
import type { RoomRead } from '@/shared/types'
import { roomTitle } from './naming'

const member = (id: number, name: string) => ({ id, name, login: name, last_read_message_id: 0 })
const base: RoomRead = {
  id: 1,
  kind: 'team',
  name: 'Support',
  creator_id: 1,
  members: [member(1, 'Anna'), member(2, 'Boris')],
  last_message: null,
  unread: 0,
  created_at: '2026-01-01T00:00:00Z',
}

describe('roomTitle', () => {
  it('uses the name of a group room', () => {
    expect(roomTitle(base, 1)).toBe('Support')
  })
  it('names a direct room after the other person', () => {
    expect(roomTitle({ ...base, kind: 'direct', name: '' }, 1)).toBe('Boris')
    expect(roomTitle({ ...base, kind: 'direct', name: '' }, 2)).toBe('Anna')
  })
})
