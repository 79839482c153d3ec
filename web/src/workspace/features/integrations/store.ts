import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { ApiScope, ApiTokenCreated, ApiTokenRead } from '@/shared/types'

/** Administration → API tokens: the list (never the secrets), made and revoked here. */
export const useApiTokensStore = defineStore('apiTokens', () => {
  const tokens = ref<ApiTokenRead[]>([])
  const loaded = ref(false)

  async function load(): Promise<void> {
    tokens.value = await api.get<ApiTokenRead[]>('/api/admin/api-tokens')
    loaded.value = true
  }

  /** The new token; its secret is in this answer only. */
  async function create(data: {
    name: string
    scopes: ApiScope[]
    resource_id: number | null
  }): Promise<ApiTokenCreated> {
    const created = await api.post<ApiTokenCreated>('/api/admin/api-tokens', data)
    const listed: ApiTokenRead = { ...created }
    delete (listed as Partial<ApiTokenCreated>).secret
    tokens.value = [listed, ...tokens.value]
    return created
  }

  async function revoke(id: number): Promise<void> {
    const revoked = await api.post<ApiTokenRead>(`/api/admin/api-tokens/${id}/revoke`)
    tokens.value = tokens.value.map((t) => (t.id === id ? revoked : t))
  }

  return { tokens, loaded, load, create, revoke }
})
