/** Realtime events the workspace receives: one discriminated union, one exhaustive switch. */
import type { Me, ResourceRead, Summary } from './types'

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

export type WorkspaceEvent = MeUpdated | AccessUpdated | SummaryUpdated | ResourcesUpdated

export function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`)
}
