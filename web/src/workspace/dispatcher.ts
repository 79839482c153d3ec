/** Routes every realtime event to the store that owns it. */
import { assertNever, type WorkspaceEvent } from '@/shared/events'
import { RealtimeClient, socketUrl } from '@/shared/realtime'
import { useAdminStore } from './features/admin/store'
import { notify } from '@/shared/notifications'
import { useCallsStore } from './features/calls/store'
import { useMeStore } from './features/me/store'
import { mentionsMe, useMentionsStore } from './features/mentions/store'
import { authorName } from './features/requests/naming'
import { useWebhooksStore } from './features/integrations/store'
import { useLiveStore } from './features/reports/liveStore'
import { useRequestsStore } from './features/requests/store'
import { useRoomsStore } from './features/rooms/store'
import { useAvailabilityStore } from './features/routing/store'
import { i18n } from './i18n'
import { router } from './router'

let client: RealtimeClient | null = null

export function dispatch(event: WorkspaceEvent): void {
  const me = useMeStore()
  switch (event.type) {
    case 'me.updated':
      me.apply(event.employee)
      return
    case 'summary.updated':
      me.putSummary(event.summary)
      return
    case 'access.updated':
      // Other queues, other waiting requests: the Queue list is the server's to say.
      void me.loadSummary()
      void useRequestsStore().load()
      return
    case 'resources.updated':
      useAdminStore().resourceChanged(event.resource)
      return
    case 'room.created':
    case 'room.updated':
      useRoomsStore().upsertRoom(event.room)
      return
    case 'room.removed':
      useRoomsStore().removeRoom(event.room_id)
      refreshSummarySoon()
      return
    case 'message.created': {
      const myId = me.me?.id ?? 0
      const viewing = isViewingRoom(event.message.room_id)
      useRoomsStore().putMessage(event.message, myId, viewing)
      const mine = event.message.author.kind === 'employee' && event.message.author.id === myId
      // A system line (someone joined, the room was renamed) is history, not someone writing;
      // a message naming this employee is announced by its mention instead.
      if (!mine && !viewing && event.message.kind === 'text' && !mentionsMe(event.message.meta, myId)) {
        notify({
          title: i18n.global.t('rooms.newMessage', { name: event.message.author.name }),
          body: event.message.body.slice(0, 140),
          tag: `room-${event.message.room_id}`,
        })
      }
      refreshSummarySoon()
      return
    }
    case 'mention.created': {
      const mention = event.mention
      useMentionsStore().added(mention)
      // The badge always counts it; the sound and the desktop notice respect do-not-disturb.
      notify({
        title: i18n.global.t('mentions.notice', { name: authorName(mention.message.author, i18n.global.t) }),
        body: mention.message.body.slice(0, 140),
        tag: `mention-${mention.id}`,
      })
      return
    }
    case 'mention.read':
      useMentionsStore().wereRead(event.mention_ids)
      return
    case 'message.updated':
    case 'message.deleted':
      useRoomsStore().putMessage(event.message, me.me?.id ?? 0, true)
      return
    case 'room.read':
      useRoomsStore().readMarkMoved(event.room_id, event.employee_id, event.message_id, me.me?.id ?? 0)
      if (event.employee_id === me.me?.id) refreshSummarySoon()
      return
    case 'typing':
      useRoomsStore().someoneTyping(event.room_id, event.name)
      return
    case 'request.updated': {
      const isNew = useRequestsStore().put(event.request, me.me?.id ?? 0)
      if (isNew) {
        notify({
          title: i18n.global.t('requests.newRequest', { queue: event.request.queue?.name ?? '' }),
          body: event.request.last_message?.body.slice(0, 140) ?? '',
          tag: `request-${event.request.id}`,
        })
      }
      refreshSummarySoon()
      return
    }
    case 'request.taken_back':
      notify({
        title: i18n.global.t(`routing.takenBack.${event.reason}`),
        body: '',
        tag: `request-${event.request_id}`,
      })
      return
    case 'request.removed':
      useRequestsStore().drop(event.request_id)
      refreshSummarySoon()
      return
    case 'request.message': {
      const viewing = isViewing('/requests/', event.request_id)
      useRequestsStore().putMessage(event.request_id, event.message, viewing, me.me?.id ?? 0)
      if (event.message.author.kind === 'client' && !viewing) {
        notify({
          title: i18n.global.t('requests.newMessage', { name: authorName(event.message.author, i18n.global.t) }),
          body: event.message.body.slice(0, 140),
          tag: `request-${event.request_id}`,
        })
        refreshSummarySoon()
      }
      return
    }
    case 'request.client_typing':
      useRequestsStore().clientTyping(event.request_id, event.typing, event.draft)
      return
    case 'request.client_read':
      useRequestsStore().clientRead(event.request_id, event.upto)
      return
    case 'client.updated':
      useRequestsStore().putClient(event.client)
      return
    case 'call.updated':
      useCallsStore().updated(event.call)
      return
    case 'call.signal':
      void useCallsStore().signal(event.call_id, event.data)
      return
    case 'employee.status':
      useAvailabilityStore().changed(event.employee_id, event.status, me.me?.id ?? 0)
      useLiveStore().changed()
      return
    case 'queue.load':
      useLiveStore().changed()
      return
    case 'webhook.disabled':
      useWebhooksStore().switchedOff()
      notify({
        title: i18n.global.t('webhooks.disabledNotice', { url: event.url }),
        body: '',
        tag: `webhook-${event.webhook_id}`,
      })
      return
    default:
      assertNever(event)
  }
}

let summaryTimer: ReturnType<typeof setTimeout> | undefined

/** Section counters come from the server; coalesce bursts of events into one request. */
function refreshSummarySoon(): void {
  clearTimeout(summaryTimer)
  summaryTimer = setTimeout(() => void useMeStore().loadSummary(), 300)
}

function isViewing(prefix: string, id: number): boolean {
  const route = router.currentRoute.value
  return document.visibilityState === 'visible' && route.path === `${prefix}${id}`
}

function isViewingRoom(roomId: number): boolean {
  return isViewing('/employees/', roomId)
}

async function reloadLists(): Promise<void> {
  const rooms = useRoomsStore()
  const requests = useRequestsStore()
  await Promise.all([
    useMeStore().loadSummary(),
    rooms.loaded ? rooms.load() : undefined,
    useMentionsStore().load(),
    // What changed while no socket listened came by no event.
    useLiveStore().changed(),
    // Also while the first load is on its way: it may have been answered before the socket
    // was listening, and what changed in between came by no event.
    requests.load(),
  ])
}

/** Reload everything the workspace shows (after a reset, or a reconnect from too far behind). */
async function reloadState(): Promise<void> {
  const me = useMeStore()
  await Promise.all([
    me.load(),
    me.loadSummary(),
    useRoomsStore().load(),
    useRequestsStore().load(),
    useAvailabilityStore().load(),
    useMentionsStore().load(),
    useLiveStore().changed(),
  ])
}

export function startRealtime(): RealtimeClient {
  client?.stop()
  const me = useMeStore()
  client = new RealtimeClient({
    url: socketUrl('/ws'),
    storageKey: `imp.lastEventId.${me.me?.id ?? 0}`,
    onEvent: (frame) => dispatch(frame as unknown as WorkspaceEvent),
    onReset: () => void reloadState(),
    onReady: (resumed) => {
      // A fresh socket has no history to resume: fetch the lists it could have missed. The
      // employee's own settings were just loaded and change only through events from here on.
      if (!resumed) void reloadLists()
    },
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
