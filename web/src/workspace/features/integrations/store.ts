import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type {
  ApiScope,
  ApiTokenCreated,
  ApiTokenRead,
  WebhookDeliveryRead,
  WebhookEvent,
  WebhookRead,
} from '@/shared/types'

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

export interface WebhookForm {
  url: string
  description: string
  events: WebhookEvent[]
  resource_id: number | null
}

/** Administration → Webhooks: the hooks (with their secrets) and each one's delivery log. */
export const useWebhooksStore = defineStore('webhooks', () => {
  const hooks = ref<WebhookRead[]>([])
  const loaded = ref(false)

  async function load(): Promise<void> {
    hooks.value = await api.get<WebhookRead[]>('/api/admin/webhooks')
    loaded.value = true
  }

  function put(hook: WebhookRead): WebhookRead {
    const known = hooks.value.some((h) => h.id === hook.id)
    hooks.value = known ? hooks.value.map((h) => (h.id === hook.id ? hook : h)) : [hook, ...hooks.value]
    return hook
  }

  async function create(form: WebhookForm): Promise<WebhookRead> {
    return put(await api.post<WebhookRead>('/api/admin/webhooks', form))
  }

  async function update(
    id: number,
    changes: Partial<Omit<WebhookForm, 'resource_id'>> & { is_enabled?: boolean },
  ): Promise<WebhookRead> {
    return put(await api.patch<WebhookRead>(`/api/admin/webhooks/${id}`, changes))
  }

  async function newSecret(id: number): Promise<WebhookRead> {
    return put(await api.post<WebhookRead>(`/api/admin/webhooks/${id}/secret`))
  }

  async function remove(id: number): Promise<void> {
    await api.del(`/api/admin/webhooks/${id}`)
    hooks.value = hooks.value.filter((h) => h.id !== id)
  }

  async function deliveries(id: number, beforeId?: number): Promise<WebhookDeliveryRead[]> {
    const query = beforeId ? `?before_id=${beforeId}` : ''
    return api.get<WebhookDeliveryRead[]>(`/api/admin/webhooks/${id}/deliveries${query}`)
  }

  async function retry(id: number, deliveryId: number): Promise<WebhookDeliveryRead> {
    return api.post<WebhookDeliveryRead>(`/api/admin/webhooks/${id}/deliveries/${deliveryId}/retry`)
  }

  /** Told over the socket: the hook was switched off after failures. */
  function switchedOff(): void {
    if (loaded.value) void load()
  }

  return { hooks, loaded, load, create, update, newSecret, remove, deliveries, retry, switchedOff }
})
