import { describe, expect, it } from 'vitest'
import { pagerOf } from './pager'
import type { ArchivePage } from './types'

function found(total: number, exact: boolean, page_size = 25): ArchivePage {
  return { total, total_exact: exact, page: 1, page_size, items: [] }
}

describe('the archive pager', () => {
  it('counts the pages of an exact total and stops at the last', () => {
    expect(pagerOf(found(60, true), 1)).toEqual({ pages: 3, hasNext: true, label: 'archive.pageOf' })
    expect(pagerOf(found(60, true), 3)).toEqual({ pages: 3, hasNext: false, label: 'archive.pageOf' })
    expect(pagerOf(found(0, true), 1)).toEqual({ pages: 1, hasNext: false, label: 'archive.pageOf' })
  })

  it('says "more than" past the counted limit and always offers the next page', () => {
    expect(pagerOf(found(1000, false), 40)).toEqual({ pages: 40, hasNext: true, label: 'archive.pageOfMore' })
  })

  it('shows nothing to page before the first answer', () => {
    expect(pagerOf(null, 1)).toEqual({ pages: 1, hasNext: false, label: 'archive.pageOf' })
  })
})
