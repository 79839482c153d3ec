import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/shared/api'
import { setQuietUntil } from '@/shared/notifications'
import type { Me, Summary } from '@/shared/types'
import { setLanguage } from '../../i18n'

export const useMeStore = defineStore('me', () => {
  const me = ref<Me | null>(null)
  const summary = ref<Summary>({ queue_waiting: 0, requests_unread: 0, rooms_unread: 0 })
  const now = ref(Date.now())
  let clock: ReturnType<typeof setInterval> | undefined

  const dndActive = computed(() => {
    const until = me.value?.dnd_until
    return until ? new Date(until).getTime() > now.value : false
  })

  function apply(value: Me): void {
    me.value = value
    setLanguage(value.language)
    document.documentElement.dataset.theme = value.theme
    setQuietUntil(value.dnd_until)
    // Ticks so that do-not-disturb ends by itself when its time comes.
    clock ??= setInterval(() => (now.value = Date.now()), 15_000)
  }

  async function load(): Promise<Me> {
    const value = await api.get<Me>('/api/me')
    apply(value)
    return value
  }

  // Counters come both from fetches and from events: a fetch answered after a newer value
  // was applied (by a later fetch or an event) is stale and dropped.
  let summarySeq = 0
  let summaryApplied = 0

  async function loadSummary(): Promise<void> {
    const seq = ++summarySeq
    const value = await api.get<Summary>('/api/me/summary')
    if (seq < summaryApplied) return
    summaryApplied = seq
    summary.value = value
  }

  function putSummary(value: Summary): void {
    summaryApplied = ++summarySeq
    summary.value = value
  }

  async function update(changes: Partial<Pick<Me, 'theme' | 'language' | 'dnd_until' | 'name'>>) {
    apply(await api.patch<Me>('/api/me', changes))
  }

  function clear(): void {
    me.value = null
  }

  const totalUnread = computed(
    () => summary.value.queue_waiting + summary.value.requests_unread + summary.value.rooms_unread,
  )

  return { me, summary, dndActive, totalUnread, now, apply, load, loadSummary, putSummary, update, clear }
})
