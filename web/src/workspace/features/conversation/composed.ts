/** What the composer hands over when the employee sends. */
export interface ComposedMessage {
  body: string
  attachment_ids: number[]
  client_message_id: string
  /** A note for colleagues (requests only): it goes to the notes address. */
  note: boolean
  reply_to_id: number | null
  mention_ids: number[]
}
