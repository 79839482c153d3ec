import { createI18n } from 'vue-i18n'
import en from './locales/en'
import ru from './locales/ru'
import type { Language } from '@/shared/types'

export function browserLanguage(): Language {
  return navigator.language?.toLowerCase().startsWith('ru') ? 'ru' : 'en'
}

export const i18n = createI18n({
  legacy: false,
  locale: browserLanguage(),
  fallbackLocale: 'en',
  messages: { en, ru },
})

export function setLanguage(language: Language): void {
  i18n.global.locale.value = language
  document.documentElement.lang = language
}
