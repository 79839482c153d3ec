import { describe, expect, it } from 'vitest'
import { richText } from './richText'

describe('formatting what people write', () => {
  it('keeps plain text as one piece', () => {
    expect(richText('Здравствуйте! Чем помочь?')).toEqual([{ kind: 'text', text: 'Здравствуйте! Чем помочь?' }])
  })

  it('makes links of http, https and mailto addresses only', () => {
    expect(richText('См. https://shop.example/заказ?id=5, или mailto:help@shop.example.')).toEqual([
      { kind: 'text', text: 'См. ' },
      { kind: 'link', text: 'https://shop.example/заказ?id=5', href: 'https://shop.example/заказ?id=5' },
      { kind: 'text', text: ', или ' },
      { kind: 'link', text: 'mailto:help@shop.example', href: 'mailto:help@shop.example' },
      { kind: 'text', text: '.' },
    ])
    expect(richText('javascript:alert(1) и data:text/html,<b>x</b> и ftp://x')).toEqual([
      { kind: 'text', text: 'javascript:alert(1) и data:text/html,<b>x</b> и ftp://x' },
    ])
  })

  it('keeps a closing parenthesis that the address opened', () => {
    const pieces = richText('(см. https://ru.wikipedia.org/wiki/Чай_(напиток))')
    expect(pieces[1]).toEqual({
      kind: 'link',
      text: 'https://ru.wikipedia.org/wiki/Чай_(напиток)',
      href: 'https://ru.wikipedia.org/wiki/Чай_(напиток)',
    })
    expect(pieces[2]).toEqual({ kind: 'text', text: ')' })
  })

  it('renders *bold*, _italic_ and `code`', () => {
    expect(richText('*Важно*: _до пятницы_, код `a*b_c`')).toEqual([
      { kind: 'bold', text: 'Важно' },
      { kind: 'text', text: ': ' },
      { kind: 'italic', text: 'до пятницы' },
      { kind: 'text', text: ', код ' },
      { kind: 'code', text: 'a*b_c' },
    ])
  })

  it('leaves marks inside words and lone marks alone', () => {
    for (const plain of ['snake_case_name', '2*3*4 = 24', '* не список', 'a * b * c', '_ _']) {
      expect(richText(plain)).toEqual([{ kind: 'text', text: plain }])
    }
  })

  it('never turns markup into elements', () => {
    const source = '<img src=x onerror=alert(1)> *<b>жирный</b>*'
    const pieces = richText(source)
    expect(pieces.map((p) => p.text).join('')).toBe('<img src=x onerror=alert(1)> <b>жирный</b>')
    expect(pieces[1]).toEqual({ kind: 'bold', text: '<b>жирный</b>' })
  })
})
