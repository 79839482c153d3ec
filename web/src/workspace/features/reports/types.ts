/** The team report's shape, mirroring domains/reports/schemas.py. */
export interface Durations {
  count: number
  median_seconds: number | null
  p90_seconds: number | null
}

export interface TeamReport {
  created: number
  closed: number
  missed: number
  first_response: Durations
  resolution: Durations
  queue_wait: Durations
  ratings: { count: number; average: number | null; distribution: number[]; satisfied_share: number | null }
  employees: {
    id: number
    name: string
    handled: number
    first_response: Durations
    resolution: Durations
    rating_average: number | null
    ratings: number
  }[]
  by_hour: number[]
  by_weekday: number[]
}

/** The team right now (GET /api/reports/live). */
export interface LiveView {
  queues: {
    id: number
    name: string
    resource_id: number
    resource_name: string
    waiting: number
    oldest_waiting_since: string | null
  }[]
  employees: {
    id: number
    name: string
    status: 'online' | 'away' | 'offline'
    holding: number
    capacity: number | null
  }[]
}
