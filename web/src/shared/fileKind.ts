/** A file's type as people know it: "PDF", "DOCX", "ZIP" — from its name, else its media type. */
export function fileTypeLabel(fileName: string, contentType: string): string {
  const extension = /\.([a-z0-9]{1,5})$/i.exec(fileName)?.[1]
  if (extension) return extension.toUpperCase()
  const subtype = contentType.split('/')[1] ?? ''
  return subtype && subtype !== 'octet-stream' ? subtype.split(/[.+-]/).pop()!.toUpperCase() : ''
}
