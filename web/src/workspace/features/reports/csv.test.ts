import { describe, expect, it } from 'vitest'
import { toCsv } from './csv'

describe('CSV for Excel', () => {
  it('starts with a byte-order mark, separates with semicolons and quotes what needs it', () => {
    const csv = toCsv([
      ['Сотрудник', 'Оценка'],
      ['Анна "Ася" Смирнова', 4.5],
      ['Борис; Петров', null],
    ])
    expect(csv.charCodeAt(0)).toBe(0xfeff)
    expect(csv.slice(1).split('\r\n')).toEqual([
      'Сотрудник;Оценка',
      '"Анна ""Ася"" Смирнова";4.5',
      '"Борис; Петров";',
      '',
    ])
  })
})
