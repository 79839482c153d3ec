import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api } from '@/shared/api'
import { CallPeer, localMedia, type CallKind, type CallRead, type SignalData } from '@/shared/call'
import { realtimeClient } from '../../dispatcher'

/** The employee's side of the current call (one at a time). */
export const useCallsStore = defineStore('calls', () => {
  const call = ref<CallRead | null>(null)
  const lastEnded = ref<CallRead | null>(null)
  const remote = shallowRef<MediaStream | null>(null)
  const muted = ref(false)
  const error = ref('')
  let peer: CallPeer | null = null
  // Calls started in this tab: another tab of the same employee must not answer them too.
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
        onRemoteStream: (stream) => (remote.value = stream),
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

  function updated(value: CallRead): void {
    if (!startedHere.has(value.id)) return
    if (value.state === 'ended') {
      if (call.value?.id === value.id || !call.value) {
        lastEnded.value = value
        reset()
      }
      return
    }
    call.value = value
    if (value.state === 'accepted' && value.kind !== 'cobrowse') void ensurePeer(value)
  }

  async function signal(callId: number, data: SignalData): Promise<void> {
    if (!call.value || call.value.id !== callId) return
    const target = await ensurePeer(call.value)
    await target.handle(data)
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
    muted.value = false
  }

  return { call, lastEnded, remote, muted, error, start, updated, signal, toggleMute, hangUp }
})

declare global {
  interface Window {
    __impCall?: CallPeer
  }
}
