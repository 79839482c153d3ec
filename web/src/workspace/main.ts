import { createPinia } from 'pinia'
import { createApp } from 'vue'
import { setUnauthenticatedHandler } from '@/shared/api'
import App from './App.vue'
import { i18n, setLanguage, browserLanguage } from './i18n'
import { installErrorTranslator } from './errors'
import { useMeStore } from './features/me/store'
import { router } from './router'
import { stopRealtime } from './dispatcher'
import './styles.css'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(router)
setLanguage(browserLanguage())
installErrorTranslator()
setUnauthenticatedHandler(() => {
  stopRealtime()
  useMeStore().clear()
  if (router.currentRoute.value.path !== '/login') void router.push('/login')
})
app.mount('#app')
