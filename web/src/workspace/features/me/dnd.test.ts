import { describe, expect, it } from 'vitest'
import { DND_CHOICES } from './dnd'

describe('do-not-disturb choices', () => {
  const now = new Date(2026, 10, 24, 22, 30)

  it('adds the named duration', () => {
    const hour = DND_CHOICES.find((c) => c.key === 'h1')!
    expect(hour.until(now).getTime() - now.getTime()).toBe(60 * 60_000)
  })

  it('until tomorrow means 9:00 the next day', () => {
    const tomorrow = DND_CHOICES.find((c) => c.key === 'tomorrow')!.until(now)
    expect([tomorrow.getDate(), tomorrow.getHours(), tomorrow.getMinutes()]).toEqual([25, 9, 0])
  })
})
