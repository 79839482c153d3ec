/** The archive's shapes, mirroring domains/reports/schemas.py. */
import type { MessageRead, RequestHit, TagRead } from '@/shared/types'

export interface ArchiveRow {
  id: number
  status: RequestHit['status']
  client: RequestHit['client']
  resource: string
  queue: string | null
  assignee: string | null
  created_at: string
  closed_at: string | null
  rating: number | null
  tags: TagRead[]
}

export interface ArchivePage {
  /** Counted up to a limit: when `total_exact` is false there are more than `total`. */
  total: number
  total_exact: boolean
  page: number
  page_size: number
  items: ArchiveRow[]
}

export interface ArchiveDetail {
  request: ArchiveRow
  rating: { score: number; comment: string; rated_at: string | null } | null
  messages: MessageRead[]
  has_older: boolean
}

export interface ArchiveChoices {
  resources: { id: number; name: string }[]
  queues: { id: number; name: string; resource_id: number }[]
  employees: { id: number; name: string }[]
}
