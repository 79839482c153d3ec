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

function playChime(): void {
  try {
    audioContext ??= new AudioContext()
    const oscillator = audioContext.createOscillator()
    const gain = audioContext.createGain()
    oscillator.type = 'sine'
    oscillator.frequency.value = 880
    gain.gain.setValueAtTime(0.0001, audioContext.currentTime)
    gain.gain.exponentialRampToValueAtTime(0.2, audioContext.currentTime + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, audioContext.currentTime + 0.35)
    oscillator.connect(gain).connect(audioContext.destination)
    oscillator.start()
    oscillator.stop(audioContext.currentTime + 0.4)
  } catch {
    // Audio may be blocked until the page has had a user gesture; the visual cues remain.
  }
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
