import { describe, expect, it } from 'vitest'
import { initials } from './initials'

describe('initials', () => {
  it('take the first letters of the first two words', () => {
    expect(initials('Анна Смирнова')).toBe('АС')
    expect(initials('  emma   wilson  jr ')).toBe('EW')
    expect(initials('Cher')).toBe('C')
    expect(initials('')).toBe('')
  })
})
