/** File sizes in the reader's language: "46 Б", "1,2 МБ" / "46 B", "1.2 MB". */

// The unit abbreviations are the only words here; they are part of the locale like any text.
const UNITS: Record<'ru' | 'en', string[]> = {
  ru: ['Б', 'КБ', 'МБ', 'ГБ'],
  en: ['B', 'KB', 'MB', 'GB'],
}

export function formatSize(bytes: number, language: string): string {
  const ru = language.startsWith('ru')
  const units = UNITS[ru ? 'ru' : 'en']
  let value = Math.max(0, bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  const number = new Intl.NumberFormat(ru ? 'ru-RU' : 'en-GB', { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)
  return `${number} ${units[unit]}`
}
