import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { notificationLog, setQuietUntil } from '@/shared/notifications'
import { mention } from '@/test/mention'
import { dispatch } from './dispatcher'
import { useMentionsStore } from './features/mentions/store'


describe('a mention told by the server', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    notificationLog.length = 0
  })
  afterEach(() => setQuietUntil(null))

  it('lights the badge even under do-not-disturb, and rings and notifies only without it', () => {
    setQuietUntil(new Date(Date.now() + 3_600_000).toISOString())
    dispatch({ id: 1, type: 'mention.created', mention: mention(1, '@Борис глянь накладную') })
    expect(useMentionsStore().unread).toBe(1)
    expect(notificationLog).toHaveLength(0)

    setQuietUntil(null)
    dispatch({ id: 2, type: 'mention.created', mention: mention(2, '@Борис глянь накладную') })
    expect(useMentionsStore().unread).toBe(2)
    expect(notificationLog.map((n) => n.tag)).toEqual(['mention-2'])
    expect(notificationLog[0].body).toBe('@Борис глянь накладную')
  })

  it('counts down when read in another tab', () => {
    dispatch({ id: 1, type: 'mention.created', mention: mention(1) })
    dispatch({ id: 2, type: 'mention.read', mention_ids: [1] })
    expect(useMentionsStore().unread).toBe(0)
  })
})
