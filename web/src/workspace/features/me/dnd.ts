/** Do-not-disturb durations offered by the bell menu. */

export interface DndChoice {
  key: 'm30' | 'h1' | 'h2' | 'h4' | 'tomorrow' | 'week'
  until: (now: Date) => Date
}

const minutes = (n: number) => (now: Date) => new Date(now.getTime() + n * 60_000)

export const DND_CHOICES: DndChoice[] = [
  { key: 'm30', until: minutes(30) },
  { key: 'h1', until: minutes(60) },
  { key: 'h2', until: minutes(120) },
  { key: 'h4', until: minutes(240) },
  {
    key: 'tomorrow',
    until: (now) => {
      const next = new Date(now)
      next.setDate(next.getDate() + 1)
      next.setHours(9, 0, 0, 0)
      return next
    },
  },
  { key: 'week', until: minutes(7 * 24 * 60) },
]

export function formatMoment(iso: string, language: string): string {
  return new Intl.DateTimeFormat(language === 'ru' ? 'ru-RU' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso))
}
