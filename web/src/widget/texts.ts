/** The widget's words, in the page's language (Russian or English). */
const ru = {
  title: 'Чат с поддержкой',
  close: 'Свернуть чат',
  chooseTopic: 'Выберите тему обращения или просто напишите',
  chooseTopicNow: 'Уточните тему, чтобы мы быстрее вам помогли',
  placeholder: 'Напишите сообщение…',
  message: 'Сообщение',
  send: 'Отправить',
  attach: 'Прикрепить файл',
  removeFile: 'Убрать файл {name}',
  blocked: 'К сожалению, вы больше не можете писать в этот чат.',
  waiting: 'Ожидаем сотрудника…',
  operator: 'Вам отвечает {name}',
  you: 'Вы',
  unavailable: 'Чат сейчас недоступен.',
  reconnecting: 'Нет связи — переподключаемся…',
  typing: '{name} печатает…',
  tooFast: 'Вы пишете слишком часто. Подождите немного.',
}

const en: typeof ru = {
  title: 'Chat with support',
  close: 'Minimise chat',
  chooseTopic: 'Pick a topic or just write to us',
  chooseTopicNow: 'Pick a topic so we can help you faster',
  placeholder: 'Write a message…',
  message: 'Message',
  send: 'Send',
  attach: 'Attach a file',
  removeFile: 'Remove file {name}',
  blocked: 'Sorry, you can no longer send messages in this chat.',
  waiting: 'Waiting for an employee…',
  operator: '{name} is answering you',
  you: 'You',
  unavailable: 'The chat is not available right now.',
  reconnecting: 'Connection lost — reconnecting…',
  typing: '{name} is typing…',
  tooFast: 'You are writing too fast. Please wait a moment.',
}

export type TextKey = keyof typeof ru

export function texts(language: string): (key: TextKey, params?: Record<string, string>) => string {
  const table = language === 'ru' ? ru : en
  return (key, params = {}) => table[key].replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '')
}

export const TABLES = { ru, en }
