import { formatSize } from '@/shared/sizes'

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
  queuePlace: 'Вы {n}-й в очереди',
  queuePlaceWait: 'Вы {n}-й в очереди, ожидание около {m} мин',
  queuePlaceShortWait: 'Вы {n}-й в очереди, ожидание меньше минуты',
  operator: 'Вам отвечает {name}',
  you: 'Вы',
  unavailable: 'Чат сейчас недоступен.',
  reconnecting: 'Нет связи — переподключаемся…',
  typing: '{name} печатает…',
  tooFast: 'Вы пишете слишком часто. Подождите немного.',
  voiceCall: 'Голосовой звонок',
  inviteCobrowse: 'Сотрудник просит показать ему эту страницу.',
  pageShared: 'Эта страница показывается сотруднику',
  stopSharing: 'Остановить показ',
  incomingCall: 'Сотрудник звонит вам',
  acceptCall: 'Принять звонок',
  decline: 'Отклонить',
  allow: 'Разрешить',
  deny: 'Запретить',
  accept: 'Принять',
  callInProgress: 'Идёт звонок',
  connecting: 'Соединяем…',
  mute: 'Выключить микрофон',
  unmute: 'Включить микрофон',
  hangUp: 'Завершить',
  callEnded: 'Звонок завершён. Это окно можно закрыть.',
  inviteVoice: 'Сотрудник приглашает вас к голосовому звонку.',
  inviteVideo: 'Сотрудник приглашает вас к видеозвонку.',
  inviteScreen: 'Сотрудник просит показать ваш экран.',
  videoCall: 'Видеозвонок',
  sharing: 'Вы показываете экран',
  minimise: 'Свернуть',
  restore: 'Развернуть',
  popupBlocked: 'Браузер не открыл окно звонка. Разрешите всплывающие окна и попробуйте снова.',
  noMedia: 'Нет доступа к камере, микрофону или экрану.',
  // A message refused because the client is blocked.
  notDelivered: 'Не доставлено',
  greeting: 'Здравствуйте! Чем можем помочь?',
  greetingHint: 'Напишите нам — сотрудник ответит здесь же.',
  liveVideo: 'Идёт видеозвонок: камера и микрофон включены',
  liveScreen: 'Идёт показ экрана',
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
  queuePlace: 'You are number {n} in the queue',
  queuePlaceWait: 'You are number {n} in the queue, about {m} min to wait',
  queuePlaceShortWait: 'You are number {n} in the queue, less than a minute to wait',
  operator: '{name} is answering you',
  you: 'You',
  unavailable: 'The chat is not available right now.',
  reconnecting: 'Connection lost — reconnecting…',
  typing: '{name} is typing…',
  tooFast: 'You are writing too fast. Please wait a moment.',
  voiceCall: 'Voice call',
  inviteCobrowse: 'An employee asks to see this page with you.',
  pageShared: 'This page is shared with an employee',
  stopSharing: 'Stop sharing',
  incomingCall: 'An employee is calling you',
  acceptCall: 'Accept call',
  decline: 'Decline',
  allow: 'Allow',
  deny: 'Deny',
  accept: 'Accept',
  callInProgress: 'Call in progress',
  connecting: 'Connecting…',
  mute: 'Mute microphone',
  unmute: 'Unmute microphone',
  hangUp: 'Hang up',
  callEnded: 'The call has ended. You can close this window.',
  inviteVoice: 'An employee invites you to a voice call.',
  inviteVideo: 'An employee invites you to a video call.',
  inviteScreen: 'An employee asks to see your screen.',
  videoCall: 'Video call',
  sharing: 'You are sharing your screen',
  minimise: 'Minimise',
  restore: 'Restore',
  popupBlocked: 'The browser did not open the call window. Allow pop-ups and try again.',
  noMedia: 'No access to the camera, microphone or screen.',
  // A message refused because the client is blocked.
  notDelivered: 'Not delivered',
  greeting: 'Hello! How can we help?',
  greetingHint: 'Write to us — an employee will answer right here.',
  liveVideo: 'Video call on: camera and microphone are live',
  liveScreen: 'Your screen is being shared',
}

export type TextKey = keyof typeof ru

export function texts(language: string): (key: TextKey, params?: Record<string, string>) => string {
  const table = language === 'ru' ? ru : en
  return (key, params = {}) => table[key].replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '')
}

export const TABLES = { ru, en }

/** Server refusals the chat can meet, by their stable code; the server's text is the fallback. */
const ERRORS_RU: Record<string, string> = {
  chat_unavailable: 'Этот чат недоступен.',
  origin: 'Чат не подключён для этого сайта.',
  visitor: 'Сеанс чата недействителен; обновите страницу.',
  blocked: 'К сожалению, вы больше не можете писать в этот чат.',
  too_many_requests: 'Вы пишете слишком часто. Подождите немного.',
  file_too_large: 'Файл слишком большой: предел {limit}.',
  file_empty: 'Файл пустой.',
  file_missing: 'Выберите файл.',
  file_not_found: 'Файл не найден.',
  file_gone: 'Файл больше недоступен.',
  message_too_long: 'Сообщение слишком длинное (не более {max} символов).',
  too_many_files: 'К одному сообщению можно приложить не более {max} файлов.',
  message_empty: 'Сообщение пустое.',
  attachment_unavailable: 'Приложенный файл недоступен; загрузите его снова.',
  message_id_taken: 'Сообщение не удалось отправить; попробуйте ещё раз.',
  topic_not_offered: 'Выберите одну из предложенных тем.',
  already_waiting: 'Ваше обращение уже ждёт сотрудника.',
  site_not_taking_requests: 'Сайт сейчас не принимает обращения.',
  site_has_no_queue: 'Сайт сейчас не принимает обращения.',
  client_not_found: 'Сеанс чата недействителен; обновите страницу.',
  call_not_found: 'Звонок уже завершён.',
  invitation_closed: 'Это приглашение уже недействительно.',
  call_not_setting_up: 'Звонок уже завершён.',
  invalid: 'Проверьте введённые данные.',
  out_of_range: 'Проверьте введённые данные.',
  concurrent_change: 'Не получилось с первого раза; попробуйте ещё раз.',
  database_unavailable: 'Чат временно недоступен. Попробуйте чуть позже.',
  unavailable: 'Чат временно недоступен. Попробуйте чуть позже.',
  internal: 'Что-то пошло не так.',
  not_found: 'Не найдено.',
}

const ERRORS_EN: typeof ERRORS_RU = {
  chat_unavailable: 'This chat is not available.',
  origin: 'This chat is not enabled for this website.',
  visitor: 'Your chat session is not valid; please reload the page.',
  blocked: 'Sorry, you can no longer send messages in this chat.',
  too_many_requests: 'You are writing too fast. Please wait a moment.',
  file_too_large: 'The file is too large: the limit is {limit}.',
  file_empty: 'The file is empty.',
  file_missing: 'Choose a file.',
  file_not_found: 'File not found.',
  file_gone: 'The file is no longer available.',
  message_too_long: 'The message is too long (at most {max} characters).',
  too_many_files: 'At most {max} files can go with one message.',
  message_empty: 'The message is empty.',
  attachment_unavailable: 'An attached file is not available; upload it again.',
  message_id_taken: 'The message could not be sent; please try again.',
  topic_not_offered: 'Please choose one of the offered topics.',
  already_waiting: 'Your request is already waiting for an employee.',
  site_not_taking_requests: 'This site is not taking requests right now.',
  site_has_no_queue: 'This site is not taking requests right now.',
  client_not_found: 'Your chat session is not valid; please reload the page.',
  call_not_found: 'The call has already ended.',
  invitation_closed: 'This invitation is no longer open.',
  call_not_setting_up: 'The call has already ended.',
  invalid: 'Please check what you entered.',
  out_of_range: 'Please check what you entered.',
  concurrent_change: 'That did not work the first time; please try again.',
  database_unavailable: 'The chat is unavailable for a moment. Please try again shortly.',
  unavailable: 'The chat is unavailable for a moment. Please try again shortly.',
  internal: 'Something went wrong.',
  not_found: 'Not found.',
}

export const ERROR_TABLES = { ru: ERRORS_RU, en: ERRORS_EN }

/** The chat's words for a server refusal, or null to show the server's own text. */
export function errorText(language: string, code: string, params: Record<string, unknown>): string | null {
  const template = (language === 'ru' ? ERRORS_RU : ERRORS_EN)[code]
  if (!template) return null
  const values: Record<string, string> = {}
  for (const [name, value] of Object.entries(params)) {
    if (name.endsWith('_bytes')) values[name.slice(0, -'_bytes'.length)] = formatSize(Number(value), language)
    else values[name] = String(value)
  }
  // A number the server did not send is left out with its clause rather than shown raw.
  const missing = [...template.matchAll(/\{(\w+)\}/g)].some(([, name]) => !(name in values))
  const usable = missing ? template.replace(/\s*[:(][^:(]*\{\w+\}.*$/, '.') : template
  return usable.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '')
}
