import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { AttachmentRead, ClientRead, MessageRead, RequestCard } from '@/shared/types'
import { countsAsUnread } from '../conversation/unread'

const PAGE = 50

export const useRequestsStore = defineStore('requests', () => {
  const queue = ref<RequestCard[]>([])
  const mine = ref<RequestCard[]>([])
  const messages = ref<Record<number, MessageRead[]>>({})
  const hasOlder = ref<Record<number, boolean>>({})
  const clients = ref<Record<number, ClientRead>>({})
  const loaded = ref(false)
  // What the client of each held request is typing now (null: typing, unseen), until they
  // stop, send it, or go quiet for a while (a lost "stopped" must not leave it showing).
  const typing = ref<Record<number, string | null>>({})
  const typingTimers: Record<number, ReturnType<typeof setTimeout>> = {}
  const TYPING_SHOWN_MS = 8000
  // The newest message this employee's read mark is known to cover, per request: a read
  // mark is sent whenever what they have seen goes past it, not only when a counter shows.
  const readUpTo: Record<number, number> = {}

  // The lists come from the server while events keep arriving: an event that lands while a
  // load is on its way may be newer than what the load will return (it was queried before the
  // change committed), so every change applied meanwhile is applied again on top of the
  // loaded lists. Events arrive in order, so replaying them in order converges.
  let loading: Promise<void> | null = null
  let loadAgain = false
  let appliedDuringLoad: (() => void)[] | null = null

  function apply(change: () => void): void {
    change()
    appliedDuringLoad?.push(change)
  }

  async function fetchLists(): Promise<void> {
    do {
      loadAgain = false
      appliedDuringLoad = []
      const [waiting, assigned] = await Promise.all([
        api.get<RequestCard[]>('/api/requests/queue'),
        api.get<RequestCard[]>('/api/requests/mine'),
      ])
      const replay = appliedDuringLoad
      appliedDuringLoad = null
      queue.value = waiting
      mine.value = assigned
      for (const change of replay) change()
    } while (loadAgain)
    loaded.value = true
  }

  /**
   * Resolves once the lists have come from the server. A card can be known earlier, from an event
   * replayed when the socket resumes, with counters that event alone cannot tell (how much of it
   * this employee has read): only the list says.
   */
  function whenLoaded(): Promise<void> {
    return loaded.value ? Promise.resolve() : (loading ?? load())
  }

  /** (Re)load both lists; a call during a load makes that load run once more when done. */
  function load(): Promise<void> {
    if (loading) {
      loadAgain = true
      return loading
    }
    loading = fetchLists().finally(() => {
      loading = null
      appliedDuringLoad = null
    })
    return loading
  }

  function dropNow(requestId: number): void {
    queue.value = queue.value.filter((r) => r.id !== requestId)
    mine.value = mine.value.filter((r) => r.id !== requestId)
  }

  function drop(requestId: number): void {
    apply(() => dropNow(requestId))
  }

  /** No longer mine; whether it waits somewhere I serve is for the server's event to say. */
  function release(requestId: number): void {
    apply(() => (mine.value = mine.value.filter((r) => r.id !== requestId)))
  }

  function putNow(card: RequestCard, myId: number): boolean {
    const wasQueued = queue.value.some((r) => r.id === card.id)
    const known = mine.value.find((r) => r.id === card.id)
    // A card sent without its tags (a client's new message changes none) keeps those known.
    if (card.tags == null) card = { ...card, tags: (known ?? queue.value.find((r) => r.id === card.id))?.tags ?? [] }
    dropNow(card.id)
    if (card.status === 'waiting') {
      queue.value.push(card)
      queue.value.sort((a, b) => (a.waiting_since ?? '').localeCompare(b.waiting_since ?? '') || a.id - b.id)
      return !wasQueued
    }
    if (card.status === 'assigned' && card.assignee?.id === myId) {
      mine.value.push({ ...card, unread: known?.unread ?? card.unread })
    }
    return false
  }

  /** Returns true when the request is new in this employee's Queue. */
  function put(card: RequestCard, myId: number): boolean {
    const isNew = putNow(card, myId)
    appliedDuringLoad?.push(() => putNow(card, myId))
    return isNew
  }

  function find(requestId: number): RequestCard | undefined {
    return mine.value.find((r) => r.id === requestId) ?? queue.value.find((r) => r.id === requestId)
  }

  async function loadMessages(requestId: number): Promise<void> {
    const page = await api.get<MessageRead[]>(`/api/requests/${requestId}/messages?limit=${PAGE}`)
    // Messages that arrived by event while the page was on its way stay.
    const arrived = (messages.value[requestId] ?? []).filter((m) => m.id > (page.at(-1)?.id ?? 0))
    messages.value[requestId] = [...page, ...arrived]
    hasOlder.value[requestId] = page.length === PAGE
  }

  async function loadOlder(requestId: number): Promise<void> {
    const current = messages.value[requestId] ?? []
    const oldest = current[0]?.id
    if (!oldest) return
    const page = await api.get<MessageRead[]>(`/api/requests/${requestId}/messages?limit=${PAGE}&before_id=${oldest}`)
    messages.value[requestId] = [...page, ...(messages.value[requestId] ?? [])]
    hasOlder.value[requestId] = page.length === PAGE
  }

  function putCardMessage(requestId: number, message: MessageRead, viewing: boolean, myId: number): void {
    const card = find(requestId)
    if (!card || message.kind !== 'text') return
    // A card loaded after this message was written already has it (and counts it).
    if (card.last_message && card.last_message.id >= message.id) return
    card.last_message = message
    if (!viewing && countsAsUnread(message, myId)) card.unread += 1
    // The wait the card shows, as the server keeps it: a reply ends it, the client's next
    // message starts a new one.
    if (message.author.kind === 'employee') card.awaiting_reply_since = null
    else if (message.author.kind === 'client') card.awaiting_reply_since ??= message.created_at
  }

  function putMessage(requestId: number, message: MessageRead, viewing: boolean, myId = 0): void {
    const list = messages.value[requestId]
    const index = list?.findIndex((m) => m.id === message.id) ?? -1
    // A known id is an update of that message (e.g. its delivery to a messenger failed).
    if (list && index >= 0) list[index] = message
    else if (list) list.push(message)
    // What they were typing has arrived.
    if (message.author.kind === 'client') clientTyping(requestId, false, null)
    apply(() => putCardMessage(requestId, message, viewing, myId))
  }

  // How many times each client's data was replaced: a load that was on its way while a newer
  // copy arrived (a contact just saved, an event) must not put the older copy back.
  const clientVersions: Record<number, number> = {}

  async function loadClient(clientId: number): Promise<void> {
    const before = clientVersions[clientId] ?? 0
    const client = await api.get<ClientRead>(`/api/clients/${clientId}`)
    if ((clientVersions[clientId] ?? 0) === before) putClient(client)
  }

  function putClient(client: ClientRead): void {
    clientVersions[client.id] = (clientVersions[client.id] ?? 0) + 1
    clients.value[client.id] = client
    // Cards name the client too: a rename (or a block) by a colleague shows on them at once,
    // and in order with request events replayed after a reload.
    apply(() => nameOnCards(client))
  }

  function nameOnCards(client: ClientRead): void {
    for (const card of [...queue.value, ...mine.value]) {
      if (card.client.id === client.id) card.client = { ...card.client, name: client.display_name, is_blocked: client.is_blocked }
    }
  }

  /** The assignee has seen the history up to ``messageId``: move the server's read mark. */
  async function markRead(requestId: number, messageId: number): Promise<void> {
    const card = mine.value.find((r) => r.id === requestId)
    if (!card || messageId <= (readUpTo[requestId] ?? 0)) return
    readUpTo[requestId] = messageId
    card.unread = 0
    await api.post(`/api/requests/${requestId}/read`, { message_id: messageId })
  }

  function clientTyping(requestId: number, isTyping: boolean, draft: string | null): void {
    clearTimeout(typingTimers[requestId])
    if (!isTyping) {
      delete typing.value[requestId]
      return
    }
    typing.value[requestId] = draft
    typingTimers[requestId] = setTimeout(() => delete typing.value[requestId], TYPING_SHOWN_MS)
  }

  /** The client has seen the conversation up to ``upto``: the employee's messages show as read. */
  function clientRead(requestId: number, upto: number): void {
    apply(() => {
      const card = find(requestId)
      if (card && upto > card.client_read_upto) card.client_read_upto = upto
    })
  }

  async function upload(file: File): Promise<AttachmentRead> {
    const form = new FormData()
    form.append('file', file)
    return api.post<AttachmentRead>('/api/files', form)
  }

  return {
    queue,
    mine,
    messages,
    hasOlder,
    clients,
    loaded,
    load,
    whenLoaded,
    drop,
    release,
    put,
    find,
    loadMessages,
    loadOlder,
    putMessage,
    loadClient,
    putClient,
    markRead,
    typing,
    clientTyping,
    clientRead,
    upload,
  }
})
