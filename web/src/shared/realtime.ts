/**
 * One WebSocket per tab with resume: the client remembers the last event id it saw and sends it
 * on every (re)connect; the server replays what was missed. Ids already seen are ignored,
 * because the server may replay recent events twice.
 */
import { ref, type Ref } from 'vue'

export type RealtimeState = 'connecting' | 'connected' | 'reconnecting' | 'closed'

interface Frame {
  type: string
  id?: number
  [key: string]: unknown
}

export interface RealtimeOptions {
  url: string
  /** Where the last seen id survives a reload of the tab. */
  storageKey: string
  onEvent: (event: Frame & { id: number }) => void
  onReset: () => void
  onClosed: (reason: string) => void
  /** Called once the socket is live; ``resumed`` is false when there was nothing to resume
   * from, so the caller must load current state (events before this point were not sent). */
  onReady?: (resumed: boolean) => void
  /** Extra fields for the hello frame. */
  hello?: () => Record<string, unknown>
  /** Subprotocols to offer: how the widget hands over its token, which in the address would
   * be written to the server's access log. */
  protocols?: () => string[]
}

/** A command's answer (an ``ack`` or ``error`` frame naming its ``ref``) is given up on after
 * this long: the caller then takes another way, made safe by the command's own idempotency. */
export const COMMAND_TIMEOUT_MS = 8_000

/**
 * Why a command got no acknowledgement. ``transient``: no answer came (the socket was not
 * connected, closed before answering, or was silent too long), so the command may or may not
 * have been carried out; otherwise the server refused it with ``code`` and ``detail``.
 */
export class CommandFailed extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly params: Record<string, unknown> = {},
    readonly transient = false,
  ) {
    super(detail)
  }
}

interface PendingCommand {
  resolve: (answer: Frame) => void
  reject: (failure: CommandFailed) => void
  timer: ReturnType<typeof setTimeout>
}

const SILENCE_LIMIT_MS = 45_000
const RECENT_IDS = 500
/** The server is stopping and asks its sockets to come back at once (to another instance). */
const RESTARTING = 'restarting'

export class RealtimeClient {
  readonly state: Ref<RealtimeState> = ref('connecting')
  private socket: WebSocket | null = null
  private lastEventId: number | null
  private recent = new Set<number>()
  private attempts = 0
  private silenceTimer: ReturnType<typeof setTimeout> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private resuming = false
  /** The server said it is restarting: reconnect without waiting, once (see scheduleReconnect). */
  private restartNotice = false
  private reconnectedAtOnce = false
  private pending = new Map<string, PendingCommand>()
  private commandCount = 0
  readonly received: Frame[] = []
  /** Sees every frame, events without an id (typing) included. */
  onFrame: ((frame: Frame) => void) | null = null

  constructor(private options: RealtimeOptions) {
    const stored = readStored(options.storageKey)
    this.lastEventId = stored ? Number(stored) : null
  }

  start(): void {
    this.stopped = false
    this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.silenceTimer)
    clearTimeout(this.retryTimer)
    this.socket?.close(1000, 'bye')
    this.socket = null
    this.state.value = 'closed'
    this.abandonCommands('closed')
  }

  /** Drop the socket as if the network failed (used when the page comes back online). */
  reconnectNow(): void {
    this.socket?.close(4000, 'reconnect')
  }

  send(frame: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false
    this.socket.send(JSON.stringify(frame))
    return true
  }

  /**
   * Send a command that is answered, and await its answer: the ``ack`` frame with the same
   * ``ref`` resolves it, an ``error`` frame with that ``ref`` rejects it with the server's code;
   * no answer (not connected, the socket closed first, or ``timeoutMs`` passed) rejects it as
   * transient.
   */
  command(frame: Record<string, unknown>, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Frame> {
    const socket = this.socket
    if (this.state.value !== 'connected' || socket?.readyState !== WebSocket.OPEN) {
      return Promise.reject(unanswered('not_connected'))
    }
    this.commandCount += 1
    const ref = `c${this.commandCount}`
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref)
        reject(unanswered('timeout'))
      }, timeoutMs)
      this.pending.set(ref, { resolve, reject, timer })
      socket.send(JSON.stringify({ ...frame, ref }))
    })
  }

  /** The answer that settles a pending command, if ``frame`` is one. */
  private settle(frame: Frame): boolean {
    const ref = frame.ref
    const pending = typeof ref === 'string' ? this.pending.get(ref) : undefined
    if (pending === undefined || typeof ref !== 'string') return false
    this.pending.delete(ref)
    clearTimeout(pending.timer)
    if (frame.type === 'ack') {
      pending.resolve(frame)
    } else {
      const params = (frame.params ?? {}) as Record<string, unknown>
      pending.reject(new CommandFailed(String(frame.code ?? ''), String(frame.detail ?? ''), params))
    }
    return true
  }

  /** No answer can come any more: the socket that carried these commands is gone. */
  private abandonCommands(reason: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer)
      pending.reject(unanswered(reason))
    }
    this.pending.clear()
  }

  private connect(): void {
    const resuming = this.lastEventId !== null
    const socket = new WebSocket(this.options.url, this.options.protocols?.())
    this.socket = socket
    socket.onopen = () => {
      this.attempts = 0
      socket.send(
        JSON.stringify({ type: 'hello', last_event_id: this.lastEventId, ...this.options.hello?.() }),
      )
      this.watchSilence()
    }
    socket.onmessage = (message) => {
      if (this.socket === socket) this.resuming = resuming
      this.watchSilence()
      let frame: Frame
      try {
        frame = JSON.parse(String(message.data)) as Frame
      } catch {
        return
      }
      this.handle(frame)
    }
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = null
      this.abandonCommands('closed')
      clearTimeout(this.silenceTimer)
      if (this.stopped) return
      this.state.value = 'reconnecting'
      this.scheduleReconnect()
    }
  }

  private handle(frame: Frame): void {
    this.onFrame?.(frame)
    switch (frame.type) {
      case 'ping':
        this.send({ type: 'pong' })
        return
      case 'ready':
        this.state.value = 'connected'
        this.restartNotice = false
        this.reconnectedAtOnce = false
        if (typeof frame.last_event_id === 'number') this.remember(frame.last_event_id, false)
        this.options.onReady?.(this.resuming)
        return
      case 'reset':
        this.recent.clear()
        this.options.onReset()
        return
      case 'closed':
        if (frame.reason === RESTARTING) {
          // Not an ending: the socket closes next and the client resumes from its last event.
          this.restartNotice = true
          return
        }
        this.stopped = true
        this.state.value = 'closed'
        this.options.onClosed(String(frame.reason ?? ''))
        return
      case 'ack':
      case 'error':
        this.settle(frame)
        return
    }
    if (typeof frame.id === 'number') {
      if (this.recent.has(frame.id)) return
      this.remember(frame.id, true)
    }
    this.received.push(frame)
    if (this.received.length > 200) this.received.shift()
    this.options.onEvent(frame as Frame & { id: number })
  }

  private remember(id: number, seen: boolean): void {
    if (seen) {
      this.recent.add(id)
      if (this.recent.size > RECENT_IDS) {
        const oldest = this.recent.values().next().value
        if (oldest !== undefined) this.recent.delete(oldest)
      }
    }
    if (this.lastEventId === null || id > this.lastEventId) {
      this.lastEventId = id
      writeStored(this.options.storageKey, String(id))
    }
  }

  private watchSilence(): void {
    clearTimeout(this.silenceTimer)
    // The server pings every 20 s; this long without a frame means the connection is dead.
    this.silenceTimer = setTimeout(() => this.socket?.close(4000, 'silent'), SILENCE_LIMIT_MS)
  }

  private scheduleReconnect(): void {
    if (this.restartNotice && !this.reconnectedAtOnce) {
      // The first try goes at once; should it land on a server that is stopping too (the
      // balancer has not noticed yet) the usual back-off applies from then on.
      this.reconnectedAtOnce = true
      this.connect()
      return
    }
    const base = Math.min(10_000, 500 * 2 ** this.attempts)
    this.attempts += 1
    const delay = base / 2 + Math.random() * (base / 2)
    this.retryTimer = setTimeout(() => this.connect(), delay)
  }
}

function unanswered(reason: string): CommandFailed {
  return new CommandFailed(reason, `No answer over the connection (${reason}).`, {}, true)
}

export function socketUrl(path: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}${path}`
}

// The widget runs in an iframe from IMP's address; browsers that block third-party storage throw
// on any use of it. The resume point then lives only as long as the page.
function readStored(key: string): string | null {
  try {
    return sessionStorage.getItem(key)
  } catch {
    return null
  }
}

function writeStored(key: string, value: string): void {
  try {
    sessionStorage.setItem(key, value)
  } catch {
    // Storage blocked: see readStored.
  }
}
