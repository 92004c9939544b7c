import { ApplicationFailure } from '@temporalio/activity';
import { APPROVAL_NOT_SHOWN } from '../../core/replies.ts';
import { canonicalJsonSha256 } from '../../store/canonical-json.ts';

/**
 * What an approver sees of a call's arguments: all of them, or no request at all. A person
 * who approves a cut or a placeholder approves blind, so a request whose arguments cannot be
 * shown whole is refused (`ApprovalNotShown`) and the call is denied with that reason.
 */

export { APPROVAL_NOT_SHOWN };

/** Characters of argument JSON an approval request shows at most (Slack: four or five sections of one message). */
export const MAX_SHOWN_ARGUMENT_CHARS = 12_000;

export interface ShownArguments {
  /**
   * Pretty JSON of the arguments in which nothing can pass for markup or hide: backticks,
   * control, format (bidirectional overrides, zero-width) and private-use characters are
   * written as `\uXXXX` escapes, which JSON reads back as the very same value.
   */
  json: string;
  /** SHA-256 (hex) of the canonical JSON of the arguments: the approval record keeps the same digest of what it approved. */
  sha256: string;
}

// JSON.stringify already escapes C0 controls inside strings; the newlines left are the layout's own.
const HIDDEN_OR_MARKUP = /[`\u007f-\u009f\p{Cf}\p{Co}\p{Zl}\p{Zp}]/gu;

/** The arguments as shown, or the refusal `ApprovalNotShown` when they are more than `maxChars`. */
export function shownArguments(tool: string, args: Record<string, unknown>, maxChars = MAX_SHOWN_ARGUMENT_CHARS): ShownArguments {
  const json = JSON.stringify(args, null, 2).replace(HIDDEN_OR_MARKUP, (character) =>
    [...character].map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  );
  if (json.length > maxChars) {
    throw ApplicationFailure.nonRetryable(
      `The arguments of ${tool} are ${json.length} characters, more than an approval request can show whole (${maxChars}); nobody was asked and the call did not run. Call it with smaller arguments.`,
      APPROVAL_NOT_SHOWN,
    );
  }
  return { json, sha256: argumentsDigest(args) };
}

/** SHA-256 of the canonical JSON of a call's arguments. */
export function argumentsDigest(args: Record<string, unknown>): string {
  return canonicalJsonSha256(args);
}

/** The refusal of a request whose arguments were stored by reference and cannot be read back. */
export function argumentsUnreadable(tool: string, why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `The arguments of ${tool} could not be read to show them (${why}); nobody was asked and the call did not run.`,
    APPROVAL_NOT_SHOWN,
  );
}
