import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from '../../locales/en'
import ru from '../../locales/ru'
import type { MessageRead } from '@/shared/types'
import { describeCallRecord } from './records'

function record(meta: Record<string, unknown>): MessageRead {
  return {
    id: 1, room_id: 1, kind: 'system', body: 'call', attachments: [], client_message_id: null,
    author: { kind: 'system', id: null, name: '' }, meta: { transition: 'call', ...meta },
    created_at: '', edited_at: null, deleted: false,
  }
}

describe('call records', () => {
  const i18n = createI18n({ legacy: false, locale: 'ru', messages: { en, ru } })
  const { t, te } = i18n.global
  const words = (meta: Record<string, unknown>) => describeCallRecord(record(meta), t, te)

  it('say what happened in words, in Russian and English', () => {
    expect(words({ call_kind: 'voice', outcome: 'completed', duration: 3 })).toBe('Голосовой звонок, 3 с')
    expect(words({ call_kind: 'screen', outcome: 'completed', duration: 65 })).toBe('Демонстрация экрана завершена, 1 мин 5 с')
    expect(words({ call_kind: 'cobrowse', outcome: 'declined', duration: 0 })).toBe('Клиент отказался от совместного просмотра')
    i18n.global.locale.value = 'en'
    expect(words({ call_kind: 'video', outcome: 'no_answer', duration: 0 })).toBe('Video call: the client did not answer')
    i18n.global.locale.value = 'ru'
  })

  it('tell the calls the client started', () => {
    const byClient = { started_by: 'client', duration: 0 }
    expect(words({ ...byClient, call_kind: 'voice', outcome: 'no_answer' })).toBe('Пропущенный звонок клиента')
    expect(words({ ...byClient, call_kind: 'video', outcome: 'busy' })).toBe('Видеозвонок клиента отклонён: режим «Не беспокоить»')
    expect(words({ ...byClient, call_kind: 'voice', outcome: 'completed', duration: 7 })).toBe('Звонок клиента, 7 с')
    // An outcome with no words of its own for a client's call reads as an employee's call's.
    expect(words({ ...byClient, call_kind: 'voice', outcome: 'request_released' })).toBe('Голосовой звонок, 0 с')
  })

  it('tell that the client showed the screen during the call', () => {
    const meta = { call_kind: 'video', outcome: 'completed', duration: 65, screen_shared: true }
    expect(words(meta)).toBe('Видеозвонок, 1 мин 5 с, с показом экрана')
    expect(words({ ...meta, started_by: 'client' })).toBe('Видеозвонок клиента, 1 мин 5 с, с показом экрана')
  })
})
