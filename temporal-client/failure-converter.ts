import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The worker's failure converter (`failureConverterPath`; loaded in the workflow sandbox and
 * for activities): a failure's message and stack trace move into an encoded attribute, which
 * the payload codec then encrypts, so an error that quotes a tool's input is not stored in
 * clear. Every reader decodes it back (the SDK's converter restores encoded attributes
 * whatever its own options).
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
