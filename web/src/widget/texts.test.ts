import { describe, expect, it } from 'vitest'
import { TABLES, texts } from './texts'

describe('widget texts', () => {
  it('have the same keys in both languages', () => {
    expect(Object.keys(TABLES.ru).sort()).toEqual(Object.keys(TABLES.en).sort())
  })
  it('fill in parameters', () => {
    expect(texts('en')('operator', { name: 'Anna' })).toBe('Anna is answering you')
    expect(texts('de')('send')).toBe('Send')
  })
})
