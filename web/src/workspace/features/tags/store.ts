import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { TagRead } from '@/shared/types'

/** The tag list (administrators keep it): loaded once, kept as it is changed here. */
export const useTagsStore = defineStore('tags', () => {
  const tags = ref<TagRead[]>([])
  const loaded = ref(false)
  let loading: Promise<void> | null = null

  function load(): Promise<void> {
    loading ??= api
      .get<TagRead[]>('/api/tags')
      .then((found) => {
        tags.value = found
        loaded.value = true
      })
      .finally(() => (loading = null))
    return loading
  }

  function byName(list: TagRead[]): TagRead[] {
    return [...list].sort((a, b) => a.name.localeCompare(b.name))
  }

  async function save(data: { name: string; color: string }, id?: number): Promise<TagRead> {
    const saved = id
      ? await api.put<TagRead>(`/api/admin/tags/${id}`, data)
      : await api.post<TagRead>('/api/admin/tags', data)
    tags.value = byName([...tags.value.filter((t) => t.id !== saved.id), saved])
    return saved
  }

  async function remove(id: number): Promise<void> {
    await api.del(`/api/admin/tags/${id}`)
    tags.value = tags.value.filter((t) => t.id !== id)
  }

  return { tags, loaded, load, save, remove }
})
