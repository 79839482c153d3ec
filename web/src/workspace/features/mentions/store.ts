import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/shared/api'
import { replayingLoads } from '@/shared/replayingLoads'
import type { EmployeeBrief, MentionList, MentionRead } from '@/shared/types'

/** The employee's mentions (the "Mentions" list and its badge) and the colleagues one can
 * mention. */
export const useMentionsStore = defineStore('mentions', () => {
  const mentions = ref<MentionRead[]>([])
  // Of all the employee's mentions, not only the listed newest ones.
  const unread = ref(0)
  const loaded = ref(false)
  const colleagues = ref<EmployeeBrief[]>([])
  // A mention told while the list loads may overtake the answer (see replayingLoads).
  const { load: loadReplaying, apply } = replayingLoads()
  let loadingColleagues: Promise<void> | null = null

  const unreadMentions = computed(() => mentions.value.filter((m) => !m.read))

  function load(): Promise<void> {
    return loadReplaying(
      () => api.get<MentionList>('/api/mentions'),
      (found) => {
        mentions.value = found.mentions
        unread.value = found.unread
        loaded.value = true
      },
    )
  }

  /** A new mention: listed first and counted, once however often it is told. */
  function added(mention: MentionRead): void {
    apply(() => {
      if (mentions.value.some((m) => m.id === mention.id)) return
      mentions.value = [mention, ...mentions.value]
      if (!mention.read) unread.value += 1
    })
  }

  /** Read, here or in another tab: the badge counts down by those not read before. */
  function wereRead(ids: number[]): void {
    apply(() => {
      let newlyRead = 0
      for (const id of ids) {
        const listed = mentions.value.find((m) => m.id === id)
        if (listed?.read) continue
        if (listed) listed.read = true
        newlyRead += 1
      }
      unread.value = Math.max(0, unread.value - newlyRead)
    })
  }

  async function markRead(ids: number[]): Promise<void> {
    const unreadIds = ids.filter((id) => mentions.value.some((m) => m.id === id && !m.read))
    if (!unreadIds.length) return
    wereRead(unreadIds)
    await api.post('/api/mentions/read', { ids: unreadIds })
  }

  async function markAllRead(): Promise<void> {
    wereRead(unreadMentions.value.map((m) => m.id))
    unread.value = 0
    await api.post('/api/mentions/read', { all: true })
  }

  /** Everyone who can be mentioned (loaded once, on first use). */
  function loadColleagues(): Promise<void> {
    loadingColleagues ??= api
      .get<EmployeeBrief[]>('/api/employees')
      .then((found) => {
        colleagues.value = found
      })
      .catch((e: unknown) => {
        loadingColleagues = null
        throw e
      })
    return loadingColleagues
  }

  return { mentions, unread, loaded, colleagues, unreadMentions, load, added, wereRead, markRead, markAllRead, loadColleagues }
})

/** Whether a message mentions this employee (the mention's own notice says so instead of the
 * message's). */
export function mentionsMe(meta: Record<string, unknown>, myId: number): boolean {
  const named = meta.mentions
  return Array.isArray(named) && named.some((m) => (m as { id?: number }).id === myId)
}

/** The names of those a message could not reach (they cannot read where it was written). */
export function unreachableNames(meta: Record<string, unknown>): string[] {
  const named = meta.unreachable_mentions
  return Array.isArray(named) ? named.map((m) => String((m as { name?: string }).name ?? '')) : []
}
