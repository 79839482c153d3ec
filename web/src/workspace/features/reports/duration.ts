type Translate = (key: string, values: Record<string, unknown>) => string

/** "2 ч 5 мин", "3 мин 20 с", "45 с"; a dash where there is nothing to measure. */
export function formatDuration(seconds: number | null, t: Translate): string {
  if (seconds === null) return '—'
  const total = Math.max(0, Math.round(seconds))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  if (h) return t('reports.hm', { h, m })
  if (m) return t('reports.ms', { m, s })
  return t('reports.s', { s })
}
