import { describe, expect, it } from 'vitest'
import { ERROR_TABLES, errorText, TABLES, texts } from './texts'

describe('widget texts', () => {
  it('have the same keys in both languages', () => {
    expect(Object.keys(TABLES.ru).sort()).toEqual(Object.keys(TABLES.en).sort())
  })
  it('fill in parameters', () => {
    expect(texts('en')('operator', { name: 'Anna' })).toBe('Anna is answering you')
    expect(texts('de')('send')).toBe('Send')
  })
})

describe('widget error texts', () => {
  it('cover the same codes in both languages and fill in sizes', () => {
    expect(Object.keys(ERROR_TABLES.ru).sort()).toEqual(Object.keys(ERROR_TABLES.en).sort())
    expect(errorText('ru', 'file_too_large', { limit_bytes: 10 * 1024 * 1024 })).toBe('Файл слишком большой: предел 10 МБ.')
    expect(errorText('ru', 'file_too_large', {})).toBe('Файл слишком большой.')
    expect(errorText('en', 'no_such_code', {})).toBeNull()
  })
})
