/** The client's side of a call, shared by the widget and the voice-call window. */
import { ref, shallowRef } from 'vue'
import { CallPeer, localMedia, type CallRead, type SignalData } from '@/shared/call'
import { call as request } from './session'

export function useVisitorCall(token: () => string, send: (frame: Record<string, unknown>) => boolean) {
  const current = ref<CallRead | null>(null)
  const ended = ref<CallRead | null>(null)
  const local = shallowRef<MediaStream | null>(null)
  const remote = shallowRef<MediaStream | null>(null)
  const muted = ref(false)
  const error = ref('')
  let peer: CallPeer | null = null

  function updated(value: CallRead): void {
    if (value.state === 'ended') {
      if (!current.value || current.value.id === value.id) {
        ended.value = value
        close()
      }
      return
    }
    current.value = value
  }

  async function respond(response: 'allow' | 'accept' | 'decline'): Promise<void> {
    if (!current.value) return
    updated(await request<CallRead>('POST', `/api/widget/calls/${current.value.id}/respond`, { response }, token()))
  }

  /** Accept and start sending: microphone, camera, or the screen the browser lets the client pick. */
  async function accept(): Promise<void> {
    const target = current.value
    if (!target) return
    error.value = ''
    let media: MediaStream
    try {
      media = await localMedia(target.kind, 'client')
    } catch {
      error.value = 'media'
      await respond('decline')
      return
    }
    await respond('accept')
    const config = await request<{ ice_servers: RTCIceServer[] }>('GET', '/api/widget/calls/config', undefined, token())
    peer = new CallPeer({
      iceServers: config.ice_servers,
      send: (data) => send({ type: 'call.signal', call_id: target.id, data }),
      onRemoteStream: (stream) => (remote.value = stream),
      onConnected: () => void request('POST', `/api/widget/calls/${target.id}/connected`, undefined, token()),
      onFailed: () => void hangUp(),
    })
    local.value = media
    peer.addLocal(media)
    if (target.kind === 'screen') {
      // Stopping the share from the browser's own control ends it for both sides.
      media.getVideoTracks()[0]?.addEventListener('ended', () => void hangUp())
    }
    window.__impVisitorCall = peer
    await peer.offer()
  }

  async function signal(callId: number, data: SignalData): Promise<void> {
    if (peer && current.value?.id === callId) await peer.handle(data)
  }

  async function toggleMute(): Promise<void> {
    muted.value = !muted.value
    await peer?.setMuted(muted.value)
  }

  async function hangUp(): Promise<void> {
    if (!current.value) return
    updated(await request<CallRead>('POST', `/api/widget/calls/${current.value.id}/hangup`, undefined, token()))
  }

  function close(): void {
    peer?.close()
    peer = null
    current.value = null
    local.value = null
    remote.value = null
    muted.value = false
  }

  return { current, ended, local, remote, muted, error, updated, respond, accept, signal, toggleMute, hangUp }
}

declare global {
  interface Window {
    __impVisitorCall?: CallPeer
  }
}
