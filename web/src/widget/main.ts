import { createApp } from 'vue'
import CallWindow from './CallWindow.vue'
import WidgetApp from './WidgetApp.vue'
import './widget.css'

// The same page serves the chat (in the site's iframe) and the voice-call window (W-6).
const isCallWindow = new URLSearchParams(location.search).has('call')
createApp(isCallWindow ? CallWindow : WidgetApp).mount('#widget')
