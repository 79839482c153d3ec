import { createRouter, createWebHistory } from 'vue-router'
import { useMeStore } from './features/me/store'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', component: () => import('./features/auth/LoginPage.vue') },
    { path: '/cobrowse/:callId', component: () => import('./features/cobrowse/CobrowsePage.vue') },
    {
      path: '/admin',
      component: () => import('./features/admin/AdminPage.vue'),
      meta: { admin: true },
    },
    { path: '/replies', component: () => import('./features/replies/RepliesPage.vue') },
    { path: '/archive', component: () => import('./features/archive/ArchivePage.vue') },
    {
      path: '/reports',
      component: () => import('./features/reports/ReportsPage.vue'),
      meta: { overseers: true },
    },
    {
      path: '/',
      component: () => import('./features/shell/WorkspacePage.vue'),
      children: [
        { path: '', redirect: '/queue' },
        { path: 'queue', component: () => import('./features/requests/QueueSection.vue') },
        { path: 'requests/:requestId?', component: () => import('./features/requests/RequestsSection.vue') },
        { path: 'employees/:roomId?', component: () => import('./features/rooms/RoomsSection.vue') },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  const me = useMeStore()
  if (to.path === '/login') return true
  if (!me.me) {
    try {
      await me.load()
    } catch {
      return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    }
  }
  if (to.meta.admin && me.me?.role !== 'admin') return '/'
  // Reports: administrators and supervisors.
  if (to.meta.overseers && me.me?.role !== 'admin' && me.me?.role !== 'supervisor') return '/'
  return true
})
