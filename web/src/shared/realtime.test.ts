import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CommandFailed, RealtimeClient } from './realtime'

/** A socket the test drives: it opens, receives frames and closes when the test says. */
class FakeSocket {
  static OPEN = 1
  static opened: FakeSocket[] = []
  readyState = 0
  sent: Record<string, unknown>[] = []
  onopen: (() => void) | null = null
  onmessage: ((message: { data: string }) => void) | null = null
  onclose: (() => void) | null = null

  constructor(public url: string) {
    FakeSocket.opened.push(this)
  }

  send(text: string): void {
    this.sent.push(JSON.parse(text) as Record<string, unknown>)
  }

  close(): void {
    this.serverCloses()
  }

  open(): void {
    this.readyState = FakeSocket.OPEN
    this.onopen?.()
  }

  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }

  serverCloses(): void {
    this.readyState = 3
    this.onclose?.()
  }
}

function connectedClient(onClosed = vi.fn()): { client: RealtimeClient; socket: FakeSocket } {
  const client = new RealtimeClient({
    url: 'ws://imp.test/ws',
    storageKey: `test-${Math.random()}`,
    onEvent: () => undefined,
    onReset: () => undefined,
    onClosed,
  })
  client.start()
  const socket = FakeSocket.opened.at(-1)!
  socket.open()
  socket.receive({ type: 'ready', last_event_id: 5 })
  socket.receive({ id: 7, type: 'message.created' })
  return { client, socket }
}

describe('RealtimeClient when the server restarts', () => {
  beforeEach(() => {
    FakeSocket.opened = []
    vi.stubGlobal('WebSocket', FakeSocket)
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('reconnects at once on the restarting notice and resumes from its last event', () => {
    const onClosed = vi.fn()
    const { client, socket } = connectedClient(onClosed)
    socket.receive({ type: 'closed', reason: 'restarting' })
    socket.serverCloses()
    // No timer has run: the new socket was opened straight away.
    expect(FakeSocket.opened).toHaveLength(2)
    const next = FakeSocket.opened[1]
    next.open()
    expect(next.sent[0]).toEqual({ type: 'hello', last_event_id: 7 })
    expect(onClosed).not.toHaveBeenCalled()
    expect(client.state.value).toBe('reconnecting')
    client.stop()
  })

  it('waits before reconnecting after a drop without notice', () => {
    const { client, socket } = connectedClient()
    socket.serverCloses()
    expect(FakeSocket.opened).toHaveLength(1)
    vi.advanceTimersByTime(1000)
    expect(FakeSocket.opened).toHaveLength(2)
    client.stop()
  })

  it('backs off when the next server is stopping too', () => {
    const { client, socket } = connectedClient()
    socket.receive({ type: 'closed', reason: 'restarting' })
    socket.serverCloses()
    const second = FakeSocket.opened[1]
    second.open()
    second.receive({ type: 'closed', reason: 'restarting' })
    second.serverCloses()
    expect(FakeSocket.opened).toHaveLength(2)
    vi.advanceTimersByTime(1000)
    expect(FakeSocket.opened).toHaveLength(3)
    client.stop()
  })

  it('still ends for good on other closing notices', () => {
    const onClosed = vi.fn()
    const { client, socket } = connectedClient(onClosed)
    socket.receive({ type: 'closed', reason: 'session_revoked' })
    socket.serverCloses()
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.opened).toHaveLength(1)
    expect(onClosed).toHaveBeenCalledWith('session_revoked')
    expect(client.state.value).toBe('closed')
  })
})

describe('RealtimeClient commands', () => {
  beforeEach(() => {
    FakeSocket.opened = []
    vi.stubGlobal('WebSocket', FakeSocket)
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('resolves each command with the ack naming its ref, whatever order the acks come in', async () => {
    const { client, socket } = connectedClient()
    const first = client.command({ type: 'room.send', room_id: 1, body: 'one' })
    const second = client.command({ type: 'room.send', room_id: 1, body: 'two' })
    const [sentFirst, sentSecond] = socket.sent.slice(-2)
    expect(sentFirst).toMatchObject({ type: 'room.send', room_id: 1, body: 'one' })
    expect(typeof sentFirst.ref).toBe('string')
    expect(sentSecond.ref).not.toBe(sentFirst.ref)
    // Frames for someone else and events in between settle nothing.
    socket.receive({ type: 'ack', ref: 'not-mine', created: true, message: { id: 0 } })
    socket.receive({ id: 8, type: 'message.created' })
    socket.receive({ type: 'ack', ref: sentSecond.ref, created: true, message: { id: 12 } })
    socket.receive({ type: 'ack', ref: sentFirst.ref, created: false, message: { id: 11 } })
    await expect(first).resolves.toMatchObject({ created: false, message: { id: 11 } })
    await expect(second).resolves.toMatchObject({ created: true, message: { id: 12 } })
    client.stop()
  })

  it('rejects with the code and detail of the error naming its ref', async () => {
    const { client, socket } = connectedClient()
    const sent = client.command({ type: 'room.send', room_id: 99 })
    const ref = socket.sent.at(-1)!.ref
    socket.receive({ type: 'error', code: 'room_not_found', detail: 'Room not found.', command: 'room.send', ref })
    const failure = await sent.catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(CommandFailed)
    expect(failure).toMatchObject({ code: 'room_not_found', detail: 'Room not found.', transient: false })
    client.stop()
  })

  it('rejects as transient when the socket closes before the answer, and does not wait on', async () => {
    const { client, socket } = connectedClient()
    const sent = client.command({ type: 'room.send', room_id: 1 })
    const ref = socket.sent.at(-1)!.ref
    socket.serverCloses()
    await expect(sent).rejects.toMatchObject({ code: 'closed', transient: true })
    // An answer can no longer arrive on that socket; one on the next settles nothing twice.
    vi.advanceTimersByTime(1000)
    const next = FakeSocket.opened[1]
    next.open()
    next.receive({ type: 'ack', ref, created: true, message: { id: 1 } })
    client.stop()
  })

  it('rejects as transient after the timeout when no answer comes', async () => {
    const { client } = connectedClient()
    const sent = client.command({ type: 'room.send', room_id: 1 }, 3000)
    const outcome = sent.catch((e: unknown) => e)
    vi.advanceTimersByTime(2999)
    let settled = false
    void outcome.then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    vi.advanceTimersByTime(1)
    expect(await outcome).toMatchObject({ code: 'timeout', transient: true })
    client.stop()
  })

  it('rejects at once as transient while not connected, sending nothing', async () => {
    const client = new RealtimeClient({
      url: 'ws://imp.test/ws',
      storageKey: `test-${Math.random()}`,
      onEvent: () => undefined,
      onReset: () => undefined,
      onClosed: () => undefined,
    })
    client.start()
    const socket = FakeSocket.opened.at(-1)!
    socket.open()
    // Open, but not yet ready: the server has not taken the hello.
    await expect(client.command({ type: 'room.send' })).rejects.toMatchObject({ code: 'not_connected', transient: true })
    expect(socket.sent.map((f) => f.type)).toEqual(['hello'])
    client.stop()
    await expect(client.command({ type: 'room.send' })).rejects.toMatchObject({ transient: true })
  })

  it('rejects what is pending when the client stops', async () => {
    const { client } = connectedClient()
    const sent = client.command({ type: 'room.send', room_id: 1 })
    client.stop()
    await expect(sent).rejects.toMatchObject({ code: 'closed', transient: true })
  })
})
