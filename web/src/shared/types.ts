/** Shapes of the server's JSON, mirroring the Pydantic schemas. */

export type Role = 'admin' | 'employee'
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

export interface ResourceRead {
  id: number
  kind: 'website' | 'telegram'
  name: string
  is_active: boolean
  topic_choice_seconds: number
  site_origins: string[]
  public_key: string
  queues: QueueRead[]
}

export interface GroupRead {
  id: number
  name: string
  resource_id: number
  member_ids: number[]
}
