/** What stands for a person without a photo: the first letters of the first two words of
 * their name ("Анна Смирнова" → "АС"). */
export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0].toUpperCase())
    .join('')
}
