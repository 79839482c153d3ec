import { describe, expect, it } from 'vitest'
import { ApiError } from '@/shared/api'
import { RETRY_DELAYS_MS, sendWithRetry } from './retry'

const noWait = () => Promise.resolve()

describe('sendWithRetry', () => {
  it('sends again, with the same payload, while the server is restarting', async () => {
    const payloads: string[] = []
    const failures = [new ApiError(0, 'network'), new ApiError(503, 'unavailable')]
    const result = await sendWithRetry(async () => {
      payloads.push('client-message-1')
      const failure = failures.shift()
      if (failure) throw failure
      return 'sent'
    }, noWait)
    expect(result).toBe('sent')
    expect(payloads).toEqual(['client-message-1', 'client-message-1', 'client-message-1'])
  })

  it('does not repeat a send the server refused', async () => {
    let calls = 0
    const refusal = new ApiError(422, 'too long', 'invalid')
    await expect(
      sendWithRetry(async () => {
        calls += 1
        throw refusal
      }, noWait),
    ).rejects.toBe(refusal)
    expect(calls).toBe(1)
  })

  it('gives up after its last attempt', async () => {
    let calls = 0
    await expect(
      sendWithRetry(async () => {
        calls += 1
        throw new ApiError(502, 'bad gateway')
      }, noWait),
    ).rejects.toBeInstanceOf(ApiError)
    expect(calls).toBe(RETRY_DELAYS_MS.length + 1)
  })
})
