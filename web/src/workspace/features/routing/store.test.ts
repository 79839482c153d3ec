import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { heldServer } from '@/test/heldServer'
import { useAvailabilityStore } from './store'

const ANN = 7
const BOB = 8

describe('availability store', () => {
  beforeEach(() => setActivePinia(createPinia()))
  afterEach(() => vi.unstubAllGlobals())

  it('keeps a status change that arrives while the statuses are loading', async () => {
    // The page asked before the opening tab marked Ann Online; the event overtook the answer.
    const server = heldServer({
      away_after_minutes: 10,
      mine: { status: 'offline', chosen_by_hand: false },
      employees: [
        { employee_id: ANN, status: 'offline' },
        { employee_id: BOB, status: 'online' },
      ],
    })
    const store = useAvailabilityStore()
    const loading = store.load()
    store.changed(ANN, 'online', ANN)
    server.release()
    await loading

    expect(store.statusOf(ANN)).toBe('online')
    expect(store.mine?.status).toBe('online')
    expect(store.statusOf(BOB)).toBe('online')
  })

  it('takes the loaded statuses when nothing changed meanwhile', async () => {
    const server = heldServer({
      away_after_minutes: 10,
      mine: { status: 'away', chosen_by_hand: true },
      employees: [{ employee_id: ANN, status: 'away' }],
    })
    const store = useAvailabilityStore()
    store.changed(ANN, 'online', ANN) // before the load: the load's answer is newer
    const loading = store.load()
    server.release()
    await loading

    expect(store.statusOf(ANN)).toBe('away')
    expect(store.mine).toEqual({ status: 'away', chosen_by_hand: true })
  })
})
