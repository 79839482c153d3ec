import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/shared/api'
import type { AttachmentRead, EmployeeBrief, MessageRead, RoomRead } from '@/shared/types'
import { countsAsUnread } from '../conversation/unread'

const PAGE = 50
const TYPING_SHOWN_MS = 5000

export const useRoomsStore = defineStore('rooms', () => {
  const rooms = ref<RoomRead[]>([])
  const messages = ref<Record<number, MessageRead[]>>({})
  const hasOlder = ref<Record<number, boolean>>({})
  const typing = ref<Record<number, { name: string; until: number }[]>>({})
  const colleagues = ref<EmployeeBrief[]>([])
  const loaded = ref(false)

  const sorted = computed(() =>
    [...rooms.value].sort((a, b) =>
      (b.last_message?.created_at ?? b.created_at).localeCompare(a.last_message?.created_at ?? a.created_at),
    ),
  )

  let firstLoad: Promise<void> | null = null

  async function load(): Promise<void> {
    const loading = (async () => {
      ;[rooms.value, colleagues.value] = await Promise.all([
        api.get<RoomRead[]>('/api/rooms'),
        api.get<EmployeeBrief[]>('/api/employees'),
      ])
      loaded.value = true
    })()
    firstLoad ??= loading
    await loading
  }

  /**
   * Resolves once the room list has come from the server. A room can be known earlier, from an
   * event replayed when the socket connects, but with the read marks of that moment (its creation,
   * say): where a reader stopped is only known from the list.
   */
  function whenLoaded(): Promise<void> {
    return loaded.value ? Promise.resolve() : (firstLoad ??= load())
  }

  function room(id: number): RoomRead | undefined {
    return rooms.value.find((r) => r.id === id)
  }

  async function loadMessages(roomId: number): Promise<void> {
    const page = await api.get<MessageRead[]>(`/api/rooms/${roomId}/messages?limit=${PAGE}`)
    // Messages that arrived by event while the page was on its way stay.
    const arrived = (messages.value[roomId] ?? []).filter((m) => m.id > (page.at(-1)?.id ?? 0))
    messages.value[roomId] = [...page, ...arrived]
    hasOlder.value[roomId] = page.length === PAGE
  }

  async function loadOlder(roomId: number): Promise<void> {
    const current = messages.value[roomId] ?? []
    const before = current[0]?.id
    if (!before) return
    const page = await api.get<MessageRead[]>(`/api/rooms/${roomId}/messages?limit=${PAGE}&before_id=${before}`)
    messages.value[roomId] = [...page, ...current]
    hasOlder.value[roomId] = page.length === PAGE
  }

  function upsertRoom(value: RoomRead): void {
    const index = rooms.value.findIndex((r) => r.id === value.id)
    if (index < 0) {
      rooms.value.push(value)
      return
    }
    const current = rooms.value[index]
    // Read marks only move forward: an event replayed on reconnect (a room's creation, say) can
    // arrive after the list was loaded, and must not take a read history back to its start.
    const marks = new Map(current.members.map((m) => [m.id, m.last_read_message_id]))
    const members = value.members.map((m) => ({
      ...m,
      last_read_message_id: Math.max(m.last_read_message_id, marks.get(m.id) ?? 0),
    }))
    // Broadcast room events carry no per-person unread count: keep ours.
    rooms.value[index] = { ...value, members, unread: current.unread }
  }

  function removeRoom(roomId: number): void {
    rooms.value = rooms.value.filter((r) => r.id !== roomId)
    delete messages.value[roomId]
  }

  function putMessage(message: MessageRead, myId: number, viewing: boolean): void {
    const list = messages.value[message.room_id]
    if (list) {
      const index = list.findIndex((m) => m.id === message.id)
      if (index >= 0) list[index] = message
      else list.push(message)
    }
    const target = room(message.room_id)
    if (target && (!target.last_message || target.last_message.id <= message.id)) {
      target.last_message = message
      if (countsAsUnread(message, myId) && !viewing) target.unread += 1
    }
    const people = typing.value[message.room_id]
    if (people) typing.value[message.room_id] = people.filter((p) => p.name !== message.author.name)
  }

  function readMarkMoved(roomId: number, employeeId: number, messageId: number, myId: number): void {
    const target = room(roomId)
    if (!target) return
    const member = target.members.find((m) => m.id === employeeId)
    if (member) member.last_read_message_id = Math.max(member.last_read_message_id, messageId)
    if (employeeId === myId) {
      const list = messages.value[roomId] ?? []
      target.unread = list.filter((m) => m.id > messageId && countsAsUnread(m, myId)).length
      if (!list.length && target.last_message && target.last_message.id <= messageId) target.unread = 0
    }
  }

  function someoneTyping(roomId: number, name: string): void {
    const now = Date.now()
    const others = (typing.value[roomId] ?? []).filter((p) => p.name !== name && p.until > now)
    typing.value[roomId] = [...others, { name, until: now + TYPING_SHOWN_MS }]
    setTimeout(() => {
      typing.value[roomId] = (typing.value[roomId] ?? []).filter((p) => p.until > Date.now())
    }, TYPING_SHOWN_MS + 50)
  }

  // The newest message a read mark was sent for, per room: marks move whenever the reader has
  // seen past them, not only when a counter shows (a message read as it arrives counts too).
  const readUpTo: Record<number, number> = {}

  async function markRead(roomId: number, messageId: number, myId: number): Promise<void> {
    const target = room(roomId)
    const known = target?.members.find((m) => m.id === myId)?.last_read_message_id ?? 0
    if (!target || messageId <= Math.max(known, readUpTo[roomId] ?? 0)) return
    readUpTo[roomId] = messageId
    target.unread = 0
    await api.post(`/api/rooms/${roomId}/read`, { message_id: messageId })
  }

  async function upload(file: File): Promise<AttachmentRead> {
    const form = new FormData()
    form.append('file', file)
    return api.post<AttachmentRead>('/api/files', form)
  }

  return {
    rooms,
    sorted,
    messages,
    hasOlder,
    typing,
    colleagues,
    loaded,
    load,
    whenLoaded,
    room,
    loadMessages,
    loadOlder,
    upsertRoom,
    removeRoom,
    putMessage,
    readMarkMoved,
    someoneTyping,
    markRead,
    upload,
  }
})
