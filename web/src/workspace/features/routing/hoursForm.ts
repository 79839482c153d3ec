/** Business hours as the admin types them: "09:00-13:00, 14:00-18:00" for a day. */

export type Interval = [string, string]

const INTERVAL = /^([0-2]\d:[0-5]\d)\s*[-–—]\s*([0-2]\d:[0-5]\d)$/

/** The day's intervals, or null when the text is not a list of HH:MM-HH:MM. */
export function parseDay(text: string): Interval[] | null {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean)
  const intervals: Interval[] = []
  for (const part of parts) {
    const found = INTERVAL.exec(part)
    if (!found) return null
    intervals.push([found[1], found[2]])
  }
  return intervals
}

export function formatDay(intervals: Interval[]): string {
  return intervals.map(([start, end]) => `${start}-${end}`).join(', ')
}
