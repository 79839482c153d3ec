/** A call's record in a request's history, in words: "Голосовой звонок, 3 с". */
import type { MessageRead } from '@/shared/types'

type Translate = (key: string, values?: Record<string, unknown>) => string
type Has = (key: string) => boolean

const KINDS = ['voice', 'video', 'screen', 'cobrowse']

export function isCallRecord(message: MessageRead): boolean {
  return message.kind === 'system' && message.meta.transition === 'call'
}

export function duration(seconds: number, t: Translate): string {
  const whole = Math.max(0, Math.round(seconds))
  if (whole < 60) return t('callRecords.seconds', { s: whole })
  return t('callRecords.minutes', { m: Math.floor(whole / 60), s: whole % 60 })
}

export function describeCallRecord(message: MessageRead, t: Translate, te: Has): string {
  const kind = KINDS.includes(String(message.meta.call_kind)) ? String(message.meta.call_kind) : 'voice'
  const outcome = String(message.meta.outcome ?? 'completed')
  // A call the client started says so; its other outcomes read as an employee's call's do.
  const byClient = message.meta.started_by === 'client' ? `callRecords.byClient.${outcome}.${kind}` : ''
  const key = [byClient, `callRecords.${outcome}.${kind}`].find((k) => k && te(k)) ?? `callRecords.completed.${kind}`
  const words = t(key, { duration: duration(Number(message.meta.duration ?? 0), t) })
  // The client showed their screen during the call, on its connection.
  return message.meta.screen_shared === true ? t('callRecords.withScreen', { record: words }) : words
}
