import { onMounted, onUnmounted } from 'vue'

/** Read marks follow what the reader has actually had in view: the history reports the newest
 * message at the bottom of its view, and the mark moves while the page is visible (a tab in
 * the background reads nothing; it catches up when shown again). */
export function useReadMark(mark: (messageId: number) => Promise<void>): { seen: (messageId: number) => void } {
  let pending = 0

  function flush(): void {
    if (!pending || document.visibilityState !== 'visible') return
    const messageId = pending
    pending = 0
    void mark(messageId).catch(() => {
      // A failed mark is tried again with the next message seen.
    })
  }

  function seen(messageId: number): void {
    pending = Math.max(pending, messageId)
    flush()
  }

  onMounted(() => document.addEventListener('visibilitychange', flush))
  onUnmounted(() => document.removeEventListener('visibilitychange', flush))
  return { seen }
}
