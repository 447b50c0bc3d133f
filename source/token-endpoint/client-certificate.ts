import {createPrivateKey, X509Certificate, type KeyObject} from 'node:crypto';
import {checkOptionalString, isPlainObject} from '../checks.js';
import {refuseUnknownOptions} from '../configuration/known-options.js';
import {ConfigurationError, describeValue, TokenError} from '../errors.js';
import {describeFileOf} from '../workload-identity/from-file.js';

/**
PEM text, or a function that returns it: called for every token request attempt, so a certificate renewed in place (cert-manager, a SPIFFE X.509-SVID) is used without a restart. `pemFromFile(path)` reads a file each time.
*/
export type PemSource = string | Uint8Array | (() => string | Uint8Array | Promise<string | Uint8Array>);

export type ClientCertificate = {
	/**
	The client certificate in PEM, followed by any intermediates.
	*/
	certificate: PemSource;

	/**
	Its private key in PEM.
	*/
	key: PemSource;

	/**
	Decrypts `key`, if it is encrypted.
	*/
	passphrase?: string;
};

/**
What one attempt presents in its TLS handshake, as got's `https` options take it.
*/
export type ResolvedClientCertificate = {
	readonly certificate: string;
	readonly key: string;
	readonly passphrase: string | undefined;
};

export type ClientCertificateSettings = {
	/**
	As given: cache-key material (a certificate's hash, or a function by identity).
	*/
	readonly certificate: PemSource;
	/**
	The certificate and key for one attempt, read afresh.
	*/
	resolve(): Promise<ResolvedClientCertificate>;
};

const isPem = (value: unknown): value is string | Uint8Array => (typeof value === 'string' || value instanceof Uint8Array) && value.length > 0;

/**
Text: Node.js keys its connection pool and TLS sessions by the certificate and key, and a PEM is ASCII.
*/
const toText = (value: string | Uint8Array): string => typeof value === 'string' ? value : Buffer.from(value).toString('utf8');

function checkPemSource(option: string, value: unknown): PemSource {
	if (typeof value !== 'function' && !isPem(value)) {
		throw new ConfigurationError(option, `must be a PEM string or Uint8Array, or a function returning one, got ${describeValue(value)}`);
	}

	return value as PemSource;
}

type PairProblem = {readonly option: 'certificate' | 'key'; readonly problem: string};

const mismatch: PairProblem = {option: 'certificate', problem: 'is not the certificate of `clientCertificate.key`'};

/**
What is wrong with a certificate and key, or `undefined`: checked here so that a bad pair fails with a message that names the option, not with OpenSSL's words at the handshake.
*/
function pairProblem(certificate: string, key: string, passphrase: string | undefined): PairProblem | undefined {
	let x509: X509Certificate;
	try {
		x509 = new X509Certificate(certificate);
	} catch {
		return {option: 'certificate', problem: 'is not an X.509 certificate in PEM'};
	}

	let privateKey: KeyObject;
	try {
		privateKey = createPrivateKey({key, passphrase});
	} catch {
		// The parser's message may quote the key; never show key material.
		return {option: 'key', problem: passphrase === undefined
			? 'is not an unencrypted private key in PEM; give `clientCertificate.passphrase` for an encrypted one'
			: 'is not a private key in PEM that `clientCertificate.passphrase` decrypts'};
	}

	return x509.checkPrivateKey(privateKey) ? undefined : mismatch;
}

async function resolvePem(option: 'certificate' | 'key', source: PemSource): Promise<string> {
	const value: unknown = typeof source === 'function' ? await source() : source;
	if (!isPem(value)) {
		throw new TokenError(`\`clientCertificate.${option}\`${describeFileOf(source)} returned ${describeValue(value)}, not a PEM string or Uint8Array`);
	}

	return toText(value);
}

/**
The `clientCertificate` option: a certificate and key given as PEM, or as functions read for every attempt.
*/
export function checkClientCertificate(value: unknown): ClientCertificateSettings {
	if (!isPlainObject(value)) {
		throw new ConfigurationError('clientCertificate', `must be an object {certificate, key, passphrase?}, got ${describeValue(value)}`);
	}

	refuseUnknownOptions(value, ['certificate', 'key', 'passphrase'], 'clientCertificate.');
	const certificate = checkPemSource('clientCertificate.certificate', value.certificate);
	const key = checkPemSource('clientCertificate.key', value.key);
	const passphrase = checkOptionalString('clientCertificate.passphrase', value.passphrase);

	if (typeof certificate !== 'function' && typeof key !== 'function') {
		const problem = pairProblem(toText(certificate), toText(key), passphrase);
		if (problem !== undefined) {
			throw new ConfigurationError(`clientCertificate.${problem.option}`, problem.problem);
		}

		const resolved = {certificate: toText(certificate), key: toText(key), passphrase};
		return {certificate, resolve: async () => resolved};
	}

	const read = async (): Promise<ResolvedClientCertificate> => ({certificate: await resolvePem('certificate', certificate), key: await resolvePem('key', key), passphrase});
	return {
		certificate,
		async resolve() {
			let resolved = await read();
			let problem = pairProblem(resolved.certificate, resolved.key, passphrase);
			if (problem === mismatch) {
				// A renewal replaces both files, but two reads can fall either side of it: read both again.
				resolved = await read();
				problem = pairProblem(resolved.certificate, resolved.key, passphrase);
			}

			if (problem !== undefined) {
				const source = problem.option === 'certificate' ? certificate : key;
				throw new TokenError(`\`clientCertificate.${problem.option}\`${describeFileOf(source)} ${problem.problem}`);
			}

			return resolved;
		},
	};
}
