import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import { replayingLoads } from '@/shared/replayingLoads'
import type { AvailabilityStatus } from '@/shared/events'

interface Availabilities {
  away_after_minutes: number
  mine: MyStatus
  employees: { employee_id: number; status: AvailabilityStatus }[]
}

interface MyStatus {
  status: AvailabilityStatus
  chosen_by_hand: boolean
}

const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'pointermove'] as const

/** Everyone's status (Online, Away, Offline); this employee's own, and Away when idle. */
export const useAvailabilityStore = defineStore('availability', () => {
  const statuses = ref<Record<number, AvailabilityStatus>>({})
  const mine = ref<MyStatus | null>(null)
  let awayAfterMs = 10 * 60_000
  let lastActivity = Date.now()
  let idleTimer: ReturnType<typeof setInterval> | undefined
  // A tab opening marks its employee Online just as the page asks for the statuses: the
  // change may overtake the answer (see replayingLoads).
  const { load: loadReplaying, apply } = replayingLoads()

  function load(): Promise<void> {
    return loadReplaying(
      () => api.get<Availabilities>('/api/availability'),
      (found) => {
        awayAfterMs = found.away_after_minutes * 60_000
        mine.value = found.mine
        statuses.value = Object.fromEntries(found.employees.map((e) => [e.employee_id, e.status]))
      },
    )
  }

  function changed(employeeId: number, status: AvailabilityStatus, myId: number): void {
    apply(() => setStatus(employeeId, status, myId))
  }

  function setStatus(employeeId: number, status: AvailabilityStatus, myId: number): void {
    statuses.value[employeeId] = status
    // Set by the server (a tab opened, every tab gone): not a choice.
    if (employeeId === myId) mine.value = { status, chosen_by_hand: mine.value?.chosen_by_hand ?? false }
  }

  function statusOf(employeeId: number): AvailabilityStatus {
    return statuses.value[employeeId] ?? 'offline'
  }

  async function choose(status: AvailabilityStatus, myId: number): Promise<void> {
    await report(status, true, myId)
  }

  async function report(status: AvailabilityStatus, byHand: boolean, myId: number): Promise<void> {
    const reported = await api.put<MyStatus>('/api/me/availability', { status, by_hand: byHand })
    apply(() => {
      mine.value = reported
      statuses.value[myId] = reported.status
    })
  }

  /** Away after the idle time, Online again on activity: only while no status was chosen by hand. */
  function watchIdleness(myId: number): () => void {
    const active = (): void => {
      lastActivity = Date.now()
      if (mine.value && !mine.value.chosen_by_hand && mine.value.status === 'away') {
        void report('online', false, myId)
      }
    }
    for (const name of ACTIVITY_EVENTS) window.addEventListener(name, active, { passive: true })
    clearInterval(idleTimer)
    idleTimer = setInterval(() => {
      const idle = Date.now() - lastActivity >= awayAfterMs
      if (idle && mine.value && !mine.value.chosen_by_hand && mine.value.status === 'online') {
        void report('away', false, myId)
      }
    }, 15_000)
    return () => {
      for (const name of ACTIVITY_EVENTS) window.removeEventListener(name, active)
      clearInterval(idleTimer)
    }
  }

  return { statuses, mine, load, changed, statusOf, choose, report, watchIdleness }
})
