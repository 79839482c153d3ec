import type { RoomRead } from '@/shared/types'

/** Direct rooms are called after the other person; group rooms have their own name. */
export function roomTitle(room: RoomRead, myId: number): string {
  if (room.kind === 'direct') return room.members.find((m) => m.id !== myId)?.name ?? room.name
  return room.name
}
