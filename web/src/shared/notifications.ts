/**
 * Desktop notifications and a short sound for things that need an employee's attention,
 * silenced while do-not-disturb is on.
 */

let quietUntil: Date | null = null
let audioContext: AudioContext | null = null

export function setQuietUntil(until: string | null): void {
  quietUntil = until ? new Date(until) : null
}

export function isQuiet(now = new Date()): boolean {
  return quietUntil !== null && quietUntil > now
}

export function desktopPermission(): NotificationPermission | 'unsupported' {
  return 'Notification' in window ? Notification.permission : 'unsupported'
}

export async function askDesktopPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (!('Notification' in window)) return 'unsupported'
  return Notification.requestPermission()
}

function tone(frequency: number, startIn: number, length: number): void {
  try {
    audioContext ??= new AudioContext()
    const at = audioContext.currentTime + startIn
    const oscillator = audioContext.createOscillator()
    const gain = audioContext.createGain()
    oscillator.type = 'sine'
    oscillator.frequency.value = frequency
    gain.gain.setValueAtTime(0.0001, at)
    gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length - 0.05)
    oscillator.connect(gain).connect(audioContext.destination)
    oscillator.start(at)
    oscillator.stop(at + length)
  } catch {
    // Audio may be blocked until the page has had a user gesture; the visual cues remain.
  }
}

function playChime(): void {
  tone(880, 0, 0.4)
}

let ringTimer: ReturnType<typeof setInterval> | undefined

/** Whether a call is ringing now (the sound may still be blocked by the browser). */
export function isRinging(): boolean {
  return ringTimer !== undefined
}

/** A client's call: a two-tone ring every two seconds until stopRinging (silent in
 * do-not-disturb, which also stops a ring that has begun). */
export function startRinging(): void {
  if (ringTimer !== undefined || isQuiet()) return
  const ring = () => {
    if (isQuiet()) return stopRinging()
    tone(660, 0, 0.35)
    tone(880, 0.4, 0.35)
  }
  ring()
  ringTimer = setInterval(ring, 2000)
}

export function stopRinging(): void {
  clearInterval(ringTimer)
  ringTimer = undefined
}

export interface Notice {
  title: string
  body: string
  tag: string
}

export const notificationLog: Notice[] = []

/** Returns whether the notice was shown (false while do-not-disturb is on). */
export function notify(notice: Notice): boolean {
  if (isQuiet()) return false
  notificationLog.push(notice)
  playChime()
  if (desktopPermission() === 'granted' && document.visibilityState !== 'visible') {
    new Notification(notice.title, { body: notice.body, tag: notice.tag })
  }
  return true
}

// Desktop notices of ringing calls, by tag, closed once the call is answered or gone.
const callNotices = new Map<string, Notification>()

/** A client's call ringing while this tab is out of sight: a desktop notice that stays until
 * the call is answered (here or in another tab) or ends, and brings the tab forward when
 * clicked. No chime: the ring is startRinging's. Returns whether it was shown. */
export function showCallNotice(notice: Notice): boolean {
  if (isQuiet() || callNotices.has(notice.tag)) return false
  if (desktopPermission() !== 'granted' || document.visibilityState === 'visible') return false
  notificationLog.push(notice)
  const shown = new Notification(notice.title, { body: notice.body, tag: notice.tag, requireInteraction: true })
  shown.onclick = () => {
    window.focus()
    shown.close()
  }
  callNotices.set(notice.tag, shown)
  return true
}

export function closeCallNotice(tag: string): void {
  callNotices.get(tag)?.close()
  callNotices.delete(tag)
}
