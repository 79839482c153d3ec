/**
 * The only script a website adds. It stays tiny: a chat button and an iframe with the chat UI
 * served by IMP, so the site's styles and the widget's never mix.
 *   <script src="https://imp.example.com/widget/loader.js" data-imp-key="KEY" async></script>
 *
 * It also gives the page `window.IMP` (README, "Widget JavaScript API"): open, close, toggle,
 * on('open' | 'close' | 'message', fn), setUser and setAttributes. Calls made before it loaded
 * wait in `IMP.q` as [name, ...arguments] and are made now, in order.
 */
;(() => {
  const script = document.currentScript as HTMLScriptElement | null
  const key = script?.dataset.impKey
  if (!script || !key || document.getElementById('imp-widget-frame')) return
  const base = new URL(script.src).origin
  const lang = (document.documentElement.lang || navigator.language || 'en').slice(0, 2).toLowerCase()
  let label = lang === 'ru' ? 'Чат с поддержкой' : 'Chat with support'
  const stateKey = 'imp-widget-open'

  const button = document.createElement('button')
  button.type = 'button'
  button.id = 'imp-widget-button'
  button.setAttribute('aria-label', label)
  button.title = label
  button.innerHTML =
    '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2Z"/></svg><span id="imp-widget-badge" hidden></span><span id="imp-widget-live" hidden></span>'
  button.style.cssText =
    'position:fixed;right:20px;bottom:20px;z-index:2147483646;width:60px;height:60px;border-radius:50%;border:none;background:#3b5bdb;color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);cursor:pointer;display:flex;align-items:center;justify-content:center'
  const badge = button.querySelector('span') as HTMLSpanElement
  // A red dot while a camera, microphone or screen is live in the chat (even when it is collapsed).
  const live = button.querySelector('#imp-widget-live') as HTMLSpanElement
  live.style.cssText =
    'position:absolute;bottom:2px;right:2px;width:14px;height:14px;border-radius:50%;background:#e03131;border:2px solid #fff'
  const liveNote = document.createElement('div')
  liveNote.id = 'imp-widget-live-note'
  liveNote.setAttribute('role', 'status')
  liveNote.style.cssText =
    'position:fixed;right:88px;bottom:34px;z-index:2147483646;background:#e03131;color:#fff;font:13px sans-serif;padding:6px 12px;border-radius:16px;box-shadow:0 4px 14px rgba(0,0,0,.25);display:none'
  let liveLabel = ''
  let pageTitle = ''
  badge.style.cssText =
    'position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#e03131;color:#fff;font:12px/20px sans-serif;padding:0 5px'

  const frame = document.createElement('iframe')
  frame.id = 'imp-widget-frame'
  frame.className = button.className = liveNote.className = 'imp-own'
  frame.title = label
  frame.allow = 'microphone; camera; display-capture; autoplay'
  const params = new URLSearchParams({ key, lang, page: location.href, origin: location.origin })
  frame.src = `${base}/widget/frame?${params}`
  // The website's choice (its look, told by the chat once it knows it): colour, side, label.
  let side = 'right'
  const small = () => window.innerWidth < 600
  const pageOverflow = document.documentElement.style.overflow
  const place = () => {
    // Full screen on a phone: the page behind neither scrolls nor keeps its scrollbar beside
    // the chat (a classic scrollbar, as desktop Firefox draws, would narrow the chat).
    document.documentElement.style.overflow = small() && open ? 'hidden' : pageOverflow
    // Fitted to what is visible, not to the layout: a phone's on-screen keyboard shrinks only
    // the visual viewport (and scrolls it), and the composer must stay above the keyboard.
    const seen = window.visualViewport
    const box = seen
      ? `top:${seen.offsetTop}px;left:${seen.offsetLeft}px;width:${seen.width}px;height:${seen.height}px`
      : 'inset:0;width:100%;height:100%'
    frame.style.cssText = small()
      ? `position:fixed;${box};border:none;z-index:2147483647;background:#fff`
      : `position:fixed;${side}:20px;bottom:92px;width:380px;height:min(620px,calc(100vh - 120px));border:none;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.25);z-index:2147483647;background:#fff`
    frame.style.display = open ? 'block' : 'none'
    liveNote.style.display = liveLabel && !open ? 'block' : 'none'
  }
  let open = sessionStorage.getItem(stateKey) === '1'
  // The page's listeners (IMP.on): one that throws must not stop the chat or the others.
  const listeners: Record<string, ((data?: unknown) => void)[]> = {}
  const emit = (name: string, data?: unknown) =>
    listeners[name]?.forEach((listener) => {
      try {
        listener(data)
      } catch (error) {
        console.error(error)
      }
    })
  const setOpen = (value: boolean) => {
    if (value !== open) emit(value ? 'open' : 'close')
    open = value
    sessionStorage.setItem(stateKey, value ? '1' : '0')
    place()
    button.setAttribute('aria-expanded', String(value))
    frame.contentWindow?.postMessage({ type: 'imp:visibility', open: value }, base)
  }
  // Who the visitor is and what the site says of them, handed to the chat once it is ready
  // (and again should it start afresh). Plain copies: a page's object may hold anything.
  let user: unknown = null
  let attributes: unknown = null
  let ready = false
  const plain = (value: unknown) => JSON.parse(JSON.stringify(value ?? null)) as unknown
  const tell = (type: string, value: unknown) => ready && value && toFrame({ type, value })
  const api: Record<string, (...args: never[]) => void> = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!open),
    on: (name: string, listener: (data?: unknown) => void) => {
      if (typeof listener === 'function') (listeners[name] ||= []).push(listener)
    },
    setUser: (value: unknown) => tell('imp:user', (user = plain(value))),
    // The chat gets all the page gave so far: the server merges, so a repeat changes nothing.
    // Anything but an object goes as it is, for the server to say what is wrong with it.
    setAttributes: (value: unknown) => {
      const given = plain(value)
      const isObject = given && typeof given === 'object' && !Array.isArray(given)
      tell('imp:attributes', (attributes = isObject ? { ...(attributes as object), ...given } : given))
    },
  }
  const run = ([name, ...args]: [string, ...never[]]) => api[name]?.(...args)

  button.addEventListener('click', () => setOpen(!open))
  window.addEventListener('resize', place)
  window.visualViewport?.addEventListener('resize', place)
  window.visualViewport?.addEventListener('scroll', place)
  // Co-browsing: the recorder is loaded only once the client allows sharing this page.
  let bar: HTMLDivElement | null = null
  const toFrame = (message: unknown) => frame.contentWindow?.postMessage(message, base)
  const startSharing = (callId: number) => {
    const begin = () =>
      window.__impCobrowse?.start((events) => toFrame({ type: 'imp:cobrowse:events', callId, events }))
    if (window.__impCobrowse) begin()
    else {
      const recorder = document.createElement('script')
      recorder.src = `${base}/widget/cobrowse.js`
      recorder.onload = begin
      document.head.append(recorder)
    }
    if (!bar) {
      bar = document.createElement('div')
      bar.id = 'imp-cobrowse-bar'
      bar.className = 'imp-own'
      bar.setAttribute('role', 'status')
      bar.style.cssText =
        'position:fixed;left:50%;top:12px;transform:translateX(-50%);z-index:2147483647;background:#e03131;color:#fff;font:14px sans-serif;padding:8px 14px;border-radius:20px;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;gap:10px;align-items:center'
      const text = document.createElement('span')
      text.textContent = lang === 'ru' ? 'Эта страница показывается сотруднику' : 'This page is shared with an employee'
      const stop = document.createElement('button')
      stop.type = 'button'
      stop.textContent = lang === 'ru' ? 'Остановить' : 'Stop'
      stop.style.cssText = 'border:none;border-radius:12px;padding:3px 10px;cursor:pointer'
      stop.onclick = () => toFrame({ type: 'imp:cobrowse:stop' })
      bar.append(text, stop)
      document.body.append(bar)
    }
  }
  const stopSharing = () => {
    window.__impCobrowse?.stop()
    bar?.remove()
    bar = null
  }

  window.addEventListener('message', (event) => {
    if (event.origin !== base || event.source !== frame.contentWindow) return
    const data = event.data as { type?: string; count?: number; callId?: number; command?: never; live?: boolean; label?: string; name?: string; data?: unknown; position?: string; colour?: string }
    if (data.type === 'imp:cobrowse:start' && data.callId) startSharing(data.callId)
    if (data.type === 'imp:cobrowse:end') stopSharing()
    if (data.type === 'imp:cobrowse:control' && data.command) window.__impCobrowse?.control(data.command)
    if (data.type === 'imp:open') setOpen(true)
    if (data.type === 'imp:close') setOpen(false)
    if (data.type === 'imp:call') {
      liveLabel = (data.live && data.label) || ''
      live.hidden = !liveLabel
      liveNote.textContent = liveLabel
      button.title = liveLabel || label
      place()
    }
    if (data.type === 'imp:look') {
      const left = data.position === 'left'
      side = left ? 'left' : 'right'
      button.style.left = left ? '20px' : ''
      button.style.right = left ? 'auto' : '20px'
      liveNote.style.left = left ? '88px' : ''
      liveNote.style.right = left ? 'auto' : '88px'
      if (/^#[0-9a-f]{6}$/i.test(data.colour ?? '')) button.style.background = data.colour as string
      if (data.label) button.title = label = data.label
      button.setAttribute('aria-label', label)
      frame.title = label
      place()
    }
    if (data.type === 'imp:ready') {
      ready = true
      tell('imp:user', user)
      tell('imp:attributes', attributes)
    }
    if (data.type === 'imp:event' && data.name === 'message') emit('message', data.data)
    if (data.type === 'imp:unread') {
      badge.hidden = !data.count
      badge.textContent = String(data.count ?? '')
      // The count in the page's title too, for a tab in the background.
      if (data.count) document.title = `(${data.count}) ${(pageTitle ||= document.title)}`
      else if (pageTitle) [document.title, pageTitle] = [pageTitle, '']
    }
  })
  frame.addEventListener('load', () => setOpen(open))
  place()
  document.body.append(frame, button, liveNote)
  const queued = (window.IMP?.q ?? []) as [string, ...never[]][]
  // Pushed to after this, the queue is run at once (a page may keep using IMP.q.push).
  window.IMP = { ...api, q: { push: run } }
  queued.forEach(run)
})()

declare global {
  interface Window {
    IMP?: { q?: unknown } & Record<string, unknown>
  }
}

export {}
