import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { LiveView } from './types'

// Bursts of changes (routing handing out a queue) become one read.
const SETTLE_MS = 300

/** The live view of queues and employees, read while someone looks at it: the server says
 * when it changed (queue.load, employee.status) and the view reads it again. */
export const useLiveStore = defineStore('live', () => {
  const view = ref<LiveView | null>(null)
  let watchers = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  // Reads may overlap; only the latest one's answer is shown (an older one may arrive last).
  let latest = 0

  async function load(): Promise<void> {
    const mine = ++latest
    const found = await api.get<LiveView>('/api/reports/live')
    if (mine === latest) view.value = found
  }

  function watch(): () => void {
    watchers += 1
    void load()
    return () => {
      watchers -= 1
      if (!watchers) clearTimeout(timer)
    }
  }

  function changed(): void {
    if (!watchers) return
    clearTimeout(timer)
    timer = setTimeout(() => void load(), SETTLE_MS)
  }

  return { view, load, watch, changed }
})
