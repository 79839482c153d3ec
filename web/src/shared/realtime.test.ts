import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RealtimeClient } from './realtime'

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
