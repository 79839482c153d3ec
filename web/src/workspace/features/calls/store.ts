import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api } from '@/shared/api'
import { CallPeer, localMedia, type CallKind, type CallRead, type SignalData } from '@/shared/call'
import { isQuiet, startRinging, stopRinging } from '@/shared/notifications'
import { realtimeClient } from '../../dispatcher'

/** The employee's side of the current call (one at a time), and the clients' calls ringing. */
export const useCallsStore = defineStore('calls', () => {
  const call = ref<CallRead | null>(null)
  const lastEnded = ref<CallRead | null>(null)
  const remote = shallowRef<MediaStream | null>(null)
  // The client's screen shown during a voice or video call: a stream of its own, after the call's.
  const remoteScreen = shallowRef<MediaStream | null>(null)
  const muted = ref(false)
  const error = ref('')
  // Clients' calls ringing for this employee, in every tab of theirs until one answers.
  const incoming = ref<CallRead[]>([])
  let peer: CallPeer | null = null
  // Calls started or answered in this tab: another tab of the same employee must not take part.
  const startedHere = new Set<number>()
  let preparing: Promise<CallPeer> | null = null

  async function start(requestId: number, kind: CallKind): Promise<void> {
    error.value = ''
    lastEnded.value = null
    const created = await api.post<CallRead>(`/api/requests/${requestId}/calls`, { kind })
    startedHere.add(created.id)
    call.value = created
    // Co-browsing shows the client's page in a window of its own (opened within the click).
    if (kind === 'cobrowse') window.open(`/cobrowse/${created.id}`, `imp-cobrowse-${created.id}`, 'width=1280,height=860')
  }

  function ensurePeer(current: CallRead): Promise<CallPeer> {
    preparing ??= (async () => {
      const config = await api.get<{ ice_servers: RTCIceServer[] }>('/api/calls/config')
      const created = new CallPeer({
        iceServers: config.ice_servers,
        send: (data) => realtimeClient()?.send({ type: 'call.signal', call_id: current.id, data }),
        onRemoteStream: (stream) => {
          if (!remote.value || remote.value.id === stream.id) remote.value = stream
          else remoteScreen.value = stream
        },
        onConnected: () => void api.post(`/api/calls/${current.id}/connected`),
        onFailed: () => void hangUp(),
      })
      created.addLocal(await localMedia(current.kind, 'employee'))
      if (current.kind !== 'voice') created.receive('video')
      peer = created
      window.__impCall = created
      return created
    })()
    return preparing
  }

  /** Answer a client's call. The tab that accepts owns it; the others stop ringing as the
   * call's new state reaches them. */
  async function answer(value: CallRead, response: 'accept' | 'decline'): Promise<void> {
    error.value = ''
    // Owned before the answer goes out: the call's new state may arrive before the reply does.
    if (response === 'accept') {
      startedHere.add(value.id)
      lastEnded.value = null
    }
    forget(value.id)
    try {
      const answered = await api.post<CallRead>(`/api/calls/${value.id}/answer`, { response })
      updated(answered)
    } catch (e) {
      startedHere.delete(value.id)
      throw e
    }
  }

  function forget(callId: number): void {
    incoming.value = incoming.value.filter((c) => c.id !== callId)
    if (!incoming.value.length) stopRinging()
  }

  function updated(value: CallRead): void {
    if (value.started_by === 'client' && !startedHere.has(value.id)) {
      if (value.state !== 'ringing') {
        forget(value.id)
      } else if (!incoming.value.some((c) => c.id === value.id)) {
        incoming.value.push(value)
        // Do-not-disturb: the server rings no one then; a tab that has not heard yet stays silent.
        if (!isQuiet()) startRinging()
      }
      return
    }
    if (!startedHere.has(value.id)) return
    if (value.state === 'ended') {
      if (call.value?.id === value.id || !call.value) {
        lastEnded.value = value
        reset()
      }
      return
    }
    call.value = value
    if (!value.screen) remoteScreen.value = null
    if (value.state === 'accepted' && value.kind !== 'cobrowse') void ensurePeer(value)
  }

  async function signal(callId: number, data: SignalData): Promise<void> {
    if (!call.value || call.value.id !== callId) return
    const target = await ensurePeer(call.value)
    await target.handle(data)
  }

  /** Ask to see the client's screen during the call, or stop seeing it. What becomes of it
   * comes by the call's events, in the order it happened (the answer may overtake them). */
  async function screen(action: 'ask' | 'stop'): Promise<void> {
    const current = call.value
    if (!current) return
    await api.post<CallRead>(`/api/calls/${current.id}/screen`, { action })
  }

  async function toggleMute(): Promise<void> {
    muted.value = !muted.value
    await peer?.setMuted(muted.value)
  }

  async function hangUp(): Promise<void> {
    const current = call.value
    if (!current) return
    await api.post(`/api/calls/${current.id}/hangup`).catch(() => undefined)
  }

  function reset(): void {
    peer?.close()
    peer = null
    preparing = null
    call.value = null
    remote.value = null
    remoteScreen.value = null
    muted.value = false
  }

  return {
    call,
    lastEnded,
    remote,
    remoteScreen,
    muted,
    error,
    incoming,
    start,
    answer,
    updated,
    signal,
    screen,
    toggleMute,
    hangUp,
  }
})

declare global {
  interface Window {
    __impCall?: CallPeer
  }
}
