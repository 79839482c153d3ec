import { describe, expect, it } from 'vitest'
import en from './en'
import ru from './ru'

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('locales', () => {
  it('Russian and English have the same keys', () => {
    expect(keys(ru).sort()).toEqual(keys(en).sort())
  })

  it('no message is empty', () => {
    for (const locale of [en, ru]) {
      for (const key of keys(locale)) {
        const value = key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], locale)
        expect(String(value).trim(), key).not.toBe('')
      }
    }
  })
})
