import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its private key, as PEM files. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

export interface TestCertificates {
  /** The CA the TLS front trusts for clients, and the clients trust for the server. */
  ca: CertificateFiles;
  /** The front's certificate: `localhost` and `127.0.0.1`. */
  server: CertificateFiles;
  /** A client certificate signed by `ca`, valid now. */
  client: CertificateFiles;
  /** A client certificate signed by another CA, valid now. */
  otherCaClient: CertificateFiles;
  /** A client certificate signed by `ca` whose validity ended in 2020. */
  expiredClient: CertificateFiles;
}

/**
 * Generates the certificates of the mutual-TLS tests with the `openssl` command line, into
 * `directory`. Everything is made at test time; nothing is checked in. Certificates are
 * issued with `openssl ca`, whose `-startdate`/`-enddate` make an expired one without a fake
 * clock (OpenSSL 3.0's `x509` has no `-not_before`).
 */
export function createTestCertificates(directory: string): TestCertificates {
  mkdirSync(directory, { recursive: true });
  const ca = createCa(join(directory, 'ca'), 'durable-agents test CA');
  const otherCa = createCa(join(directory, 'other-ca'), 'some other CA');
  const validity = { startdate: daysFromNow(-1), enddate: daysFromNow(2) };
  return {
    ca: ca.files,
    server: ca.issue('server', { commonName: 'localhost', extension: 'server_cert', ...validity }),
    client: ca.issue('client', { commonName: 'durable-agents worker', extension: 'client_cert', ...validity }),
    otherCaClient: otherCa.issue('client', { commonName: 'durable-agents worker', extension: 'client_cert', ...validity }),
    expiredClient: ca.issue('expired-client', {
      commonName: 'durable-agents worker',
      extension: 'client_cert',
      startdate: '20200101000000Z',
      enddate: '20200102000000Z',
    }),
  };
}

interface IssueOptions {
  commonName: string;
  extension: 'server_cert' | 'client_cert';
  /** `YYYYMMDDHHMMSSZ` */
  startdate: string;
  enddate: string;
}

function createCa(directory: string, commonName: string) {
  mkdirSync(directory, { recursive: true });
  const path = (name: string) => join(directory, name);
  writeFileSync(path('index.txt'), '');
  writeFileSync(path('openssl.cnf'), caConfig(directory));
  const files = { cert: path('ca.pem'), key: path('ca.key') };
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', files.key);
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    files.key,
    '-subj',
    `/CN=${commonName}`,
    '-days',
    '3',
    '-config',
    path('openssl.cnf'),
    '-extensions',
    'ca_cert',
    '-out',
    files.cert,
  );
  return {
    files,
    issue(name: string, options: IssueOptions): CertificateFiles {
      const issued = { cert: path(`${name}.pem`), key: path(`${name}.key`) };
      const request = path(`${name}.csr`);
      openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', issued.key);
      openssl('req', '-new', '-key', issued.key, '-subj', `/CN=${options.commonName}`, '-out', request);
      openssl(
        'ca',
        '-batch',
        '-notext',
        '-config',
        path('openssl.cnf'),
        '-extensions',
        options.extension,
        '-startdate',
        options.startdate,
        '-enddate',
        options.enddate,
        '-in',
        request,
        '-out',
        issued.cert,
      );
      return issued;
    },
  };
}

function caConfig(directory: string): string {
  return `[ ca ]
default_ca = test_ca

[ test_ca ]
dir = ${directory}
database = $dir/index.txt
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
rand_serial = yes
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no

[ any_name ]
commonName = supplied

[ req ]
distinguished_name = req_name
prompt = no

[ req_name ]
CN = unused

[ ca_cert ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_cert ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid

[ client_cert ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `YYYYMMDDHHMMSSZ`, as `openssl ca -startdate` takes it. */
function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}
