/** What the archive's pager shows of a page whose total may be counted only up to a limit. */
import type { ArchivePage } from './types'

export interface Pager {
  pages: number
  hasNext: boolean
  /** The locale key of the "page N of M" line. */
  label: 'archive.pageOf' | 'archive.pageOfMore'
}

export function pagerOf(found: ArchivePage | null, page: number): Pager {
  if (!found) return { pages: 1, hasNext: false, label: 'archive.pageOf' }
  const pages = Math.max(1, Math.ceil(found.total / found.page_size))
  // Past the counted limit there is always a next page to read.
  const hasNext = page < pages || !found.total_exact
  return { pages, hasNext, label: found.total_exact ? 'archive.pageOf' : 'archive.pageOfMore' }
}
