import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDirectory, ensurePrivateFile, readJsonFile, writeJsonFile } from './json-file.ts';

/** The secrets the local Slack and email paths sign with; in AWS they come from Secrets Manager. */
export interface LocalSecrets {
  slackSigningSecret: string;
  approvalTokenSecret: string;
  emailReplyTokenSecret: string;
}

/**
 * Generated on the first `npm start` and kept in the data directory: approval buttons and
 * reply addresses signed before a restart must still verify after it. The directory is made
 * 0700 and the file 0600 (and tightened when an older start left them open).
 */
export function localSecrets(dataDir: string): LocalSecrets {
  ensurePrivateDirectory(dataDir);
  const file = join(dataDir, 'local-secrets.json');
  ensurePrivateFile(file);
  const kept = readJsonFile<Partial<LocalSecrets>>(file, {});
  const secrets: LocalSecrets = {
    slackSigningSecret: kept.slackSigningSecret ?? randomBytes(24).toString('hex'),
    approvalTokenSecret: kept.approvalTokenSecret ?? randomBytes(32).toString('hex'),
    emailReplyTokenSecret: kept.emailReplyTokenSecret ?? randomBytes(32).toString('hex'),
  };
  if (
    kept.slackSigningSecret !== secrets.slackSigningSecret ||
    kept.approvalTokenSecret !== secrets.approvalTokenSecret ||
    kept.emailReplyTokenSecret !== secrets.emailReplyTokenSecret
  ) {
    writeJsonFile(file, secrets, { mode: 0o600 });
  }
  return secrets;
}
