import { vi } from 'vitest'

/** A server whose answer (``body``, as JSON) is held until the test releases it: for the
 * race of a load and an event that overtakes its answer. */
export function heldServer(body: unknown): { release: () => void } {
  let release = (): void => {}
  const answered = new Promise<void>((resolve) => (release = resolve))
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => {
      await answered
      return new Response(JSON.stringify(body), { status: 200 })
    }),
  )
  return { release }
}
