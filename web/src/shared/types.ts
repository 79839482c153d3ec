/** Shapes of the server's JSON, mirroring the Pydantic schemas. */

export type Role = 'admin' | 'supervisor' | 'employee'
export type Language = 'ru' | 'en'
export type Theme = 'light' | 'dark'

export interface Me {
  id: number
  login: string
  name: string
  role: Role
  language: Language
  theme: Theme
  dnd_until: string | null
  /** The employee's photo; null without one. */
  avatar_url?: string | null
}

export interface Summary {
  queue_waiting: number
  requests_unread: number
  rooms_unread: number
}

export interface EmployeeRead {
  id: number
  login: string
  name: string
  role: Role
  is_active: boolean
  language: Language
  queue_ids: number[]
  group_ids: number[]
}

export interface QueueRead {
  id: number
  resource_id: number
  name: string
  offered_as_topic: boolean
  is_default: boolean
  position: number
}

/** How a website's chat looks on the site. */
export interface WidgetLook {
  colour: string
  position: 'right' | 'left'
  button_label: string
  title: string
  greeting: string
  language: 'auto' | 'ru' | 'en'
  /** Replies show the employee's name and photo. */
  show_employee: boolean
}

export interface ResourceRead {
  id: number
  kind: 'website' | 'telegram' | 'vk' | 'whatsapp'
  name: string
  is_active: boolean
  topic_choice_seconds: number
  rating_enabled?: boolean
  rating_question?: string
  typing_preview?: boolean
  widget_look: WidgetLook
  /** Websites: the widget offers the client to call the employee, by voice, by video. */
  client_voice_calls?: boolean
  client_video_calls?: boolean
  site_origins: string[]
  public_key: string
  bot_username?: string | null
  queues: QueueRead[]
}

export interface GroupRead {
  id: number
  name: string
  resource_id: number
  member_ids: number[]
}

export interface EmployeeBrief {
  id: number
  login: string
  name: string
}

export interface AttachmentRead {
  id: number
  file_name: string
  content_type: string
  size: number
  is_image: boolean
  url: string
  /** Pictures: a small copy for the history (absent for old ones), and the picture's size. */
  thumbnail_url?: string | null
  width?: number | null
  height?: number | null
}

export interface MessageAuthor {
  kind: 'employee' | 'client' | 'system'
  id: number | null
  name: string
  /** An employee's photo; null without one (and for clients and the system). */
  avatar_url?: string | null
}

/** The message another one answers, as shown above it. */
export interface QuotedMessage {
  id: number
  kind: string
  author: MessageAuthor
  body: string
  attachments: number
  deleted: boolean
}

export interface MessageRead {
  id: number
  room_id: number
  kind: string
  body: string
  author: MessageAuthor
  attachments: AttachmentRead[]
  client_message_id: string | null
  meta: Record<string, unknown>
  created_at: string
  edited_at: string | null
  deleted: boolean
  reply_to?: QuotedMessage | null
}

/** Where a mention was written: a room, or a request (its client's name). */
export interface MentionPlace {
  kind: 'team' | 'direct' | 'request'
  id: number
  name: string
}

export interface MentionRead {
  id: number
  message: MessageRead
  place: MentionPlace
  read: boolean
  created_at: string
}

export interface MentionList {
  unread: number
  mentions: MentionRead[]
}

export interface MemberRead {
  id: number
  name: string
  login: string
  last_read_message_id: number
}

export interface RoomRead {
  id: number
  kind: 'team' | 'direct' | 'request'
  name: string
  creator_id: number | null
  members: MemberRead[]
  last_message: MessageRead | null
  unread: number
  created_at: string
}

export interface TagRead {
  id: number
  name: string
  color: string
}

export interface RequestHit {
  id: number
  room_id: number
  status: 'choosing' | 'waiting' | 'assigned' | 'closed'
  client: { id: number; name: string; is_blocked: boolean; channel: string }
  resource: string
  queue: string | null
  assignee: string | null
  created_at: string
  last_activity_at: string
  matched_in: 'name' | 'contact' | 'message' | 'tag'
  matched: string
  tags?: TagRead[]
}

export interface SearchResults {
  rooms: RoomRead[]
  requests: RequestHit[]
  messages: MessageRead[]
}

export interface NamedRef {
  id: number
  name: string
}

export interface RequestCard {
  id: number
  room_id: number
  status: 'choosing' | 'waiting' | 'assigned' | 'closed'
  client: { id: number; name: string; is_blocked: boolean; channel: string }
  resource: NamedRef
  resource_kind: string
  queue: NamedRef | null
  assignee: NamedRef | null
  page_url: string
  browser: string
  language: string
  // The client's network address had been blocked before (a hint, not a refusal).
  address_blocked_before?: boolean
  created_at: string
  waiting_since: string | null
  /** Since when the client has waited for an employee's reply; null: nobody owes them one. */
  awaiting_reply_since?: string | null
  /** Written while the team was not at work. */
  outside_hours?: boolean
  wait_amber_seconds?: number
  wait_red_seconds?: number
  topic_due_at: string | null
  last_message: MessageRead | null
  unread: number
  /** How far the client has seen the conversation: the employee's messages up to it are read. */
  client_read_upto: number
  /** Null: sent without them (nothing changed them); keep the ones known. */
  tags?: TagRead[] | null
}

export interface TransitionRead {
  id: number
  kind: string
  actor: string | null
  queue: string | null
  target: string | null
  details: Record<string, unknown>
  created_at: string
}

export interface RequestDetail extends RequestCard {
  history: TransitionRead[]
}

export interface ContactRead {
  id: number
  kind: 'phone' | 'email' | 'telegram' | 'vk' | 'whatsapp' | 'other'
  value: string
  is_hidden: boolean
  updated_at: string
}

export interface ClientRead {
  id: number
  resource_id: number
  channel: string
  display_name: string
  language: string
  is_blocked: boolean
  page_url: string
  browser: string
  contacts: ContactRead[]
  requests: { id: number; status: string; created_at: string; closed_at: string | null; queue_name: string | null }[]
  /** The website vouched for this person (IMP.setUser with a valid hash); its own id of them. */
  verified?: boolean
  verified_id?: string | null
  /** What the page said without proof. */
  unverified?: { id: string; name: string; email: string; phone: string } | null
  /** IMP.setAttributes: flat facts from the website. */
  attributes?: Record<string, string | number | boolean>
}

export interface TransferOptions {
  queues: NamedRef[]
  groups: { id: number; name: string; members: NamedRef[] }[]
}

export type ApiScope = 'read' | 'write'

export interface ApiTokenRead {
  id: number
  name: string
  prefix: string
  scopes: ApiScope[]
  resource: { id: number; name: string } | null
  created_by: string | null
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}

export interface ApiTokenCreated extends ApiTokenRead {
  secret: string
}

export const WEBHOOK_EVENTS = [
  'request.created',
  'request.assigned',
  'request.transferred',
  'request.closed',
  'message.created',
  'client.blocked',
  'rating.received',
] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

export interface WebhookRead {
  id: number
  url: string
  description: string
  events: WebhookEvent[]
  resource: { id: number; name: string } | null
  secret: string
  is_enabled: boolean
  disabled_reason: '' | 'admin' | 'failures'
  disabled_at: string | null
  failures_in_a_row: number
  created_at: string
  pending: number
}

export interface WebhookDeliveryRead {
  id: number
  event_id: string
  event: WebhookEvent
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  created_at: string
  due_at: string
  last_attempt_at: string | null
  delivered_at: string | null
  response_status: number | null
  error_kind: '' | 'answered' | 'redirected' | 'timeout' | 'address_forbidden' | 'unresolvable' | 'connection'
  error_detail: string
  last_error: string
  body: string
}
