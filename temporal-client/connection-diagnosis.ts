import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalTarget } from './temporal-connection.ts';

/**
 * Why a connection to Temporal failed, as one line naming the setting to fix. The SDKs say
 * little (the Rust core: "transport error … UnexpectedEof"; grpc-js: "Failed to connect
 * before the deadline"), so after a failure this looks for itself: the client certificate's
 * dates and key, then one TLS handshake with the same settings, which shows whether the
 * server is unreachable, untrusted, or refuses our certificate.
 */
export async function explainConnectFailure(target: TemporalTarget, error: Error, timeoutMs = 4000): Promise<string> {
  const { names, address } = target;
  const at = `Temporal at ${address}`;
  const tls = tlsOf(target.connectionOptions.tls);
  const unusable = tls?.clientCertPair ? unusablePair(tls.clientCertPair, names) : undefined;
  if (unusable) return `Cannot connect to ${at}: ${unusable}`;
  const probe = await probeHandshake(address, tls, timeoutMs);

  if (probe.outcome === 'unreachable') return `Cannot reach ${at} (${probe.detail}): check ${names.address}.`;
  if (probe.outcome === 'server-untrusted') {
    if (probe.detail === 'ERR_TLS_CERT_ALTNAME_INVALID')
      return `${at} presented a certificate for another name: set ${names.serverName} to the name it was issued for, or fix ${names.address}.`;
    return `${at} presented a certificate this client does not trust (${probe.detail}): set ${names.serverCa} to the CA that signed it.`;
  }
  if (probe.outcome === 'refused') {
    if (!tls?.clientCertPair)
      return `${at} asked for a client certificate and none was given: set ${names.clientCert} and ${names.clientKey}.`;
    return `${at} refused the client certificate: ${certificateProblem(tls.clientCertPair, names)}`;
  }
  if (probe.outcome === 'plain-refused')
    return `${at} closed the connection: if it speaks TLS (Temporal Cloud does), set ${names.clientCert} and ${names.clientKey}, or ${names.apiKey}.`;

  // The handshake works, so the trouble is above TLS.
  const message = error.message.split('\n')[0]!.trim();
  if (/unauthenticated|permission ?denied|api key/i.test(message))
    return `${at} refused the credentials (${message.slice(0, 160)}): check ${names.apiKey} or the certificate's access to ${names.namespace}.`;
  return `${at}: ${message.slice(0, 300)} (check ${names.address} and ${names.namespace}).`;
}

/** What is wrong with a client certificate the server refused, as far as the client can tell. */
function certificateProblem(pair: NonNullable<TLSConfig['clientCertPair']>, names: TemporalTarget['names']): string {
  const certificate = new X509Certificate(Buffer.from(pair.crt));
  const now = Date.now();
  if (Date.parse(certificate.validTo) < now)
    return `the certificate in ${names.clientCert} expired on ${new Date(certificate.validTo).toISOString()}; issue a new one and update ${names.clientCert} and ${names.clientKey}.`;
  if (Date.parse(certificate.validFrom) > now)
    return `the certificate in ${names.clientCert} is not valid before ${new Date(certificate.validFrom).toISOString()}; check the clock, or use a current certificate.`;
  return `the certificate in ${names.clientCert} (${commonName(certificate.subject)}, issued by ${commonName(certificate.issuer)}) is not signed by a CA the server trusts; use one from the namespace's CA, or add its CA to the namespace.`;
}

/** A certificate or key that cannot be used at all, whatever the server thinks of it. */
function unusablePair(pair: NonNullable<TLSConfig['clientCertPair']>, names: TemporalTarget['names']): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(pair.crt));
  } catch {
    return `${names.clientCert} does not hold a PEM certificate.`;
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(Buffer.from(pair.key))))
      return `${names.clientKey} does not hold the private key of the certificate in ${names.clientCert}.`;
  } catch {
    return `${names.clientKey} does not hold a PEM private key.`;
  }
  return undefined;
}

type Probe =
  | { outcome: 'unreachable'; detail: string }
  | { outcome: 'server-untrusted'; detail: string }
  | { outcome: 'refused'; detail: string }
  | { outcome: 'plain-refused' }
  | { outcome: 'accepted' };

/** The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server answers with its SETTINGS. */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * One connection with the client's settings. With TLS 1.3 the server checks the client's
 * certificate after the client's side of the handshake is done, so "accepted" means the
 * server answered the HTTP/2 preface; a refusal is an alert or a close before that.
 */
function probeHandshake(address: string, tls: TLSConfig | undefined, timeoutMs: number): Promise<Probe> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve) => {
    let secured = tls === undefined;
    let settled = false;
    const socket: Socket = tls
      ? connectTls({
          host,
          port,
          ALPNProtocols: ['h2'],
          ...(tls.serverNameOverride ? { servername: tls.serverNameOverride } : isIP(host) ? {} : { servername: host }),
          ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
          ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
        })
      : new Socket().connect(port, host);
    const done = (probe: Probe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    const timer = setTimeout(
      () => done(secured ? { outcome: 'accepted' } : { outcome: 'unreachable', detail: `no answer in ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      secured = true;
      socket.write(HTTP2_PREFACE);
    });
    socket.once('data', () => done({ outcome: 'accepted' }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      if (!secured && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/.test(code))
        return done({ outcome: 'unreachable', detail: code });
      if (!secured && /CERT|SIGNATURE|SELF_SIGNED|ISSUER|ALTNAME/.test(code)) return done({ outcome: 'server-untrusted', detail: code });
      done(tls ? { outcome: 'refused', detail: error.message.split('\n')[0]! } : { outcome: 'plain-refused' });
    });
    socket.once('close', () => done(tls ? { outcome: 'refused', detail: 'closed during the handshake' } : { outcome: 'plain-refused' }));
  });
}

function tlsOf(option: TLSConfig | boolean | null | undefined): TLSConfig | undefined {
  if (!option) return undefined;
  return option === true ? {} : option;
}

function commonName(distinguishedName: string): string {
  const name = /(?:^|\n)CN=([^\n]*)/.exec(distinguishedName)?.[1];
  return name ? `CN=${name}` : distinguishedName.replace(/\n/g, ', ');
}
