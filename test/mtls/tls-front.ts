import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { CertificateFiles } from './certificates.ts';

export interface TlsFront {
  /** `127.0.0.1:port`: what a client puts in TEMPORAL_ADDRESS. */
  address: string;
  /** Client certificates the front accepted, by subject CN, in order. */
  accepted: string[];
  /** Handshakes the front refused, with OpenSSL's reason. */
  refused: string[];
  close(): Promise<void>;
}

export interface TlsFrontOptions {
  /** The plain gRPC port behind it: the dev server's `host:port`. */
  target: string;
  server: CertificateFiles;
  /** The CA client certificates must chain to. */
  clientCa: string;
}

/**
 * Temporal Cloud's front door in miniature: a TLS server that demands a client certificate
 * signed by `clientCa` and refuses the handshake otherwise, then pipes the decrypted bytes
 * to the dev server's plain port. gRPC's HTTP/2 passes through untouched (ALPN `h2`), so a
 * client that connects here speaks mutual TLS end to end, as it would to Temporal Cloud.
 */
export async function startTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const [targetHost, targetPort] = splitAddress(options.target);
  const accepted: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(
    {
      cert: readFileSync(options.server.cert),
      key: readFileSync(options.server.key),
      ca: readFileSync(options.clientCa),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (tlsSocket: TLSSocket) => {
      const subject = tlsSocket.getPeerCertificate().subject?.CN;
      accepted.push(typeof subject === 'string' ? subject : '?');
      const upstream = connect(targetPort, targetHost);
      sockets.add(tlsSocket).add(upstream);
      tlsSocket.pipe(upstream).pipe(tlsSocket);
      const closeBoth = () => {
        tlsSocket.destroy();
        upstream.destroy();
        sockets.delete(tlsSocket);
        sockets.delete(upstream);
      };
      tlsSocket.once('error', closeBoth).once('close', closeBoth);
      upstream.once('error', closeBoth).once('close', closeBoth);
    },
  );
  server.on('tlsClientError', (error) => refused.push(error.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    accepted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitAddress(address: string): [string, number] {
  const separator = address.lastIndexOf(':');
  return [address.slice(0, separator), Number(address.slice(separator + 1))];
}
