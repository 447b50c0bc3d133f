/*
A throwaway PKI for the mutual TLS tests, made with the openssl CLI at test time: nothing secret is checked in, and nothing outlives the process.
*/
import {execFileSync} from 'node:child_process';
import {createHash, X509Certificate} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

export type CertificateAndKey = {
	/** PEM */
	readonly certificate: string;
	/** PEM, PKCS#8 */
	readonly key: string;
};

export type TestPki = {
	/** PEM of the CA that signed `server` and `client`. */
	readonly ca: string;
	/** For 127.0.0.1 and localhost. */
	readonly server: CertificateAndKey;
	/** Signed by the CA; subject `CN=got-oauth mtls client`. */
	readonly client: CertificateAndKey;
	/** `client` renewed: the same subject, a new key and certificate from the same CA, as cert-manager's renewal makes. */
	readonly renewed: CertificateAndKey;
	/** Signed by itself, for self_signed_tls_client_auth. */
	readonly selfSigned: CertificateAndKey;
};

export const clientSubject = 'CN=got-oauth mtls client';

let pki: TestPki | undefined;

/** RFC 8705 §3.1 `x5t#S256`: the base64url SHA-256 of the DER certificate. */
export function thumbprint(certificatePem: string): string {
	return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('base64url');
}

/** Generate once per test process (about 50 ms). */
export function testPki(): TestPki {
	if (pki !== undefined) {
		return pki;
	}

	const directory = mkdtempSync(path.join(tmpdir(), 'got-oauth-pki-'));
	const file = (name: string) => path.join(directory, name);
	const openssl = (...arguments_: string[]) => execFileSync('openssl', arguments_, {cwd: directory, stdio: ['ignore', 'ignore', 'pipe']});
	const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
	try {
		openssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=got-oauth test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
		const signed = (name: string, subject: string, extensions: string) => {
			writeFileSync(file(`${name}.ext`), extensions);
			openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
			openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
		};

		signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
		signed('client', `/${clientSubject}`, 'extendedKeyUsage=clientAuth\n');
		signed('renewed', `/${clientSubject}`, 'extendedKeyUsage=clientAuth\n');
		openssl('req', '-x509', ...newKey, '-keyout', 'self.key', '-out', 'self.crt', '-days', '1', '-subj', '/CN=got-oauth self-signed client');
		const read = (name: string): CertificateAndKey => ({certificate: readFileSync(file(`${name}.crt`), 'utf8'), key: readFileSync(file(`${name}.key`), 'utf8')});
		pki = {ca: readFileSync(file('ca.crt'), 'utf8'), server: read('server'), client: read('client'), renewed: read('renewed'), selfSigned: read('self')};
		return pki;
	} finally {
		rmSync(directory, {recursive: true, force: true});
	}
}
