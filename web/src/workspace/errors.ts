/** Server refusals in the workspace's language: the locale's `errors.<code>`, filled in. */
import { setErrorTranslator } from '@/shared/api'
import { formatSize } from '@/shared/sizes'
import { i18n } from './i18n'

export function installErrorTranslator(): void {
  setErrorTranslator((code, params) => {
    const key = `errors.${code}`
    if (!i18n.global.te(key)) return null
    const language = i18n.global.locale.value
    const values: Record<string, unknown> = { ...params }
    for (const [name, value] of Object.entries(params)) {
      if (name.endsWith('_bytes')) values[name.slice(0, -'_bytes'.length)] = formatSize(Number(value), language)
    }
    return i18n.global.t(key, values)
  })
}
