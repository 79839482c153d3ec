/** Tables as CSV that Excel opens with Cyrillic intact: UTF-8 with a byte-order mark,
 * semicolons (Excel's separator where the decimal comma is used), quoted where needed. */
export function toCsv(rows: (string | number | null)[][]): string {
  const cell = (value: string | number | null): string => {
    const text = value === null ? '' : String(value)
    return /[";\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }
  return '\ufeff' + rows.map((row) => row.map(cell).join(';')).join('\r\n') + '\r\n'
}

export function download(name: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
