// The Evals pane: the runs `npm run eval -- run <agent>` wrote, a run's cases with why each
// failed, and a case's transcript as the model saw it (read from the transcript store).

const $ = (selector) => document.querySelector(selector);

/** Lists the runs; `api` and `element` are the console's own helpers. */
export async function loadEvals({ api, element }) {
  const { runs } = await api('/api/evals');
  $('#eval-runs').replaceChildren(
    ...(runs.length === 0
      ? [element('tr', {}, element('td', { colspan: '6', class: 'muted' }, 'No eval runs yet: npm run eval -- run assistant'))]
      : runs.map((run) =>
          element(
            'tr',
            {},
            element(
              'td',
              {},
              element('button', { type: 'button', class: 'link', onclick: () => openRun(run.name, { api, element }) }, run.name),
            ),
            element('td', {}, run.agent),
            element('td', {}, `${run.label} (${run.model})`),
            element('td', {}, `${run.passed}/${run.total}`),
            element('td', {}, String(run.tokens)),
            element('td', {}, new Date(run.startedAt).toLocaleString()),
          ),
        )),
  );
}

async function openRun(name, helpers) {
  const { api, element } = helpers;
  const run = await api(`/api/evals/${encodeURIComponent(name)}`);
  const rows = run.cases.map((result) =>
    element(
      'tr',
      { 'data-testid': 'eval-case' },
      element(
        'td',
        {},
        element('button', { type: 'button', class: 'link', onclick: () => openTranscript(name, result, helpers) }, result.id),
      ),
      element('td', {}, result.pass ? 'pass' : 'FAIL'),
      element('td', {}, String(result.steps)),
      element('td', {}, String(result.usage.totalTokens)),
      element('td', {}, `${(result.latencyMs / 1000).toFixed(2)} s`),
      element('td', {}, [...result.failures, ...result.notes].join('; ')),
    ),
  );
  $('#eval-run').replaceChildren(
    element('h2', {}, `${run.agent}, ${run.configuration.label}: ${run.summary.passed}/${run.summary.total} passed`),
    element(
      'table',
      {},
      element(
        'thead',
        {},
        element('tr', {}, ...['case', 'result', 'steps', 'tokens', 'latency', 'why'].map((title) => element('th', {}, title))),
      ),
      element('tbody', {}, ...rows),
    ),
    element('div', { id: 'eval-transcript' }),
  );
}

async function openTranscript(name, result, { api, element }) {
  const target = $('#eval-transcript');
  try {
    const { messages } = await api(`/api/evals/${encodeURIComponent(name)}/cases/${encodeURIComponent(result.id)}/transcript`);
    target.replaceChildren(
      element('h3', {}, `Transcript of ${result.id}`),
      element(
        'ol',
        { class: 'messages', 'data-testid': 'eval-transcript' },
        ...messages.map((message) =>
          element('li', { class: `message${message.role === 'model' ? ' bot' : ''}` }, element('pre', {}, partsText(message.parts))),
        ),
      ),
    );
  } catch (error) {
    target.replaceChildren(element('p', { class: 'muted' }, `No transcript: ${error.message}`));
  }
}

function partsText(parts) {
  return parts
    .map((part) => {
      if (part.text !== undefined) return part.text;
      if (part.functionCall) return `→ ${part.functionCall.name}(${JSON.stringify(part.functionCall.args ?? {})})`;
      if (part.functionResponse) return `← ${part.functionResponse.name}: ${JSON.stringify(part.functionResponse.response).slice(0, 600)}`;
      return '';
    })
    .join('\n');
}
