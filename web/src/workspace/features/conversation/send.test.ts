import { afterEach, describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'
import { api, ApiError } from '@/shared/api'
import { CommandFailed, type RealtimeClient, type RealtimeState } from '@/shared/realtime'
import { sendMessage, type MessagePayload } from './send'

const payload: MessagePayload = {
  body: 'hello',
  attachment_ids: [],
  client_message_id: 'cm-1',
  reply_to_id: null,
  mention_ids: [],
}
const stored = { id: 5, body: 'hello', client_message_id: 'cm-1' }

function socket(state: RealtimeState, answer: () => Promise<unknown>): RealtimeClient {
  return { state: ref(state), command: vi.fn(answer) } as unknown as RealtimeClient
}

describe('sendMessage', () => {
  afterEach(() => vi.restoreAllMocks())

  it('sends over a connected socket and makes no HTTP request', async () => {
    const post = vi.spyOn(api, 'post')
    const live = socket('connected', async () => ({ type: 'ack', ref: 'c1', created: true, message: stored }))
    const message = await sendMessage(live, { type: 'room.send', room_id: 3 }, '/api/rooms/3/messages', payload)
    expect(message).toEqual(stored)
    expect(live.command).toHaveBeenCalledWith({ type: 'room.send', room_id: 3, ...payload })
    expect(post).not.toHaveBeenCalled()
  })

  it('shows a refusal over the socket as an HTTP refusal, without sending again', async () => {
    const post = vi.spyOn(api, 'post')
    const refused = socket('connected', () => Promise.reject(new CommandFailed('room_not_found', 'Room not found.')))
    const failure = await sendMessage(refused, { type: 'room.send', room_id: 3 }, '/api/rooms/3/messages', payload).catch(
      (e: unknown) => e,
    )
    expect(failure).toBeInstanceOf(ApiError)
    expect(failure).toMatchObject({ code: 'room_not_found', serverDetail: 'Room not found.' })
    expect(post).not.toHaveBeenCalled()
  })

  it.each([
    ['no answer came', new CommandFailed('timeout', 'no answer', {}, true)],
    ['the session ended', new CommandFailed('session_ended', 'Your session has ended.')],
  ])('falls back to HTTP with the same client message id when %s', async (_, failure) => {
    const post = vi.spyOn(api, 'post').mockResolvedValue(stored)
    const silent = socket('connected', () => Promise.reject(failure))
    const message = await sendMessage(silent, { type: 'request.send', request_id: 9, note: false }, '/api/requests/9/messages', payload)
    expect(message).toEqual(stored)
    expect(post).toHaveBeenCalledWith('/api/requests/9/messages', payload)
  })

  it('sends over HTTP while the socket is not connected', async () => {
    const post = vi.spyOn(api, 'post').mockResolvedValue(stored)
    const down = socket('reconnecting', () => Promise.reject(new Error('must not be called')))
    await sendMessage(down, { type: 'room.send', room_id: 3 }, '/api/rooms/3/messages', payload)
    expect(down.command).not.toHaveBeenCalled()
    expect(post).toHaveBeenCalledWith('/api/rooms/3/messages', payload)
  })
})
