/**
 * Co-browsing recorder, loaded into the website's page only after the client allowed sharing.
 * It records the page with rrweb (passwords and anything marked data-private stay masked) and
 * carries out the employee's actions: click, typing into fields, scrolling, showing the pointer.
 */
import { record } from 'rrweb'

type Send = (events: unknown[]) => void

interface Control {
  action: 'click' | 'input' | 'scroll' | 'pointer' | 'snapshot'
  id?: number
  value?: string
  dx?: number
  dy?: number
  x?: number
  y?: number
}

const FLUSH_MS = 40
let stopRecording: (() => void) | undefined
let buffer: unknown[] = []
let timer: ReturnType<typeof setTimeout> | undefined
let pointer: HTMLDivElement | null = null

function isPrivate(element: HTMLElement | null): boolean {
  return !!element && (element.closest('[data-private]') !== null || (element as HTMLInputElement).type === 'password')
}

function start(send: Send): void {
  stop()
  const flush = () => {
    timer = undefined
    if (buffer.length) send(buffer.splice(0))
  }
  stopRecording = record({
    emit(event) {
      buffer.push(event)
      timer ??= setTimeout(flush, FLUSH_MS)
    },
    maskInputOptions: { password: true },
    maskInputFn: (text, element) => (isPrivate(element) ? '*'.repeat(text.length) : text),
    maskTextSelector: '[data-private]',
    // Blocked elements are sent as empty boxes of their size: what the site marks private
    // (and our own widget) never leaves the page. A blocked element keeps only its class, so
    // the loader's own elements carry `imp-own` for the employee's window to leave them out.
    blockSelector: '[data-private], .imp-own, #imp-widget-frame, #imp-widget-button, #imp-cobrowse-bar, #imp-cobrowse-pointer',
    sampling: { mousemove: 50, scroll: 100 },
    recordCanvas: false,
    collectFonts: false,
  })
}

function stop(): void {
  stopRecording?.()
  stopRecording = undefined
  clearTimeout(timer)
  timer = undefined
  buffer = []
  pointer?.remove()
  pointer = null
}

function nodeOf(id: number | undefined): HTMLElement | null {
  if (id === undefined) return null
  const node = record.mirror.getNode(id)
  return node instanceof HTMLElement ? node : null
}

function control(command: Control): void {
  switch (command.action) {
    case 'snapshot':
      // The employee's window connected after the first snapshot went out: it needs a whole
      // page to apply the changes to.
      if (stopRecording) record.takeFullSnapshot(true)
      return
    case 'click': {
      const node = nodeOf(command.id)
      if (!node) return
      node.focus?.()
      node.click()
      return
    }
    case 'input': {
      const node = nodeOf(command.id)
      if (!(node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement) || isPrivate(node)) return
      node.focus()
      // The native setter, so that frameworks listening for input see the change.
      const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(node), 'value')?.set
      setter?.call(node, String(command.value ?? ''))
      node.dispatchEvent(new Event('input', { bubbles: true }))
      node.dispatchEvent(new Event('change', { bubbles: true }))
      return
    }
    case 'scroll':
      window.scrollBy(command.dx ?? 0, command.dy ?? 0)
      return
    case 'pointer': {
      if (!pointer) {
        pointer = document.createElement('div')
        pointer.id = 'imp-cobrowse-pointer'
        pointer.setAttribute('aria-hidden', 'true')
        pointer.style.cssText =
          'position:absolute;z-index:2147483647;width:16px;height:16px;margin:-8px 0 0 -8px;border-radius:50%;background:rgba(224,49,49,.7);box-shadow:0 0 0 4px rgba(224,49,49,.25);pointer-events:none;transition:left .05s,top .05s'
        document.body.append(pointer)
      }
      pointer.style.left = `${command.x ?? 0}px`
      pointer.style.top = `${command.y ?? 0}px`
      return
    }
  }
}

declare global {
  interface Window {
    __impCobrowse?: { start: (send: Send) => void; stop: () => void; control: (command: Control) => void }
  }
}

window.__impCobrowse = { start, stop, control }
