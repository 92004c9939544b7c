/**
 * Variables our settings schemas do not read, because a library reads them itself: the Temporal
 * connection (`@temporalio/envconfig`, as the Temporal CLI reads it) and the AWS SDK's region,
 * credentials and endpoints. They are declared here, with their meaning, so the configuration
 * reference (docs/configuration.md) lists them beside the schemas' own.
 */

export interface LibraryVariable {
  name: string;
  description: string;
  /** Markdown: what an unset variable means. */
  default: string;
}

export interface VariableSource {
  /** Who reads them, in a heading. */
  title: string;
  /** Who reads them, in a sentence. */
  reader: string;
  variables: readonly LibraryVariable[];
}

export const TEMPORAL_ENVCONFIG: VariableSource = {
  title: '`@temporalio/envconfig`',
  reader: '`@temporalio/envconfig`, as the Temporal CLI reads them (temporal-client/temporal-connection.ts)',
  variables: [
    { name: 'TEMPORAL_NAMESPACE', description: 'The namespace, e.g. `my-namespace.a1b2c`.', default: '`default`' },
    { name: 'TEMPORAL_API_KEY', description: 'API key (Temporal Cloud API-key authentication); turns TLS on.', default: 'none' },
    {
      name: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
      description: 'Client certificate for mutual TLS, a PEM file (or `TEMPORAL_TLS_CLIENT_CERT_DATA`, the PEM itself).',
      default: 'none',
    },
    {
      name: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
      description: "The client certificate's private key, a PEM file (or `TEMPORAL_TLS_CLIENT_KEY_DATA`).",
      default: 'none',
    },
    {
      name: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
      description: "CA the server's certificate is checked against, for a private CA or a proxy (or `TEMPORAL_TLS_SERVER_CA_CERT_DATA`).",
      default: 'the system CAs',
    },
    {
      name: 'TEMPORAL_TLS_SERVER_NAME',
      description: "Name the server's certificate must carry, when the address does not (a proxy).",
      default: "the address's host",
    },
    {
      name: 'TEMPORAL_TLS',
      description: '`true` turns TLS on with no client certificate; `false` turns it off.',
      default: 'on when a certificate or an API key is set',
    },
    { name: 'TEMPORAL_PROFILE', description: 'Profile of the configuration file to read.', default: '`default`' },
    {
      name: 'TEMPORAL_CONFIG_FILE',
      description: 'The Temporal CLI configuration file (TOML); the variables above override it.',
      default: '`temporalio/temporal.toml` in the user configuration folder',
    },
    {
      name: 'TEMPORAL_GRPC_META_*',
      description: 'A gRPC header sent with every call (`TEMPORAL_GRPC_META_X_FOO` sends `x-foo`).',
      default: 'none',
    },
  ],
};

/** The AWS SDK for JavaScript's own variables (the worker's S3 and SES clients, the email edge's SQS and S3 clients, `npm run dispatch`'s SQS client). */
export const AWS_SDK: VariableSource = {
  title: 'the AWS SDK',
  reader: 'the AWS SDK for JavaScript',
  variables: [
    { name: 'AWS_REGION', description: 'Region of every AWS call (Lambda and ECS set it).', default: "the SDK's configuration files" },
    {
      name: 'AWS_ACCESS_KEY_ID',
      description: 'With AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: credentials, when not the role the task or the function runs as.',
      default: "the SDK's credential chain (the role)",
    },
    { name: 'AWS_ENDPOINT_URL', description: 'Endpoint of every AWS service, e.g. a local moto server.', default: 'AWS' },
    { name: 'AWS_ENDPOINT_URL_S3', description: 'Endpoint of S3 alone.', default: 'AWS_ENDPOINT_URL, else AWS' },
    { name: 'AWS_ENDPOINT_URL_SESV2', description: 'Endpoint of SES (replies by email) alone.', default: 'AWS_ENDPOINT_URL, else AWS' },
    { name: 'AWS_ENDPOINT_URL_SQS', description: 'Endpoint of SQS alone.', default: 'AWS_ENDPOINT_URL, else AWS' },
  ],
};

/**
 * What the functions' Secrets Manager reader (functions/shared/secrets.ts, a SigV4-signed
 * `fetch` rather than the SDK, for a fast cold start) reads besides the secrets' ARNs.
 */
export const LAMBDA_SECRETS_READER: VariableSource = {
  title: 'the secrets reader',
  reader: "the functions' Secrets Manager reader (functions/shared/secrets.ts)",
  variables: [
    { name: 'AWS_REGION', description: 'Region of the secrets (Lambda sets it); AWS_DEFAULT_REGION when unset.', default: '`us-east-1`' },
    {
      name: 'AWS_ACCESS_KEY_ID',
      description:
        "With AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: the function role's credentials, which Lambda sets; a missing one is named.",
      default: 'required',
    },
    {
      name: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
      description: 'A local Secrets Manager (moto); AWS_ENDPOINT_URL when unset.',
      default: 'AWS',
    },
  ],
};

/** `source` narrowed to the variables named. */
export function pick(source: VariableSource, names: readonly string[]): VariableSource {
  const variables = source.variables.filter((variable) => names.includes(variable.name));
  const unknown = names.filter((name) => !variables.some((variable) => variable.name === name));
  if (unknown.length > 0) throw new Error(`${source.reader} declares no ${unknown.join(', ')}`);
  return { ...source, variables };
}
