import { describe, expect, it } from 'vitest'
import { formatSize } from './sizes'

describe('formatSize', () => {
  it('writes bytes and larger units in the reader’s language', () => {
    expect(formatSize(46, 'ru')).toBe('46 Б')
    expect(formatSize(46, 'en')).toBe('46 B')
    expect(formatSize(1.2 * 1024 * 1024, 'ru')).toBe('1,2 МБ')
    expect(formatSize(1.2 * 1024 * 1024, 'en')).toBe('1.2 MB')
    expect(formatSize(2048, 'ru')).toBe('2 КБ')
  })
})
