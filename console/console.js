// The console: Slack-like channels and threads, a mail pane and an ambient pane over the local
// stand-ins. Every action goes through the real path (signed requests to the Slack edge, raw
// MIME through the email edge); what the agents post arrives as server-sent events.

import { loadEvals } from './evals.js';

const state = {
  workspace: null,
  channels: [],
  slack: new Map(),
  sessions: new Map(),
  mail: new Map(),
  pane: null,
  channel: null,
  thread: null,
  mailThread: null,
  temporalUiUrl: null,
};
const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

// The token of this start of the console, from the address npm start printed. It is kept for
// the tab's life and taken out of the address bar, so a reload works and a shared screenshot
// or copied address does not carry it.
const token = (() => {
  const query = new URLSearchParams(location.search);
  const given = query.get('token');
  if (given) {
    sessionStorage.setItem('console-token', given);
    query.delete('token');
    const rest = query.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }
  return given ?? sessionStorage.getItem('console-token') ?? '';
})();

async function api(path, body) {
  const headers = { 'x-console-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const response = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  if (response.status === 401) {
    $('#connection').textContent = 'no access: open the URL npm start printed';
    throw new Error(json.error ?? 'the console token is missing or out of date');
  }
  if (!response.ok || json.ok === false) throw new Error(json.error ?? json.edge?.error ?? `HTTP ${response.status}`);
  return json;
}

// The emoji codes the replies use, as symbols every system font has (a bare Linux lacks emoji fonts).
const EMOJI = {
  ':white_check_mark:': '✔',
  ':raised_hand:': '☛',
  ':hourglass_flowing_sand:': '⌛',
  ':hammer_and_wrench:': '⚒',
  ':octagonal_sign:': '⛔',
  ':x:': '✘',
  ':warning:': '⚠',
  ':thinking_face:': '…',
};

// Slack mrkdwn, the little of it the agents write: ```blocks```, *bold*, _italic_, `code`, <url|text>, :emoji:, and & < > escapes.
function mrkdwn(text) {
  const fragment = document.createDocumentFragment();
  const pattern =
    /```\n?([\s\S]+?)```|(:[a-z_]+:)|<(https?:[^|>]+)(?:\|([^>]+))?>|`([^`]+)`|(?<!\w)\*([^*\n]+)\*(?!\w)|(?<!\w)_([^_\n]+)_(?!\w)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    fragment.append(unescape(text.slice(last, match.index)));
    if (match[1]) fragment.append(element('pre', {}, unescape(match[1])));
    else if (match[2]) fragment.append(EMOJI[match[2]] ?? match[2]);
    else if (match[3])
      fragment.append(element('a', { href: match[3], target: '_blank', rel: 'noreferrer' }, unescape(match[4] ?? match[3])));
    else if (match[5]) fragment.append(element('code', {}, unescape(match[5])));
    else if (match[6]) fragment.append(element('strong', {}, unescape(match[6])));
    else fragment.append(element('em', {}, unescape(match[7])));
    last = match.index + match[0].length;
  }
  fragment.append(unescape(text.slice(last)));
  return fragment;
}
const unescape = (text) => text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

const key = (message) => `${message.channel}:${message.ts}`;
const time = (ts) => new Date(Number(ts) * 1000).toLocaleTimeString();
const isBot = (message) => Boolean(message.botId);

// A feedback_buttons element (in a context_actions block) is two buttons, each with its own value.
function feedbackActions(block) {
  return (block.elements ?? [])
    .filter((element) => element.type === 'feedback_buttons')
    .flatMap((element) =>
      [element.positive_button, element.negative_button].map((button) => ({
        action_id: element.action_id,
        value: button.value,
        text: button.text,
        feedback: true,
      })),
    );
}

// Task cards of a streamed message (task_update chunks): one line per card, its status and output.
const TASK_MARKS = { pending: '…', in_progress: '⌛', complete: '✔', error: '✘' };
function taskList(message) {
  if (!message.tasks?.length) return null;
  return element(
    'ul',
    { class: 'tasks' },
    message.tasks.map((task) =>
      element(
        'li',
        { 'data-testid': 'task', 'data-status': task.status },
        `${TASK_MARKS[task.status] ?? ''} ${task.title}`,
        task.details ? element('span', { class: 'muted' }, ` · ${task.details}`) : null,
        task.output ? element('span', { class: 'muted' }, ` · ${task.output}`) : null,
      ),
    ),
  );
}

function messageView(message, { showReplies }) {
  const sections = (message.blocks ?? [])
    .filter((block) => (block.type === 'section' && block.text?.text) || (block.type === 'markdown' && block.text))
    .map((block) => block.text.text ?? block.text);
  const actions = (message.blocks ?? []).flatMap((block) =>
    block.type === 'actions' ? (block.elements ?? []) : block.type === 'context_actions' ? feedbackActions(block) : [],
  );
  const body = sections.length > 0 ? sections.join('\n') : message.text;
  const replies = showReplies
    ? [...state.slack.values()].filter((reply) => reply.channel === message.channel && reply.threadTs === message.ts).length
    : 0;
  return element(
    'li',
    {
      class: `message${isBot(message) ? ' bot' : ''}`,
      'data-ts': message.ts,
      'data-testid': isBot(message) ? 'bot-message' : 'user-message',
    },
    element('span', { class: 'who' }, isBot(message) ? 'assistant' : state.workspace.userName),
    element('span', { class: 'when' }, time(message.ts)),
    message.edits > 0 ? element('span', { class: 'edited' }, ' (edited)') : null,
    body ? element('div', { class: 'text' }, mrkdwn(body)) : null,
    taskList(message),
    actions.length > 0
      ? element(
          'div',
          { class: 'actions' },
          actions.map((action) =>
            element(
              'button',
              {
                type: 'button',
                class: action.style ?? (action.feedback ? 'feedback' : ''),
                onclick: (event) => click(message, action, event.currentTarget),
              },
              action.text?.text ?? action.action_id,
            ),
          ),
        )
      : null,
    showReplies && replies > 0
      ? element(
          'button',
          { class: 'replies', type: 'button', onclick: () => openThread(message.channel, message.ts) },
          `${replies} repl${replies === 1 ? 'y' : 'ies'}`,
        )
      : null,
    showReplies && replies === 0
      ? element('button', { class: 'replies', type: 'button', onclick: () => openThread(message.channel, message.ts) }, 'open thread')
      : null,
  );
}

async function click(message, action, button) {
  button.disabled = true;
  try {
    await api('/api/slack/actions', {
      channel: message.channel,
      messageTs: message.ts,
      threadTs: message.threadTs ?? message.ts,
      actionId: action.action_id,
      value: action.value,
    });
    button.textContent = `${button.textContent} ✓`;
  } catch (error) {
    button.disabled = false;
    alert(`The click was refused: ${error.message}`);
  }
}

function channelList() {
  const ids = new Map(state.channels.map((channel) => [channel.id, channel.name]));
  for (const message of state.slack.values()) if (!ids.has(message.channel)) ids.set(message.channel, message.channel);
  return [...ids].map(([id, name]) => ({ id, name }));
}

function render() {
  $('#channels').replaceChildren(
    ...channelList().map((channel) =>
      element(
        'li',
        {},
        element(
          'button',
          {
            type: 'button',
            'aria-current': state.pane === 'channel' && state.channel === channel.id ? 'true' : 'false',
            onclick: () => show('channel', channel.id),
          },
          `# ${channel.name}`,
        ),
      ),
    ),
  );
  for (const button of document.querySelectorAll('.pane-link'))
    button.setAttribute('aria-current', String(state.pane === button.dataset.pane));
  $('#channel-pane').hidden = state.pane !== 'channel';
  $('#thread-pane').hidden = state.pane !== 'channel' || !state.thread;
  $('#mail-pane').hidden = state.pane !== 'mail';
  $('#ambient-pane').hidden = state.pane !== 'ambient';
  $('#evals-pane').hidden = state.pane !== 'evals';
  if (state.pane === 'channel') renderChannel();
  if (state.pane === 'mail') renderMail();
}

function renderChannel() {
  const channel = channelList().find((candidate) => candidate.id === state.channel);
  $('#channel-title').textContent = `# ${channel?.name ?? state.channel}`;
  const roots = [...state.slack.values()]
    .filter((message) => message.channel === state.channel && !message.threadTs)
    .sort((a, b) => Number(a.ts) - Number(b.ts));
  $('#roots').replaceChildren(...roots.map((message) => messageView(message, { showReplies: true })));
  if (!state.thread) return;
  const thread = [...state.slack.values()]
    .filter(
      (message) => message.channel === state.thread.channel && (message.ts === state.thread.ts || message.threadTs === state.thread.ts),
    )
    .sort((a, b) => Number(a.ts) - Number(b.ts));
  const list = $('#thread');
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
  list.replaceChildren(...thread.map((message) => messageView(message, { showReplies: false })));
  if (atBottom) list.scrollTop = list.scrollHeight;
  // A reply may end a turn: the cost is read again, at most once a second.
  if (Date.now() - lastCostRead > 1000) {
    lastCostRead = Date.now();
    void showThreadCost(state.thread.channel, state.thread.ts);
  }
  // The thread's agent session: its status, and Slack's stop button while it works.
  const session = state.sessions.get(`${state.thread.channel}:${state.thread.ts}`);
  const status = session?.statuses.at(-1)?.status;
  Object.assign($('#thread-session'), { hidden: !status, textContent: status ? `session: ${status}` : '' });
  $('#thread-stop').hidden = status !== 'processing';
}

async function stopThread() {
  const button = $('#thread-stop');
  button.disabled = true;
  try {
    await api('/api/slack/stop', { channel: state.thread.channel, threadTs: state.thread.ts });
  } catch (error) {
    alert(`The stop was refused: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}
let lastCostRead = 0;

async function openThread(channel, ts) {
  state.thread = { channel, ts };
  render();
  const link = $('#thread-run');
  const { url } = await api(`/api/workflow-url?channel=${encodeURIComponent(channel)}&thread=${encodeURIComponent(ts)}`);
  link.hidden = !url;
  if (url) link.href = url;
  await showThreadCost(channel, ts);
}

// What the thread's turns cost so far (the conversation's `turns` query, at the model table's prices).
async function showThreadCost(channel, ts) {
  const cost = $('#thread-cost');
  const {
    turns,
    cost: dollars,
    tokens,
  } = await api(`/api/thread-cost?channel=${encodeURIComponent(channel)}&thread=${encodeURIComponent(ts)}`);
  cost.hidden = turns === 0;
  cost.textContent = `${turns} turn(s) · ${tokens} tokens · $${dollars.toFixed(4)}`;
}

function show(pane, channel) {
  state.pane = pane;
  if (channel && channel !== state.channel) state.thread = null;
  if (channel) state.channel = channel;
  location.hash = pane === 'channel' ? `channel/${state.channel}` : pane;
  render();
  if (pane === 'ambient') void loadSchedules();
  if (pane === 'evals') void loadEvals({ api, element });
}

// Schedules change on the server (a run finishes, a schedule fires): the pane re-reads them while it is shown.
const SCHEDULES_REFRESH_MS = 3000;
setInterval(() => {
  if (state.pane === 'ambient' && !document.hidden) void loadSchedules();
}, SCHEDULES_REFRESH_MS);

// Mail: threads by root Message-ID; a reply goes to the address the agent asked for (Reply-To).
function mailThreads() {
  const threads = new Map();
  for (const message of state.mail.values()) threads.set(message.threadId, [...(threads.get(message.threadId) ?? []), message]);
  for (const list of threads.values()) list.sort((a, b) => a.date.localeCompare(b.date));
  return [...threads].sort((a, b) => b[1].at(-1).date.localeCompare(a[1].at(-1).date));
}

function renderMail() {
  const threads = mailThreads();
  $('#mail-threads').replaceChildren(
    ...threads.map(([id, messages]) =>
      element(
        'li',
        {},
        element(
          'button',
          { type: 'button', 'aria-current': String(state.mailThread === id), onclick: () => openMailThread(id) },
          element('strong', {}, messages[0].subject || '(no subject)'),
          element('div', { class: 'muted' }, `${messages.length} message(s)`),
        ),
      ),
    ),
  );
  const messages = threads.find(([id]) => id === state.mailThread)?.[1] ?? [];
  $('#mail-thread').replaceChildren(
    ...messages.map((message) =>
      element(
        'article',
        { class: `mail-message ${message.direction}`, 'data-testid': `mail-${message.direction}` },
        element('div', {}, element('strong', {}, message.from), ' → ', message.to.join(', ')),
        element(
          'div',
          { class: 'muted' },
          `${new Date(message.date).toLocaleString()} · ${message.subject}${message.outcome ? ` · ${message.outcome}` : ''}`,
        ),
        element('pre', {}, message.text),
      ),
    ),
  );
}

function openMailThread(id) {
  state.mailThread = id;
  const messages = mailThreads().find(([threadId]) => threadId === id)?.[1] ?? [];
  const last = messages.at(-1);
  const fromAgent = [...messages].reverse().find((message) => message.direction === 'out');
  const form = $('#mail-form');
  $('#mail-compose-title').textContent = 'Reply';
  form.to.value = fromAgent?.replyTo ?? fromAgent?.from ?? last?.to[0] ?? '';
  form.subject.value = /^re:/i.test(last?.subject ?? '') ? last.subject : `Re: ${last?.subject ?? ''}`;
  form.inReplyTo.value = last?.messageId ?? '';
  renderMail();
}

async function loadSchedules() {
  const body = $('#schedules');
  try {
    const { schedules } = await api('/api/schedules');
    if (schedules.length === 0) {
      body.replaceChildren(
        element(
          'tr',
          {},
          element('td', { colspan: 5, class: 'muted' }, 'No agent has a trigger. Add `triggers` to an agent definition and restart.'),
        ),
      );
      return;
    }
    body.replaceChildren(
      ...schedules.map((row) =>
        element(
          'tr',
          { 'data-schedule': row.id },
          element(
            'td',
            {},
            row.scheduleUrl ? element('a', { href: row.scheduleUrl, target: '_blank', rel: 'noreferrer' }, row.id) : row.id,
            row.paused ? element('div', { class: 'muted' }, `paused${row.note ? `: ${row.note}` : ''}`) : null,
          ),
          element('td', {}, `${row.when} (${row.timezone})`),
          element('td', {}, row.nextRun && !row.paused ? new Date(row.nextRun).toLocaleString() : '—'),
          element(
            'td',
            {},
            row.lastRunAt
              ? [
                  new Date(row.lastRunAt).toLocaleString(),
                  ' · ',
                  row.lastRunUrl
                    ? element('a', { href: row.lastRunUrl, target: '_blank', rel: 'noreferrer' }, row.lastOutcome ?? 'run')
                    : (row.lastOutcome ?? ''),
                ]
              : 'never',
            // Why the last run failed, in one line (the server cuts it).
            row.lastReason ? element('div', { class: 'muted', 'data-reason': '' }, row.lastReason) : null,
          ),
          element(
            'td',
            {},
            element('button', { type: 'button', onclick: () => scheduleAction(row.id, 'run') }, 'Run now'),
            element(
              'button',
              { type: 'button', onclick: () => scheduleAction(row.id, row.paused ? 'unpause' : 'pause') },
              row.paused ? 'Unpause' : 'Pause',
            ),
          ),
        ),
      ),
    );
  } catch (error) {
    body.replaceChildren(element('tr', {}, element('td', { colspan: 5 }, `Could not list schedules: ${error.message}`)));
  }
}

async function scheduleAction(id, action) {
  try {
    await api(`/api/schedules/${encodeURIComponent(id)}/${action}`, {});
  } catch (error) {
    alert(error.message);
  }
  setTimeout(loadSchedules, 500);
}

function connect() {
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  source.addEventListener('ready', () => ($('#connection').textContent = 'live'));
  source.addEventListener('slack', (event) => {
    const message = JSON.parse(event.data);
    state.slack.set(key(message), message);
    if (state.pane === 'channel') render();
  });
  source.addEventListener('session', (event) => {
    const session = JSON.parse(event.data);
    state.sessions.set(`${session.channel}:${session.threadTs}`, session);
    if (state.pane === 'channel') render();
  });
  source.addEventListener('mail', (event) => {
    const message = JSON.parse(event.data);
    state.mail.set(`${message.direction}:${message.messageId}`, message);
    // A reply in the open thread: answer it next, at the address it asks for.
    if (message.threadId === state.mailThread && message.direction === 'out') openMailThread(state.mailThread);
    else if (state.pane === 'mail') renderMail();
  });
  source.onerror = () => ($('#connection').textContent = 'reconnecting…');
}

async function start() {
  const initial = await api('/api/state');
  state.workspace = initial.workspace;
  state.channels = initial.channels;
  state.temporalUiUrl = initial.temporalUiUrl;
  for (const message of initial.slack) state.slack.set(key(message), message);
  for (const session of initial.sessions ?? []) state.sessions.set(`${session.channel}:${session.threadTs}`, session);
  for (const message of initial.mail) state.mail.set(`${message.direction}:${message.messageId}`, message);
  $('#mode').textContent = initial.offline ? 'offline model' : '';
  if (initial.temporalUiUrl) Object.assign($('#temporal-ui'), { hidden: false, href: initial.temporalUiUrl });
  if (initial.codecEndpoint)
    $('#temporal-ui').title = `Payloads are encrypted: give the Web UI's Codec Server setting ${initial.codecEndpoint}`;
  $('#mail-form').to.value = initial.agentAddress;

  for (const button of document.querySelectorAll('.pane-link')) button.addEventListener('click', () => show(button.dataset.pane));
  $('#thread-stop').addEventListener('click', () => void stopThread());
  $('#thread-close').addEventListener('click', () => {
    state.thread = null;
    render();
  });
  $('#root-form').addEventListener('submit', (event) => send(event, () => ({ channel: state.channel })));
  $('#reply-form').addEventListener('submit', (event) => send(event, () => ({ channel: state.thread.channel, threadTs: state.thread.ts })));
  $('#mail-new').addEventListener('click', () => {
    state.mailThread = null;
    const form = $('#mail-form');
    form.to.value = initial.agentAddress;
    form.subject.value = '';
    form.inReplyTo.value = '';
    $('#mail-compose-title').textContent = 'New message';
    renderMail();
  });
  $('#mail-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const input = {
      from: form.from.value,
      to: form.to.value,
      subject: form.subject.value,
      text: form.text.value,
      inReplyTo: form.inReplyTo.value || undefined,
    };
    try {
      const { message } = await api('/api/mail', input);
      form.text.value = '';
      state.mail.set(`in:${message.messageId}`, message);
      openMailThread(message.threadId);
    } catch (error) {
      alert(`Not sent: ${error.message}`);
    }
  });

  const [pane, channel] = location.hash.slice(1).split('/');
  if (pane === 'mail' || pane === 'ambient' || pane === 'evals') show(pane);
  else show('channel', channel || state.channels[0].id);
  connect();
}

async function send(event, where) {
  event.preventDefault();
  const form = event.currentTarget;
  const text = form.text.value.trim();
  if (!text) return;
  form.text.disabled = true;
  try {
    const { ts } = await api('/api/slack/messages', { ...where(), text });
    form.text.value = '';
    if (!where().threadTs) void openThread(state.channel, ts);
  } catch (error) {
    alert(`Not sent: ${error.message}`);
  } finally {
    form.text.disabled = false;
    form.text.focus();
  }
}

void start();
