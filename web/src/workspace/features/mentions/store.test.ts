import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { heldServer } from '@/test/heldServer'
import { mention } from '@/test/mention'
import { useMentionsStore } from './store'


describe('mentions store', () => {
  beforeEach(() => setActivePinia(createPinia()))
  afterEach(() => vi.unstubAllGlobals())

  it('keeps a mention that arrives while the list is loading, counted once', async () => {
    // The server read the list before mention 2 was written; its event overtook the answer.
    const server = heldServer({ unread: 1, mentions: [mention(1)] })
    const store = useMentionsStore()
    const loading = store.load()
    store.added(mention(2))
    server.release()
    await loading
    expect(store.mentions.map((m) => m.id)).toEqual([2, 1])
    expect(store.unread).toBe(2)
    // Told again (a replayed event): still once.
    store.added(mention(2))
    expect(store.unread).toBe(2)
  })

  it('counts down once per mention read, whichever tab read it', async () => {
    heldServer({ unread: 2, mentions: [mention(2), mention(1)] }).release()
    const store = useMentionsStore()
    await store.load()
    store.wereRead([1])
    store.wereRead([1])
    expect(store.unread).toBe(1)
    expect(store.unreadMentions.map((m) => m.id)).toEqual([2])
  })

  it('applies a read that arrives while the list is loading', async () => {
    const server = heldServer({ unread: 1, mentions: [mention(1)] })
    const store = useMentionsStore()
    const loading = store.load()
    store.wereRead([1])
    server.release()
    await loading
    expect(store.unread).toBe(0)
    expect(store.mentions[0].read).toBe(true)
  })
})
