/** Realtime events the workspace receives: one discriminated union, one exhaustive switch. */
import type { CallRead, SignalData } from './call'
import type { ClientRead, Me, MentionRead, MessageRead, RequestCard, ResourceRead, RoomRead, Summary } from './types'

export interface MeUpdated {
  id: number
  type: 'me.updated'
  employee: Me
}

export interface AccessUpdated {
  id: number
  type: 'access.updated'
  queue_ids: number[]
}

export interface SummaryUpdated {
  id: number
  type: 'summary.updated'
  summary: Summary
}

export interface ResourcesUpdated {
  id: number
  type: 'resources.updated'
  resource: ResourceRead
}

export interface RoomCreated {
  id: number
  type: 'room.created'
  room: RoomRead
}

export interface RoomUpdated {
  id: number
  type: 'room.updated'
  room: RoomRead
}

export interface RoomRemoved {
  id: number
  type: 'room.removed'
  room_id: number
}

export interface MentionCreated {
  id: number
  type: 'mention.created'
  mention: MentionRead
}

export interface MentionsRead {
  id: number
  type: 'mention.read'
  mention_ids: number[]
}

export interface MessageCreated {
  id: number
  type: 'message.created'
  message: MessageRead
}

export interface MessageUpdated {
  id: number
  type: 'message.updated'
  message: MessageRead
}

export interface MessageDeleted {
  id: number
  type: 'message.deleted'
  room_id: number
  message_id: number
  /** As shown now: deleted true, empty body, no attachments. */
  message: MessageRead
}

export interface ReadMarkMoved {
  id: number
  type: 'room.read'
  room_id: number
  employee_id: number
  message_id: number
}

/** Ephemeral: carries no id. */
export interface TypingEvent {
  type: 'typing'
  room_id: number
  employee_id: number
  name: string
}

export interface RequestUpdated {
  id: number
  type: 'request.updated'
  request: RequestCard
}

export interface RequestRemoved {
  id: number
  type: 'request.removed'
  request_id: number
}

export interface RequestTakenBack {
  id: number
  type: 'request.taken_back'
  request_id: number
  reason: 'silence' | 'offline'
}

export interface RequestMessage {
  id: number
  type: 'request.message'
  request_id: number
  message: MessageRead
}

/** The client of a request the employee holds is typing (draft: what they typed so far, where
 * the resource shows it; null where it does not). */
export interface ClientTyping {
  type: 'request.client_typing'
  request_id: number
  typing: boolean
  draft: string | null
}

/** The client has seen the conversation up to ``upto``. */
export interface ClientReadMark {
  id: number
  type: 'request.client_read'
  request_id: number
  upto: number
}

export interface ClientUpdated {
  id: number
  type: 'client.updated'
  client: ClientRead
}

export interface CallUpdated {
  id: number
  type: 'call.updated'
  call: CallRead
}

/** Ephemeral: carries no id. */
export interface CallSignalEvent {
  type: 'call.signal'
  call_id: number
  data: SignalData
}

export type AvailabilityStatus = 'online' | 'away' | 'offline'

export interface EmployeeStatusChanged {
  id: number
  type: 'employee.status'
  employee_id: number
  status: AvailabilityStatus
}

/** A request of the resource moved in or out of a queue or an employee's hands. */
export interface QueueLoadChanged {
  id: number
  type: 'queue.load'
  resource_id: number
}

/** To administrators: a webhook's deliveries kept failing, so it was switched off. */
export interface WebhookDisabled {
  id: number
  type: 'webhook.disabled'
  webhook_id: number
  url: string
  failures: number
}

export type WorkspaceEvent =
  | MeUpdated
  | AccessUpdated
  | SummaryUpdated
  | ResourcesUpdated
  | RoomCreated
  | RoomUpdated
  | RoomRemoved
  | MentionCreated
  | MentionsRead
  | MessageCreated
  | MessageUpdated
  | MessageDeleted
  | ReadMarkMoved
  | TypingEvent
  | RequestUpdated
  | RequestRemoved
  | RequestTakenBack
  | RequestMessage
  | ClientTyping
  | ClientReadMark
  | ClientUpdated
  | CallUpdated
  | CallSignalEvent
  | EmployeeStatusChanged
  | QueueLoadChanged
  | WebhookDisabled

export function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`)
}
