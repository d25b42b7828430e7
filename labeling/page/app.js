/* global document, window, localStorage, fetch, performance, setTimeout, HTMLInputElement */
'use strict';

// The labelling page: shows one comment at a time, sends each answer to the server as it is given
// and shows the true sources only after the person finishes. Answers wait in localStorage until the
// server confirms them, so a closed tab or a stopped server loses none; the next load sends them.

/**
 * A skip, or an answer to a comment shown unblurred, within this time after the comment appears is
 * ignored, so a double press cannot answer two comments. A blurred comment needs a reveal first,
 * which already stops a double press.
 */
const MIN_ANSWER_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 10000;
const BLUR_SETTING_KEY = 'textgan-label-blur';

const state = {
  /** The server's /api/session response: items (id and text), total, nextIndex, finished. */
  session: null,
  index: 0,
  screen: 'loading',
  blur: readSetting(BLUR_SETTING_KEY, '1') === '1',
  revealed: false,
  /** performance.now() when the current comment appeared, and when it became readable. */
  shownAt: 0,
  readableAt: 0,
  /** Whether the current comment appeared blurred, so that answering it needed a reveal first. */
  shownBlurred: true,
};

const memoryOutbox = [];
let flushing = null;

function element(id) {
  return document.getElementById(id);
}

function readSetting(key, fallback) {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

function writeSetting(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private windows may refuse storage; the setting then lasts for this page only.
  }
}

function outboxKey() {
  return `textgan-label-outbox:${state.session.workflowId}:${state.session.session}`;
}

function readOutbox() {
  try {
    const stored = localStorage.getItem(outboxKey());
    return stored ? JSON.parse(stored) : [];
  } catch {
    return memoryOutbox.slice();
  }
}

function writeOutbox(entries) {
  try {
    localStorage.setItem(outboxKey(), JSON.stringify(entries));
  } catch {
    memoryOutbox.splice(0, memoryOutbox.length, ...entries);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function request(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || `${method} ${path} failed with HTTP ${response.status}.`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function setSaveStatus(text, pending) {
  const status = element('save-status');
  status.textContent = text;
  status.classList.toggle('pending', pending);
}

/** Sends queued answers in order; network failures and server errors are retried with backoff. */
function flush() {
  if (flushing) return flushing;
  flushing = (async () => {
    let delay = 500;
    for (;;) {
      const outbox = readOutbox();
      const next = outbox[0];
      if (!next) break;
      setSaveStatus(`Saving ${outbox.length} ${outbox.length === 1 ? 'answer' : 'answers'}…`, true);
      try {
        await request('POST', '/api/answers', next);
      } catch (error) {
        if (error.status !== undefined && error.status < 500) {
          // The server will never accept this answer, so it leaves the queue and the page stops.
          writeOutbox(readOutbox().slice(1));
          fail(error.message);
          return;
        }
        setSaveStatus('Not saved yet: retrying. Your answers are kept in this browser.', true);
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
        continue;
      }
      writeOutbox(readOutbox().slice(1));
      delay = 500;
    }
    setSaveStatus('All answers saved', false);
  })().finally(() => {
    flushing = null;
  });
  return flushing;
}

async function waitUntilSaved() {
  while (readOutbox().length > 0 && state.screen !== 'failure') await flush();
}

function enqueue(entry) {
  writeOutbox([...readOutbox(), entry]);
  flush();
}

function showScreen(name) {
  state.screen = name;
  for (const id of ['intro', 'rate', 'review', 'results', 'failure']) element(id).hidden = id !== name;
  updateProgress();
}

function updateProgress() {
  const session = state.session;
  if (!session) return;
  const answered = state.screen === 'results' ? session.total : state.index;
  element('progress-text').textContent = `${answered} of ${session.total} answered`;
  element('progress-fill').style.width = `${(100 * answered) / Math.max(1, session.total)}%`;
}

function fail(message) {
  element('failure-text').textContent = message;
  showScreen('failure');
}

function hint(text) {
  element('hint').textContent = text;
}

function updateCard() {
  const card = element('card');
  card.classList.toggle('blurred', !state.revealed);
  element('text').setAttribute('aria-hidden', String(!state.revealed));
  element('real').disabled = !state.revealed;
  element('fake').disabled = !state.revealed;
  element('undo').disabled = state.index === 0;
}

function showItem() {
  const session = state.session;
  const item = session.items[state.index];
  element('item-label').textContent = `Comment ${state.index + 1} of ${session.total}`;
  element('text').textContent = item.text;
  state.revealed = !state.blur;
  state.shownAt = performance.now();
  state.readableAt = state.shownAt;
  state.shownBlurred = !state.revealed;
  hint('');
  updateCard();
  updateProgress();
  element('card').focus({ preventScroll: true });
}

function reveal() {
  if (state.screen !== 'rate' || state.revealed) return;
  state.revealed = true;
  state.readableAt = performance.now();
  hint('');
  updateCard();
  element('card').focus({ preventScroll: true });
}

function showNext() {
  if (state.index >= state.session.total) {
    showScreen('review');
    element('see-results').focus();
  } else {
    showScreen('rate');
    showItem();
  }
}

function answer(kind) {
  if (state.screen !== 'rate') return;
  if (kind !== 'skip' && !state.revealed) {
    hint('Show the comment first: click it or press Space.');
    return;
  }
  const now = performance.now();
  if ((kind === 'skip' || !state.shownBlurred) && now - state.shownAt < MIN_ANSWER_DELAY_MS) return;
  const item = state.session.items[state.index];
  enqueue({
    item_id: item.id,
    answer: kind,
    // Reading time counts from when the text became readable; a skip of a blurred text took none.
    ms_taken: state.revealed ? Math.round(now - state.readableAt) : 0,
    answered_at: new Date().toISOString(),
  });
  state.index += 1;
  showNext();
}

function undo() {
  if ((state.screen !== 'rate' && state.screen !== 'review') || state.index === 0) return;
  state.index -= 1;
  const item = state.session.items[state.index];
  enqueue({ item_id: item.id, answer: 'undo', ms_taken: 0, answered_at: new Date().toISOString() });
  showScreen('rate');
  showItem();
}

function setBlur(enabled) {
  state.blur = enabled;
  writeSetting(BLUR_SETTING_KEY, enabled ? '1' : '0');
  for (const box of document.querySelectorAll('.blur-toggle')) box.checked = enabled;
  // Turning blur off shows the current comment; turning it on leaves a comment already read as it is.
  if (!enabled) reveal();
}

function cell(text, numeric) {
  const td = document.createElement('td');
  td.textContent = text;
  if (numeric) td.className = 'num';
  return td;
}

function percent(part, whole) {
  return whole === 0 ? 'n/a' : `${Math.round((100 * part) / whole)}%`;
}

function renderResults(results) {
  const skipped = results.skipped > 0 ? ` You skipped ${results.skipped}.` : '';
  element('results-summary').textContent =
    `You judged ${results.judgments} comments and were right on ${results.correct} of them ` +
    `(${percent(results.correct, results.judgments)}).${skipped}`;

  const body = element('results-table').querySelector('tbody');
  body.replaceChildren(
    ...results.bySource.map((row) => {
      const tr = document.createElement('tr');
      tr.append(
        cell(row.label, false),
        cell(String(row.judgments), true),
        cell(String(row.markedReal), true),
        cell(String(row.judgments - row.markedReal), true),
        cell(String(row.skipped), true),
        cell(`${row.correct} (${percent(row.correct, row.judgments)})`, true),
      );
      return tr;
    }),
  );

  element('results-items').replaceChildren(
    ...results.items.map((item) => {
      const li = document.createElement('li');
      const source = document.createElement('span');
      source.className = 'badge';
      source.textContent = item.label;
      const given = document.createElement('span');
      const judged = item.answer === 'real' || item.answer === 'fake';
      const right = judged && (item.answer === 'real') === (item.source === 'real');
      given.className = `badge ${judged ? (right ? 'right' : 'wrong') : ''}`;
      given.textContent = judged ? `you: ${item.answer}` : 'skipped';
      const text = document.createElement('span');
      text.textContent = item.text;
      li.append(source, given, text);
      return li;
    }),
  );
  showScreen('results');
}

async function seeResults() {
  const button = element('see-results');
  button.disabled = true;
  try {
    await waitUntilSaved();
    if (state.screen === 'failure') return;
    renderResults(await request('POST', '/api/finish', {}));
  } catch (error) {
    fail(error.message);
  } finally {
    button.disabled = false;
  }
}

function onKeyDown(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (event.target instanceof HTMLInputElement) return;
  const key = event.key.toLowerCase();
  if (state.screen === 'rate') {
    const actions = {
      ' ': reveal,
      enter: reveal,
      r: () => answer('real'),
      f: () => answer('fake'),
      s: () => answer('skip'),
      u: undo,
    };
    const action = actions[key];
    if (action) {
      // Keeps Space and Enter from also pressing whichever button has focus.
      event.preventDefault();
      action();
    }
  } else if (state.screen === 'review' && key === 'u') {
    event.preventDefault();
    undo();
  }
}

async function start() {
  try {
    state.session = await request('GET', '/api/session');
    if (readOutbox().length > 0) {
      await waitUntilSaved();
      if (state.screen === 'failure') return;
      state.session = await request('GET', '/api/session');
    }
  } catch (error) {
    fail(`Could not load the session: ${error.message} Check that \`textgan label\` is still running.`);
    return;
  }
  const session = state.session;
  state.index = session.nextIndex;
  element('intro-total').textContent = String(session.total);
  if (session.answered > 0) setSaveStatus('All answers saved', false);
  for (const box of document.querySelectorAll('.blur-toggle')) box.checked = state.blur;

  if (session.finished) {
    try {
      renderResults(await request('POST', '/api/finish', {}));
    } catch (error) {
      fail(error.message);
    }
  } else if (state.index >= session.total) {
    showScreen('review');
  } else {
    if (state.index > 0) element('start').textContent = `Continue at comment ${state.index + 1}`;
    showScreen('intro');
    element('start').focus();
  }
}

element('start').addEventListener('click', () => showNext());
element('card').addEventListener('click', reveal);
element('reveal').addEventListener('click', reveal);
element('real').addEventListener('click', () => answer('real'));
element('fake').addEventListener('click', () => answer('fake'));
element('skip').addEventListener('click', () => answer('skip'));
element('undo').addEventListener('click', undo);
element('review-undo').addEventListener('click', undo);
element('see-results').addEventListener('click', seeResults);
element('reload').addEventListener('click', () => window.location.reload());
for (const box of document.querySelectorAll('.blur-toggle'))
  box.addEventListener('change', () => setBlur(box.checked));
document.addEventListener('keydown', onKeyDown);
window.addEventListener('beforeunload', (event) => {
  // Queued answers survive in localStorage, but only reach S3 if this session is opened again.
  if (state.session && readOutbox().length > 0) event.preventDefault();
});

start();
