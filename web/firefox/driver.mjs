/**
 * Stock Firefox (Debian's firefox-esr), driven headless over WebDriver BiDi with puppeteer-core,
 * for the browser tests in tests/e2e/test_firefox.py.
 *
 * The tests are written in Python beside the Chromium ones; this process is their hands in
 * Firefox. It reads one JSON command per line on stdin and answers one JSON line on stdout:
 * {"id", "ok": true, "value"} or {"id", "ok": false, "error"}. Pages and the frames in them are
 * named by ids the answers hand out.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import puppeteer from 'puppeteer-core'

const FIREFOX = process.env.IMP_FIREFOX ?? '/usr/bin/firefox-esr'
// Fake camera and microphone, no permission prompts: what Chromium's fake-device flags do.
const PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Screen capture without the picker, where the build allows it.
  'media.getdisplaymedia.enabled': true,
  'privacy.webrtc.legacyGlobalIndicator': false,
  // Local servers on 127.0.0.1 are plain HTTP: no upgrade, no warning page.
  'dom.security.https_first': false,
  'network.proxy.allow_hijacking_localhost': false,
  'dom.disable_open_during_load': false,
  // The Russian UI, as the Chromium tests use (navigator.language follows this).
  'intl.accept_languages': 'ru-RU, ru',
  'intl.locale.requested': 'ru-RU',
}

let browser = null
const pages = new Map()
let nextPageId = 1
let uploads = null

function pageOf(id) {
  const page = pages.get(id)
  if (!page) throw new Error(`no page ${id}`)
  return page
}

/** The frame to act in: the page's main frame, or the iframe a selector names. */
async function frameOf(command) {
  const page = pageOf(command.page)
  if (!command.frame) return page.mainFrame()
  const deadline = Date.now() + (command.timeout ?? 15000)
  for (;;) {
    const element = await page.$(command.frame)
    const frame = element && (await element.contentFrame())
    if (frame) return frame
    if (Date.now() > deadline) throw new Error(`no frame ${command.frame}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function remember(page) {
  const id = nextPageId++
  pages.set(id, page)
  page.on('close', () => pages.delete(id))
  return id
}

/** A function's source, called with the arguments in the page: (source)(...args). */
function call(frame, source, args) {
  return frame.evaluate(
    (text, values) => new Function(`return (${text})`)()(...values),
    source,
    args ?? [],
  )
}

/**
 * Mark the element a command's function finds, then act on it by the mark. A page may render
 * the element anew between the two (a list redrawn as data arrives): the new one has no mark,
 * so it is found and marked again, as a person would look again, until the deadline.
 */
async function onMarked(command, act) {
  const deadline = Date.now() + (command.timeout ?? 15000)
  for (;;) {
    const frame = await frameOf(command)
    const marker = `ff-${Math.random().toString(36).slice(2)}`
    const found = await call(frame, command.source, [...(command.args ?? []), marker])
    if (found) {
      try {
        await act(frame, `[data-ff="${marker}"]`)
        return
      } catch (error) {
        if (!String(error).includes('No element found') || Date.now() > deadline) throw error
      }
    } else if (Date.now() > deadline) {
      throw new Error(`nothing to act on (${command.what ?? 'element'})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const COMMANDS = {
  async launch() {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      // Headless, but for screen capture: headless Firefox has no screen to share, so that
      // test runs it on a virtual display (Xvfb), where it captures that screen.
      headless: !process.env.IMP_FIREFOX_ON_DISPLAY,
      extraPrefsFirefox: PREFS,
      protocolTimeout: 60000,
    })
    return await browser.version()
  },
  /** A tab in a browser context of its own (its own cookies and storage: another person),
   * or in the context of the page ``beside``. */
  async newPage({ viewport, beside }) {
    const context = beside ? pageOf(beside).browserContext() : await browser.createBrowserContext()
    const page = await context.newPage()
    if (viewport) await page.setViewport(viewport)
    return remember(page)
  },
  async goto({ page, url }) {
    await pageOf(page).goto(url, { waitUntil: 'load' })
    return pageOf(page).url()
  },
  async reload({ page }) {
    await pageOf(page).reload({ waitUntil: 'load' })
    return true
  },
  async url({ page }) {
    return pageOf(page).url()
  },
  async setViewport({ page, viewport }) {
    await pageOf(page).setViewport(viewport)
    return true
  },
  /** Run a function in the page (or frame) and hand back what it returns. */
  async evaluate(command) {
    return await call(await frameOf(command), command.source, command.args)
  },
  /** Run a function until it returns something truthy, and hand that back. */
  async waitFor(command) {
    const deadline = Date.now() + (command.timeout ?? 15000)
    let last = null
    for (;;) {
      try {
        last = await call(await frameOf(command), command.source, command.args)
        if (last) return last
      } catch (error) {
        // A frame being replaced or a page navigating: try again until the deadline.
        last = String(error)
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting (${command.what ?? 'condition'}); last: ${JSON.stringify(last)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  },
  /** A real click (a user gesture: pop-ups and media may need one) on the element a function
   * finds; the function marks it with a data attribute, which the click then uses. */
  async click(command) {
    await onMarked(command, (frame, selector) => frame.click(selector))
    return true
  },
  /** Type text with the keyboard into the element a function finds (marked as for click). */
  async type(command) {
    await onMarked(command, (frame, selector) => frame.type(selector, command.text))
    if (command.press) await pageOf(command.page).keyboard.press(command.press)
    return true
  },
  /** A click at a point of the page, as a pointer gives it (in CSS pixels of the tab). */
  async mouseClick({ page, x, y }) {
    await pageOf(page).mouse.click(x, y)
    return true
  },
  async keyboardType({ page, text }) {
    await pageOf(page).keyboard.type(text, { delay: 30 })
    return true
  },
  async press({ page, key }) {
    await pageOf(page).keyboard.press(key)
    return true
  },
  /** Choose files in a file input, as a person picking them would. */
  async upload(command) {
    uploads ??= await mkdtemp(join(tmpdir(), 'imp-firefox-'))
    const paths = []
    for (const file of command.files) {
      const folder = await mkdtemp(join(uploads, 'f-'))
      const path = join(folder, file.name)
      await writeFile(path, Buffer.from(file.base64, 'base64'))
      paths.push(path)
    }
    const frame = await frameOf(command)
    const input = await frame.$(command.selector)
    if (!input) throw new Error(`no file input ${command.selector}`)
    await input.uploadFile(...paths)
    return true
  },
  /** Pages opened by the pages here (a call window): their ids and addresses. */
  async pages() {
    const open = await browser.pages()
    const known = new Set(pages.values())
    for (const page of open) if (!known.has(page)) remember(page)
    return [...pages.entries()].map(([id, page]) => ({ id, url: page.url() }))
  },
  /** Close every tab of the people opened so far (their sockets with them). */
  async closeContexts() {
    // Leaving each page first closes its sockets the way a person leaving does, at once;
    // a discarded context may leave the server waiting for them.
    for (const page of await browser.pages()) {
      await page.goto('about:blank', { timeout: 5000 }).catch(() => undefined)
    }
    for (const context of browser.browserContexts()) {
      if (context !== browser.defaultBrowserContext()) await context.close()
    }
    pages.clear()
    return true
  },
  async closePage({ page }) {
    await pageOf(page).close()
    return true
  },
  async close() {
    await browser?.close()
    browser = null
    return true
  },
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (!line.trim()) continue
  const command = JSON.parse(line)
  let answer
  try {
    const run = COMMANDS[command.command]
    if (!run) throw new Error(`unknown command ${command.command}`)
    answer = { id: command.id, ok: true, value: (await run(command)) ?? null }
  } catch (error) {
    answer = { id: command.id, ok: false, error: String(error?.stack ?? error) }
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`)
  if (command.command === 'close') break
}
await browser?.close().catch(() => undefined)
// Nothing is left to do: exit now rather than when every handle the library opened is gone.
process.exit(0)
