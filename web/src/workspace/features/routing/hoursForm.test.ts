import { describe, expect, it } from 'vitest'
import { formatDay, parseDay } from './hoursForm'

describe('business hours as typed', () => {
  it('reads a day of several intervals and writes it back', () => {
    expect(parseDay('09:00-13:00, 14:00 – 18:00')).toEqual([
      ['09:00', '13:00'],
      ['14:00', '18:00'],
    ])
    expect(formatDay([['22:00', '24:00']])).toBe('22:00-24:00')
  })

  it('takes an empty day as a day without working time and refuses what is not a time', () => {
    expect(parseDay('  ')).toEqual([])
    expect(parseDay('9 to 5')).toBeNull()
  })
})
