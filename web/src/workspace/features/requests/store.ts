import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { AttachmentRead, ClientRead, MessageRead, RequestCard } from '@/shared/types'

export const useRequestsStore = defineStore('requests', () => {
  const queue = ref<RequestCard[]>([])
  const mine = ref<RequestCard[]>([])
  const messages = ref<Record<number, MessageRead[]>>({})
  const clients = ref<Record<number, ClientRead>>({})
  const loaded = ref(false)

  async function load(): Promise<void> {
    ;[queue.value, mine.value] = await Promise.all([
      api.get<RequestCard[]>('/api/requests/queue'),
      api.get<RequestCard[]>('/api/requests/mine'),
    ])
    loaded.value = true
  }

  function drop(requestId: number): void {
    queue.value = queue.value.filter((r) => r.id !== requestId)
    mine.value = mine.value.filter((r) => r.id !== requestId)
  }

  /** No longer mine; whether it waits somewhere I serve is for the server's event to say. */
  function release(requestId: number): void {
    mine.value = mine.value.filter((r) => r.id !== requestId)
  }

  /** Returns true when the request is new in this employee's Queue. */
  function put(card: RequestCard, myId: number): boolean {
    const wasQueued = queue.value.some((r) => r.id === card.id)
    const known = mine.value.find((r) => r.id === card.id)
    drop(card.id)
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

  function find(requestId: number): RequestCard | undefined {
    return mine.value.find((r) => r.id === requestId) ?? queue.value.find((r) => r.id === requestId)
  }

  async function loadMessages(requestId: number): Promise<void> {
    messages.value[requestId] = await api.get<MessageRead[]>(`/api/requests/${requestId}/messages?limit=100`)
  }

  function putMessage(requestId: number, message: MessageRead, viewing: boolean): void {
    const list = messages.value[requestId]
    const index = list?.findIndex((m) => m.id === message.id) ?? -1
    // A known id is an update of that message (e.g. its delivery to a messenger failed).
    if (list && index >= 0) list[index] = message
    else if (list) list.push(message)
    const card = find(requestId)
    if (card) {
      card.last_message = message
      if (!viewing && message.author.kind === 'client') card.unread += 1
    }
  }

  async function loadClient(clientId: number): Promise<void> {
    clients.value[clientId] = await api.get<ClientRead>(`/api/clients/${clientId}`)
  }

  function putClient(client: ClientRead): void {
    clients.value[client.id] = client
  }

  async function markRead(requestId: number): Promise<void> {
    const card = mine.value.find((r) => r.id === requestId)
    const last = messages.value[requestId]?.at(-1)?.id
    if (!card || !last || card.unread === 0) return
    card.unread = 0
    await api.post(`/api/requests/${requestId}/read`, { message_id: last })
  }

  async function upload(file: File): Promise<AttachmentRead> {
    const form = new FormData()
    form.append('file', file)
    return api.post<AttachmentRead>('/api/files', form)
  }

  return { queue, mine, messages, clients, loaded, load, drop, release, put, find, loadMessages, putMessage, loadClient, putClient, markRead, upload }
})
