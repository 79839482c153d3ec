import { describe, expect, it } from 'vitest'
import { fillTemplate } from './serviceWindow'

describe('fillTemplate', () => {
  it('puts each parameter in its place, however often it is used', () => {
    expect(fillTemplate('Здравствуйте, {{1}}! Заказ {{2}}, {{1}}.', ['Ольга', '№12'])).toBe(
      'Здравствуйте, Ольга! Заказ №12, Ольга.',
    )
  })

  it('keeps the placeholders of parameters not written yet', () => {
    expect(fillTemplate('{{1}} и {{ 2 }}', ['  ', 'второй'])).toBe('{{1}} и второй')
  })

  it('leaves a template without parameters as it is', () => {
    expect(fillTemplate('Welcome and congratulations!!', [])).toBe('Welcome and congratulations!!')
  })
})
