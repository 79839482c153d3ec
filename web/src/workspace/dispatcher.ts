/** Routes every realtime event to the store that owns it. */
import { assertNever, type WorkspaceEvent } from '@/shared/events'
import { RealtimeClient, socketUrl } from '@/shared/realtime'
import { useAdminStore } from './features/admin/store'
import { useMeStore } from './features/me/store'
import { router } from './router'

let client: RealtimeClient | null = null

export function dispatch(event: WorkspaceEvent): void {
  const me = useMeStore()
  switch (event.type) {
    case 'me.updated':
      me.apply(event.employee)
      return
    case 'access.updated':
    case 'summary.updated':
      if (event.type === 'summary.updated') me.summary = event.summary
      else void me.loadSummary()
      return
    case 'resources.updated':
      useAdminStore().resourceChanged(event.resource)
      return
    default:
      assertNever(event)
  }
}

/** Reload everything the workspace shows (after a reset, or a reconnect from too far behind). */
async function reloadState(): Promise<void> {
  const me = useMeStore()
  await Promise.all([me.load(), me.loadSummary()])
}

export function startRealtime(): RealtimeClient {
  client?.stop()
  const me = useMeStore()
  client = new RealtimeClient({
    url: socketUrl('/ws'),
    storageKey: `imp.lastEventId.${me.me?.id ?? 0}`,
    onEvent: (frame) => dispatch(frame as unknown as WorkspaceEvent),
    onReset: () => void reloadState(),
    onClosed: () => {
      me.clear()
      void router.push('/login')
    },
  })
  client.start()
  window.__imp = { realtime: client, lastEvents: client.received }
  return client
}

export function stopRealtime(): void {
  client?.stop()
  client = null
}

export function realtimeClient(): RealtimeClient | null {
  return client
}

declare global {
  interface Window {
    __imp?: { realtime: RealtimeClient; lastEvents: unknown[] }
  }
}
