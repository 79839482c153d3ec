import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/shared/api'
import type { EmployeeRead, GroupRead, ResourceRead } from '@/shared/types'

export const useAdminStore = defineStore('admin', () => {
  const employees = ref<EmployeeRead[]>([])
  const groups = ref<GroupRead[]>([])
  const resources = ref<ResourceRead[]>([])

  async function load(): Promise<void> {
    ;[employees.value, groups.value, resources.value] = await Promise.all([
      api.get<EmployeeRead[]>('/api/admin/employees'),
      api.get<GroupRead[]>('/api/admin/groups'),
      api.get<ResourceRead[]>('/api/admin/resources'),
    ])
  }

  function putEmployee(employee: EmployeeRead): void {
    const index = employees.value.findIndex((e) => e.id === employee.id)
    if (index >= 0) employees.value[index] = employee
    else employees.value.push(employee)
  }

  function putGroup(group: GroupRead): void {
    const index = groups.value.findIndex((g) => g.id === group.id)
    if (index >= 0) groups.value[index] = group
    else groups.value.push(group)
  }

  function resourceChanged(resource: ResourceRead): void {
    const index = resources.value.findIndex((r) => r.id === resource.id)
    if (index >= 0) resources.value[index] = resource
    else if (resources.value.length) resources.value.push(resource)
  }

  function queueName(queueId: number): string {
    for (const resource of resources.value) {
      const queue = resource.queues.find((q) => q.id === queueId)
      if (queue) return `${resource.name}: ${queue.name}`
    }
    return `#${queueId}`
  }

  return { employees, groups, resources, load, putEmployee, putGroup, resourceChanged, queueName }
})
