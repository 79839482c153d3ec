import { describe, expect, it } from 'vitest'
import { fillReply, matchingReplies, type Reply } from './fill'

describe('filling a canned reply', () => {
  const context = { client: 'Иван', employee: 'Анна', queue: 'Продажи', resource: 'Магазин' }

  it('fills every known variable, by its English or Russian name', () => {
    expect(fillReply('Здравствуйте, {client}! Я {сотрудник}, {queue} / {Ресурс}.', context)).toBe(
      'Здравствуйте, Иван! Я Анна, Продажи / Магазин.',
    )
  })

  it('leaves unknown variables and those without a value visible', () => {
    expect(fillReply('{client}, ваш {order}', {})).toBe('{client}, ваш {order}')
    expect(fillReply('Привет, {client}!', { client: '  ' })).toBe('Привет, {client}!')
  })
})

describe('choosing replies as the employee types', () => {
  const reply = (id: number, code: string, text: string, resource_id: number | null = null): Reply => ({
    id,
    code,
    text,
    shared: resource_id !== null,
    resource_id,
    editable: true,
  })
  const replies = [
    reply(1, 'hello', 'Здравствуйте!'),
    reply(2, 'delivery', 'Доставка 2–3 дня', 7),
    reply(3, 'refund', 'Возврат за 14 дней', 8),
    reply(4, 'thanks', 'Спасибо за заказ и доставку'),
  ]

  it('offers codes that start with the query first, then texts that contain it', () => {
    expect(matchingReplies(replies, 'дост', 7).map((r) => r.id)).toEqual([2, 4])
    expect(matchingReplies(replies, 'l', 7).map((r) => r.id)).toEqual([1, 2])
    expect(matchingReplies(replies, 'del', 7).map((r) => r.id)).toEqual([2])
  })

  it("offers only the shared replies of the request's resource", () => {
    expect(matchingReplies(replies, '', 8).map((r) => r.id)).toEqual([1, 3, 4])
    expect(matchingReplies(replies, '').map((r) => r.id)).toEqual([1, 4])
  })
})
