/**
 * Sending an employee's message: over the tab's socket while it is connected (no request of
 * its own to make), else over HTTP with its retries. A send the socket leaves unanswered may or
 * may not have arrived; it goes again over HTTP with the same client message id, which the
 * server answers with the message it already has rather than a second one.
 */
import { api, ApiError } from '@/shared/api'
import { CommandFailed, type RealtimeClient } from '@/shared/realtime'
import type { MessageRead } from '@/shared/types'
import { sendWithRetry } from './retry'

export interface MessagePayload {
  body: string
  attachment_ids: number[]
  client_message_id: string
  reply_to_id: number | null
  mention_ids: number[]
}

/** Refusals HTTP answers better: a passing outage, which HTTP retries (503 there), and an
 * ended session, on which HTTP's 401 takes the employee to the login page. */
const HTTP_DECIDES = new Set(['unavailable', 'database_unavailable', 'storage_unavailable', 'session_ended'])

/** A refusal over the socket, as a refusal over HTTP would be shown (translated by its code). */
const SOCKET_REFUSAL_STATUS = 400

export async function sendMessage(
  socket: RealtimeClient | null,
  command: { type: string } & Record<string, unknown>,
  path: string,
  payload: MessagePayload,
): Promise<MessageRead> {
  if (socket?.state.value === 'connected') {
    try {
      const ack = await socket.command({ ...command, ...payload })
      return ack.message as MessageRead
    } catch (e) {
      if (!(e instanceof CommandFailed)) throw e
      if (!e.transient && !HTTP_DECIDES.has(e.code)) {
        throw new ApiError(SOCKET_REFUSAL_STATUS, e.detail, e.code, e.params)
      }
    }
  }
  return sendWithRetry(() => api.post<MessageRead>(path, payload))
}
