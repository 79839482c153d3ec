/**
 * Sending a message again while the server cannot answer: the network dropped, or the instance
 * was restarting (the balancer answers 502/503/504 until another instance takes over). Every
 * send carries its client message id, so a retry of a send that did arrive gives back the same
 * message rather than a second one.
 */
import { ApiError } from '@/shared/api'

/** Waits between attempts; a restart behind a balancer is over within a few seconds. */
export const RETRY_DELAYS_MS = [300, 700, 1500, 3000, 6000]
const TRANSIENT = new Set([0, 502, 503, 504])

export function isTransient(error: unknown): boolean {
  return error instanceof ApiError && TRANSIENT.has(error.status)
}

export async function sendWithRetry<T>(
  send: () => Promise<T>,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (const delay of RETRY_DELAYS_MS) {
    try {
      return await send()
    } catch (e) {
      if (!isTransient(e)) throw e
      await wait(delay)
    }
  }
  return send()
}
