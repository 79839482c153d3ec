import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { Reply } from './fill'

export interface ReplyWrite {
  code: string
  text: string
  shared: boolean
  resource_id: number | null
}

/** The canned replies this employee may insert; loaded once, kept as they are changed here. */
export const useRepliesStore = defineStore('replies', () => {
  const replies = ref<Reply[]>([])
  const loaded = ref(false)
  let loading: Promise<void> | null = null

  function load(): Promise<void> {
    loading ??= api
      .get<Reply[]>('/api/replies')
      .then((found) => {
        replies.value = found
        loaded.value = true
      })
      .finally(() => (loading = null))
    return loading
  }

  async function save(data: ReplyWrite, id?: number): Promise<Reply> {
    const saved = id
      ? await api.put<Reply>(`/api/replies/${id}`, data)
      : await api.post<Reply>('/api/replies', data)
    replies.value = [...replies.value.filter((r) => r.id !== saved.id), saved].sort((a, b) =>
      a.code.localeCompare(b.code),
    )
    return saved
  }

  async function remove(id: number): Promise<void> {
    await api.del(`/api/replies/${id}`)
    replies.value = replies.value.filter((r) => r.id !== id)
  }

  return { replies, loaded, load, save, remove }
})
