/**
 * One side of a call: a WebRTC peer connection whose signalling travels through IMP's socket.
 * The client, who accepted (or whose call the employee answered), makes the offer; the employee
 * answers. Candidates that arrive before the remote description wait in a queue.
 */

export type CallKind = 'voice' | 'video' | 'screen' | 'cobrowse'

export interface CallRead {
  id: number
  request_id: number
  kind: CallKind
  state: 'invited' | 'ringing' | 'accepted' | 'connected' | 'ended'
  outcome: string | null
  /** 'client': the client called and the employee answers; 'employee': the employee invited. */
  started_by?: 'employee' | 'client'
  /** During a voice or video call: the employee asked for the client's screen, or it is shown. */
  screen?: 'asked' | 'on' | null
  created_at: string
  connected_at: string | null
  ended_at: string | null
}

export interface SignalData {
  type?: 'offer' | 'answer'
  sdp?: string
  candidate?: RTCIceCandidateInit
}

export interface PeerOptions {
  iceServers: RTCIceServer[]
  send: (data: SignalData) => void
  onRemoteStream: (stream: MediaStream) => void
  onConnected: () => void
  onFailed: () => void
}

export class CallPeer {
  readonly pc: RTCPeerConnection
  private pending: RTCIceCandidateInit[] = []
  private local: MediaStream | null = null
  private muted = false
  private audioSender: RTCRtpSender | null = null
  private screenSender: RTCRtpSender | null = null

  constructor(private options: PeerOptions) {
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers })
    this.pc.onicecandidate = (event) => {
      if (event.candidate) options.send({ candidate: event.candidate.toJSON() })
    }
    this.pc.ontrack = (event) => options.onRemoteStream(event.streams[0] ?? new MediaStream([event.track]))
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'connected') options.onConnected()
      if (this.pc.connectionState === 'failed') options.onFailed()
    }
  }

  addLocal(stream: MediaStream): void {
    this.local = stream
    for (const track of stream.getTracks()) {
      const sender = this.pc.addTrack(track, stream)
      if (track.kind === 'audio') this.audioSender = sender
    }
  }

  /** The client's screen, added to a call under way: a track of its own on this connection,
   * offered anew (only the client offers, so the two sides never offer at once). */
  async addScreen(stream: MediaStream): Promise<void> {
    const track = stream.getVideoTracks()[0]
    if (!track || this.screenSender) return
    this.screenSender = this.pc.addTrack(track, stream)
    await this.offer()
  }

  async removeScreen(): Promise<void> {
    const sender = this.screenSender
    if (!sender) return
    this.screenSender = null
    sender.track?.stop()
    this.pc.removeTrack(sender)
    await this.offer()
  }

  /** Ask to receive what the other side sends even when we send nothing of that kind. */
  receive(kind: 'audio' | 'video'): void {
    this.pc.addTransceiver(kind, { direction: 'recvonly' })
  }

  async offer(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer())
    this.options.send({ type: 'offer', sdp: this.pc.localDescription?.sdp })
  }

  async handle(data: SignalData): Promise<void> {
    if (data.type === 'offer' && data.sdp) {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: data.sdp })
      await this.flush()
      await this.pc.setLocalDescription(await this.pc.createAnswer())
      this.options.send({ type: 'answer', sdp: this.pc.localDescription?.sdp })
    } else if (data.type === 'answer' && data.sdp) {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: data.sdp })
      await this.flush()
    } else if (data.candidate) {
      if (this.pc.remoteDescription) await this.pc.addIceCandidate(data.candidate)
      else this.pending.push(data.candidate)
    }
  }

  private async flush(): Promise<void> {
    for (const candidate of this.pending.splice(0)) await this.pc.addIceCandidate(candidate)
  }

  /** Muting detaches the microphone from the sender, so no audio leaves at all. */
  async setMuted(muted: boolean): Promise<void> {
    this.muted = muted
    await this.audioSender?.replaceTrack(muted ? null : (this.local?.getAudioTracks()[0] ?? null))
  }

  get isMuted(): boolean {
    return this.muted
  }

  close(): void {
    for (const track of this.local?.getTracks() ?? []) track.stop()
    this.screenSender?.track?.stop()
    this.pc.close()
  }
}

export async function localMedia(kind: CallKind, role: 'client' | 'employee'): Promise<MediaStream> {
  if (role === 'client' && kind === 'screen') {
    return navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
  }
  if (role === 'client' && kind === 'video') {
    return navigator.mediaDevices.getUserMedia({ audio: true, video: true })
  }
  if (role === 'employee' && kind === 'video') {
    // The employee's camera is welcome but optional: fall back to the microphone alone.
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: true })
    } catch {
      return navigator.mediaDevices.getUserMedia({ audio: true })
    }
  }
  if (kind === 'screen') return new MediaStream()
  return navigator.mediaDevices.getUserMedia({ audio: true })
}
