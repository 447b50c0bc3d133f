import {createHash, createPrivateKey, KeyObject, X509Certificate} from 'node:crypto';
import {ConfigurationError} from './errors.js';
import {describe, isPlainObject, optionalString} from './validation.js';

/*
A private key for signing client assertions (RFC 7523), checked when the configuration is read: the right kind of key for the algorithm, long enough, and never quoted in a message.
*/

export type NormalizedSigningKey = {
	readonly key: KeyObject;
	readonly alg: string;
	/** Protected header parameters besides `alg`: `kid`, `x5t`, `x5t#S256`. */
	readonly header: Readonly<Record<string, string>>;
};

const curveNames: Record<string, string> = {prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521'};
const curveAlgorithms: Record<string, string> = {prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512'};

/** The JWS algorithms each key can sign with, the first being the default (RFC 7518 §3.1, RFC 8037 §3.1). */
function algorithmsFor(key: KeyObject): string[] {
	const {asymmetricKeyType: type, asymmetricKeyDetails: details} = key;
	if (type === 'rsa') {
		return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
	}

	if (type === 'ed25519') {
		return ['EdDSA', 'Ed25519'];
	}

	const alg = type === 'ec' ? curveAlgorithms[details?.namedCurve ?? ''] : undefined;
	return alg === undefined ? [] : [alg];
}

const keyTypeNames: Record<string, string> = {rsa: 'an RSA', 'rsa-pss': 'an RSA-PSS', ec: 'an EC', ed25519: 'an Ed25519', ed448: 'an Ed448', x25519: 'an X25519', x448: 'an X448', dsa: 'a DSA', dh: 'a DH'};

/** "an RSA key", "an EC P-256 key": for messages. */
function describeKey(key: KeyObject): string {
	const type = key.asymmetricKeyType!;
	const curve = key.asymmetricKeyDetails?.namedCurve;
	return `${keyTypeNames[type] ?? `a ${type}`}${curve === undefined ? '' : ` ${curveNames[curve] ?? curve}`} key`;
}

function toPrivateKey(option: string, input: unknown): KeyObject {
	if (input instanceof KeyObject) {
		if (input.type !== 'private') {
			throw new ConfigurationError(option, `must be a private key, got a ${input.type} KeyObject`);
		}

		return input;
	}

	if (typeof input !== 'string' && !isPlainObject(input)) {
		throw new ConfigurationError(option, `must be a KeyObject, a PEM string or a JWK, got ${describe(input)}`);
	}

	try {
		return createPrivateKey(typeof input === 'string' ? input : {key: input, format: 'jwk'});
	} catch {
		// The parser's message may quote the input; never show key material.
		throw new ConfigurationError(option, typeof input === 'string'
			? 'is not an unencrypted private key in PEM (PKCS#8, PKCS#1 or SEC1); decrypt it with crypto.createPrivateKey() and pass the KeyObject'
			: 'is not a private JWK');
	}
}

export function normalizeSigningKey(option: string, value: unknown): NormalizedSigningKey {
	// `{key, alg, kid}`, or a bare key; a JWK may carry its own alg and kid.
	const wrapper = isPlainObject(value) && 'key' in value && !('kty' in value) ? value : undefined;
	const input = wrapper === undefined ? value : wrapper.key;
	const jwk = isPlainObject(input) ? input : undefined;
	const alg = optionalString(`${option}.alg`, wrapper?.alg) ?? optionalString(`${option}.alg`, jwk?.alg);
	const kid = optionalString(`${option}.kid`, wrapper?.kid) ?? optionalString(`${option}.kid`, jwk?.kid);
	const key = toPrivateKey(option, input);
	const algorithms = algorithmsFor(key);
	if (algorithms.length === 0) {
		throw new ConfigurationError(option, `is ${describeKey(key)}; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key`);
	}

	if (alg !== undefined && !algorithms.includes(alg)) {
		throw new ConfigurationError(`${option}.alg`, `is ${alg}, which ${describeKey(key)} cannot sign; it signs ${algorithms.join(', ')}`);
	}

	// RFC 7518 §3.3.
	if (key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails!.modulusLength! < 2048) {
		throw new ConfigurationError(option, 'is an RSA key shorter than 2048 bits (RFC 7518 §3.3)');
	}

	const header: Record<string, string> = kid === undefined ? {} : {kid};
	const certificate = optionalString(`${option}.certificate`, wrapper?.certificate);
	if (certificate !== undefined) {
		let x509: X509Certificate;
		try {
			x509 = new X509Certificate(certificate);
		} catch {
			throw new ConfigurationError(`${option}.certificate`, 'is not an X.509 certificate in PEM');
		}

		if (!x509.checkPrivateKey(key)) {
			throw new ConfigurationError(`${option}.certificate`, `is not the certificate of \`${option}.key\``);
		}

		header.x5t = createHash('sha1').update(x509.raw).digest('base64url');
		header['x5t#S256'] = createHash('sha256').update(x509.raw).digest('base64url');
	}

	return {key, alg: alg ?? algorithms[0]!, header};
}
