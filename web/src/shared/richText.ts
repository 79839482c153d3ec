/**
 * Light formatting of what people write: links (http, https, mailto), *bold*, _italic_ and
 * `code`. The text becomes a list of pieces that a component renders as elements, each with
 * the text as text: nothing a person writes is ever put into the page as HTML.
 */

export type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'bold' | 'italic' | 'code'; text: string }

// One pattern, tried left to right: code first (its content stays literal), then links, then
// the emphasis marks. Emphasis needs a non-space right inside its marks and no letter or digit
// right outside them, so snake_case_names and 2*3*4 stay as they are.
const PATTERN = new RegExp(
  [
    '`([^`\\n]+)`',
    '((?:https?:\\/\\/|mailto:)[^\\s<>"]+)',
    '(?<![\\p{L}\\p{N}*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![\\p{L}\\p{N}*])',
    '(?<![\\p{L}\\p{N}_])_(?=\\S)([^_\\n]*?\\S)_(?![\\p{L}\\p{N}_])',
  ].join('|'),
  'gu',
)

// What usually ends a sentence rather than an address: left out of the link.
const TRAILING = /[.,;:!?'"»)\]]+$/u

function splitLink(raw: string): [string, string] {
  let link = raw.replace(TRAILING, '')
  // A closing parenthesis belongs to the address when the address opened one (Wikipedia).
  const rest = raw.slice(link.length)
  if (rest.startsWith(')') && (link.match(/\(/g)?.length ?? 0) > (link.match(/\)/g)?.length ?? 0)) {
    link += ')'
  }
  return [link, raw.slice(link.length)]
}

export function richText(source: string): Piece[] {
  const pieces: Piece[] = []
  const text = (value: string): void => {
    if (!value) return
    const last = pieces[pieces.length - 1]
    if (last?.kind === 'text') last.text += value
    else pieces.push({ kind: 'text', text: value })
  }
  let at = 0
  for (const match of source.matchAll(PATTERN)) {
    const start = match.index ?? 0
    text(source.slice(at, start))
    const [whole, code, url, bold, italic] = match
    if (code !== undefined) pieces.push({ kind: 'code', text: code })
    else if (url !== undefined) {
      const [link, after] = splitLink(url)
      if (/^(https?:\/\/[^/\s]+|mailto:[^\s@]+@[^\s@]+)/u.test(link)) {
        pieces.push({ kind: 'link', text: link, href: link })
      } else text(link)
      text(after)
    } else if (bold !== undefined) pieces.push({ kind: 'bold', text: bold })
    else if (italic !== undefined) pieces.push({ kind: 'italic', text: italic })
    else text(whole)
    at = start + whole.length
  }
  text(source.slice(at))
  return pieces
}
