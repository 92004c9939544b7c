import { describe, expect, it } from 'vitest';
import { failureType, MAX_STEP_OUTPUT, redactSecrets, toolStepOutput } from '../../core/run-events.ts';

describe('a tool step’s output as its card shows it', () => {
  it('hides values that look like credentials', () => {
    const cases: [string, string][] = [
      ['{"token":"xoxb-1-2-abc"}', '{"token":"[redacted]"}'],
      ['password=hunter2 user=ana', 'password=[redacted] user=ana'],
      ['"api_key": "abc123"', '"api_key": "[redacted]"'],
      ['Authorization: Bearer eyJhbGciOi.x.y', 'Authorization: [redacted]'],
      ['key AKIAIOSFODNN7EXAMPLE here', 'key [redacted] here'],
      ['gh ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'gh [redacted]'],
      ['sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ok', 'sha [redacted] ok'],
      ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after', '[redacted] after'],
    ];
    for (const [text, redacted] of cases) expect(redactSecrets(text)).toBe(redacted);
  });

  it('leaves ordinary results alone', () => {
    const text = '{"ok":true,"result":{"path":"/srv/services/billing/config/production.yaml","replicas":3,"status":"healthy"}}';
    expect(redactSecrets(text)).toBe(text);
  });

  it('is bounded, and a failure shows only its error type, from either excerpt form', () => {
    expect(toolStepOutput({ ok: true, excerpt: 'word '.repeat(100) }).text.length).toBeLessThanOrEqual(MAX_STEP_OUTPUT);
    expect(toolStepOutput({ ok: false, excerpt: 'ApprovalDenied: U0ANA denied this call' })).toEqual({ ok: false, text: 'ApprovalDenied' });
    expect(failureType('{"ok":false,"error":{"type":"ServiceDown","message":"password=x"}}')).toBe('ServiceDown');
    expect(failureType('something odd happened')).toBe('ToolFailed');
  });
});
