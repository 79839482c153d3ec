import { createApp } from 'vue'
import WidgetApp from './WidgetApp.vue'
import './widget.css'

// The same page serves the chat (in the site's iframe) and the voice-call window (W-6), whose
// code comes only when that window opens.
if (new URLSearchParams(location.search).has('call')) {
  void import('./CallWindow.vue').then(({ default: CallWindow }) => createApp(CallWindow).mount('#widget'))
} else {
  createApp(WidgetApp).mount('#widget')
}
