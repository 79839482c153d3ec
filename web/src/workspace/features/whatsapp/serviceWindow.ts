/** WhatsApp's customer-service window of a request: open for 24 hours after the client's last
 * message; past that, only an approved template may be sent. Read again when the client writes
 * and when the window is due to close. */
import { onBeforeUnmount, ref, watch } from 'vue'
import { api } from '@/shared/api'

export interface TemplateRead {
  name: string
  language: string
  category: string
  /** The template's words, with {{1}}, {{2}}, … where the parameters go. */
  body: string
  parameters: number
}

export interface ServiceWindow {
  open: boolean
  closes_at: string | null
  templates: TemplateRead[]
  /** A server error code when the templates could not be read from WhatsApp. */
  templates_error: string | null
}

// setTimeout takes at most this many milliseconds (about 24.8 days).
const LONGEST_TIMER = 2 ** 31 - 1

/** The template's words with the parameters filled in (empty ones stay as placeholders). */
export function fillTemplate(body: string, parameters: string[]): string {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n: string) => parameters[Number(n) - 1]?.trim() || whole)
}

export function useServiceWindow(
  requestId: () => number,
  applies: () => boolean,
  lastClientMessageId: () => number | null,
) {
  const serviceWindow = ref<ServiceWindow | null>(null)
  let timer: ReturnType<typeof setTimeout> | undefined

  async function load(): Promise<void> {
    clearTimeout(timer)
    if (!applies()) {
      serviceWindow.value = null
      return
    }
    const id = requestId()
    const found = await api.get<ServiceWindow>(`/api/channels/whatsapp/requests/${id}/window`)
    if (id !== requestId()) return
    serviceWindow.value = found
    if (found.open && found.closes_at) {
      const wait = new Date(found.closes_at).getTime() - Date.now() + 1000
      timer = setTimeout(() => void load(), Math.min(Math.max(wait, 1000), LONGEST_TIMER))
    }
  }

  watch([requestId, applies, lastClientMessageId], () => void load().catch(() => undefined), { immediate: true })
  onBeforeUnmount(() => clearTimeout(timer))
  return { serviceWindow, load }
}
