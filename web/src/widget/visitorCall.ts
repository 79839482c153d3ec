/** The client's side of a call, shared by the widget and the voice-call window. */
import { ref, shallowRef } from 'vue'
import { ApiError } from '@/shared/api'
import { CallPeer, localMedia, type CallRead, type SignalData } from '@/shared/call'
import { call as request } from './session'

export function useVisitorCall(token: () => string, send: (frame: Record<string, unknown>) => boolean) {
  const current = ref<CallRead | null>(null)
  const ended = ref<CallRead | null>(null)
  const local = shallowRef<MediaStream | null>(null)
  const remote = shallowRef<MediaStream | null>(null)
  const muted = ref(false)
  // The client's screen shown during the call, on the call's own connection.
  const screen = shallowRef<MediaStream | null>(null)
  // 'media': no camera, microphone or screen; otherwise the server's refusal, in words.
  const error = ref('')
  let peer: CallPeer | null = null
  // Calls the client started in this page: another page of the same client hears of them too,
  // but only the page holding the microphone and camera sets up the media.
  const dialledHere = new Set<number>()

  function updated(value: CallRead): void {
    if (value.started_by === 'client' && !dialledHere.has(value.id)) return
    if (value.state === 'ended') {
      if (!current.value || current.value.id === value.id) {
        ended.value = value
        close()
      }
      return
    }
    current.value = value
    // Stopped by the employee, or by this client in another way: the screen stops going out.
    if (!value.screen && screen.value) {
      screen.value = null
      void peer?.removeScreen()
    }
    // The employee answered the client's call: the client, who holds the media, makes the offer.
    if (value.started_by === 'client' && value.state === 'accepted' && !peer && local.value) {
      void connect(value, local.value)
    }
  }

  async function respond(response: 'allow' | 'accept' | 'decline'): Promise<void> {
    if (!current.value) return
    updated(await request<CallRead>('POST', `/api/widget/calls/${current.value.id}/respond`, { response }, token()))
  }

  /** The client calls the employee: microphone (and camera) first, then the call rings.
   * Returns the server's refusal code, if it refused. */
  async function dial(kind: 'voice' | 'video'): Promise<string | null> {
    error.value = ''
    ended.value = null
    let media: MediaStream
    try {
      media = await localMedia(kind, 'client')
    } catch {
      error.value = 'media'
      return null
    }
    try {
      const started = await request<CallRead>('POST', '/api/widget/calls', { kind }, token())
      dialledHere.add(started.id)
      local.value = media
      updated(started)
      return null
    } catch (e) {
      for (const track of media.getTracks()) track.stop()
      error.value = e instanceof ApiError ? e.detail : String(e)
      return e instanceof ApiError ? e.code : null
    }
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
    local.value = media
    await connect(target, media)
  }

  async function connect(target: CallRead, media: MediaStream): Promise<void> {
    const config = await request<{ ice_servers: RTCIceServer[] }>('GET', '/api/widget/calls/config', undefined, token())
    peer = new CallPeer({
      iceServers: config.ice_servers,
      send: (data) => send({ type: 'call.signal', call_id: target.id, data }),
      onRemoteStream: (stream) => (remote.value = stream),
      onConnected: () => void request('POST', `/api/widget/calls/${target.id}/connected`, undefined, token()),
      onFailed: () => void hangUp(),
    })
    peer.addLocal(media)
    if (target.kind === 'screen') {
      // Stopping the share from the browser's own control ends it for both sides.
      media.getVideoTracks()[0]?.addEventListener('ended', () => void hangUp())
    }
    window.__impVisitorCall = peer
    await peer.offer()
  }

  /** Show the screen during the call: asked by the employee, or unasked. */
  async function shareScreen(): Promise<void> {
    const target = current.value
    if (!target || !peer || screen.value) return
    error.value = ''
    let media: MediaStream
    try {
      media = await localMedia('screen', 'client')
    } catch {
      error.value = 'media'
      return
    }
    try {
      // What becomes of the screen comes by the call's events, in the order it happened (an
      // answer to this request may overtake the events before it).
      await request<CallRead>('POST', `/api/widget/calls/${target.id}/screen`, { action: 'share' }, token())
      screen.value = media
      // Stopping the share from the browser's own control stops it for both sides.
      media.getVideoTracks()[0]?.addEventListener('ended', () => void screenAction('stop'))
      await peer.addScreen(media)
    } catch (e) {
      for (const track of media.getTracks()) track.stop()
      error.value = e instanceof ApiError ? e.detail : String(e)
    }
  }

  async function screenAction(action: 'decline' | 'stop'): Promise<void> {
    if (!current.value) return
    await request<CallRead>('POST', `/api/widget/calls/${current.value.id}/screen`, { action }, token())
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
    // A call that ended before it was answered never reached the peer: its media stops here.
    for (const track of local.value?.getTracks() ?? []) track.stop()
    current.value = null
    local.value = null
    remote.value = null
    screen.value = null
    muted.value = false
  }

  return {
    current,
    ended,
    local,
    remote,
    muted,
    screen,
    error,
    updated,
    respond,
    dial,
    accept,
    shareScreen,
    screenAction,
    signal,
    toggleMute,
    hangUp,
  }
}

declare global {
  interface Window {
    __impVisitorCall?: CallPeer
  }
}
