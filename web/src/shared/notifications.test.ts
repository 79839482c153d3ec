import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isRinging, setQuietUntil, startRinging, stopRinging } from './notifications'

/** The browser's WebAudio, as far as the ring uses it: it counts the tones started. */
class CountingAudioContext {
  static tones = 0
  currentTime = 0
  destination = {}
  createOscillator() {
    return {
      type: '',
      frequency: { value: 0 },
      connect: (node: unknown) => node,
      start: () => (CountingAudioContext.tones += 1),
      stop: () => undefined,
    }
  }
  createGain() {
    return { gain: { setValueAtTime: () => undefined, exponentialRampToValueAtTime: () => undefined }, connect: (next: unknown) => next }
  }
}

describe('the ring of a client’s call', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.stubGlobal('AudioContext', CountingAudioContext)
    CountingAudioContext.tones = 0
    setQuietUntil(null)
  })
  afterEach(() => {
    stopRinging()
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('rings two tones every two seconds until stopped', () => {
    startRinging()
    expect(isRinging()).toBe(true)
    expect(CountingAudioContext.tones).toBe(2)
    vi.advanceTimersByTime(4000)
    expect(CountingAudioContext.tones).toBe(6)
    stopRinging()
    vi.advanceTimersByTime(4000)
    expect(CountingAudioContext.tones).toBe(6)
    expect(isRinging()).toBe(false)
  })

  it('stays silent in do-not-disturb, and falls silent when it begins', () => {
    setQuietUntil(new Date(Date.now() + 3_600_000).toISOString())
    startRinging()
    expect(isRinging()).toBe(false)
    expect(CountingAudioContext.tones).toBe(0)
    setQuietUntil(null)
    startRinging()
    setQuietUntil(new Date(Date.now() + 3_600_000).toISOString())
    vi.advanceTimersByTime(2000)
    expect(isRinging()).toBe(false)
    expect(CountingAudioContext.tones).toBe(2)
  })
})
