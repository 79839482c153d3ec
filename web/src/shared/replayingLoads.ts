/**
 * Loads that events may overtake. The server may read its answer to a load before a change
 * that it then announces at once, so the announcement arrives first and the answer, older,
 * would undo it. Changes made with ``apply`` while a load is on its way are therefore applied
 * now and once more on top of what the load brings; each must be safe to apply twice.
 */
export function replayingLoads(): {
  load: <T>(fetch: () => Promise<T>, take: (found: T) => void) => Promise<void>
  apply: (change: () => void) => void
} {
  let pending: (() => void)[] | null = null

  async function load<T>(fetch: () => Promise<T>, take: (found: T) => void): Promise<void> {
    const replay: (() => void)[] = []
    pending = replay
    try {
      take(await fetch())
      for (const change of replay) change()
    } finally {
      if (pending === replay) pending = null
    }
  }

  function apply(change: () => void): void {
    change()
    pending?.push(change)
  }

  return { load, apply }
}
