import {createHash, createPrivateKey, KeyObject, X509Certificate} from 'node:crypto';
import type {JWK} from 'jose';
import {checkOptionalString, isPlainObject} from '../checks.js';
import {ConfigurationError, describeValue} from '../errors.js';

/*
A private key that signs JWTs (RFC 7523 assertions), checked when the configuration is read: the right kind of key for the algorithm, long enough, and never quoted in a message.
*/

/**
A private key: a `KeyObject`, an unencrypted PEM string (PKCS#8, PKCS#1 or SEC1) or a private JWK.
*/
export type PrivateKeyInput = KeyObject | string | JWK;

/**
A private key, optionally with the JWS algorithm, the `kid` to put in the header, and the key's X.509 certificate (PEM), whose thumbprints then go in the header as `x5t` and `x5t#S256` (RFC 7515 §4.1.7, §4.1.8), as Microsoft Entra ID requires of certificate credentials.
*/
export type SigningKey = PrivateKeyInput | {key: PrivateKeyInput; alg?: string; kid?: string; certificate?: string};

export type NormalizedSigningKey = {
	readonly key: KeyObject;
	readonly alg: string;
	/**
	Protected header parameters besides `alg`: `kid`, `x5t`, `x5t#S256`.
	*/
	readonly header: Readonly<Record<string, string>>;
};

const curves: Record<string, {name: string; alg: string}> = {
	prime256v1: {name: 'P-256', alg: 'ES256'},
	secp384r1: {name: 'P-384', alg: 'ES384'},
	secp521r1: {name: 'P-521', alg: 'ES512'},
};

/**
The JWS algorithms each key can sign with, the first being the default (RFC 7518 §3.1, RFC 8037 §3.1).
*/
function algorithmsFor(key: KeyObject): readonly string[] {
	const {asymmetricKeyType: type, asymmetricKeyDetails: details} = key;
	if (type === 'rsa') {
		return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
	}

	if (type === 'ed25519') {
		return ['EdDSA', 'Ed25519'];
	}

	const curve = type === 'ec' ? curves[details?.namedCurve ?? ''] : undefined;
	return curve === undefined ? [] : [curve.alg];
}

const keyTypeNames: Record<string, string> = {rsa: 'an RSA', 'rsa-pss': 'an RSA-PSS', ec: 'an EC', ed25519: 'an Ed25519', ed448: 'an Ed448', x25519: 'an X25519', x448: 'an X448', dsa: 'a DSA', dh: 'a DH'};

/**
"an RSA key", "an EC P-256 key": for messages.
*/
function describeKey(key: KeyObject): string {
	const type = key.asymmetricKeyType ?? 'unknown';
	const curve = key.asymmetricKeyDetails?.namedCurve;
	return `${keyTypeNames[type] ?? `a ${type}`}${curve === undefined ? '' : ` ${curves[curve]?.name ?? curve}`} key`;
}

/**
A PEM pasted into an environment variable often arrives with its line breaks as the two characters `\n`.
*/
const hasEscapedNewlines = (pem: string): boolean => pem.includes('-----BEGIN') && !pem.includes('\n') && pem.includes(String.raw`\n`);

function toPrivateKey(option: string, input: unknown): KeyObject {
	if (input instanceof KeyObject) {
		if (input.type !== 'private') {
			throw new ConfigurationError(option, `must be a private key, got a ${input.type} KeyObject`);
		}

		return input;
	}

	if (typeof input !== 'string' && !isPlainObject(input)) {
		throw new ConfigurationError(option, `must be a KeyObject, a PEM string or a JWK, got ${describeValue(input)}`);
	}

	if (typeof input === 'string' && hasEscapedNewlines(input)) {
		throw new ConfigurationError(option, String.raw`is a PEM whose line breaks are the two characters "\n", as an environment variable often delivers it; replace them with real line breaks, e.g. value.replaceAll('\\n', '\n')`);
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

function certificateHeader(option: string, certificate: string, key: KeyObject): Record<string, string> {
	let x509: X509Certificate;
	try {
		x509 = new X509Certificate(certificate);
	} catch {
		throw new ConfigurationError(`${option}.certificate`, 'is not an X.509 certificate in PEM');
	}

	if (!x509.checkPrivateKey(key)) {
		throw new ConfigurationError(`${option}.certificate`, `is not the certificate of \`${option}.key\``);
	}

	return {
		x5t: createHash('sha1').update(x509.raw).digest('base64url'),
		'x5t#S256': createHash('sha256').update(x509.raw).digest('base64url'),
	};
}

export function checkSigningKey(option: string, value: unknown): NormalizedSigningKey {
	// `{key, alg, kid}`, or a bare key; a JWK may carry its own alg and kid.
	const wrapper = isPlainObject(value) && 'key' in value && !('kty' in value) ? value : undefined;
	const input = wrapper === undefined ? value : wrapper.key;
	const jwk = isPlainObject(input) ? input : undefined;
	const alg = checkOptionalString(`${option}.alg`, wrapper?.alg) ?? checkOptionalString(`${option}.alg`, jwk?.alg);
	const kid = checkOptionalString(`${option}.kid`, wrapper?.kid) ?? checkOptionalString(`${option}.kid`, jwk?.kid);
	const key = toPrivateKey(option, input);
	const [defaultAlg, ...otherAlgs] = algorithmsFor(key);
	if (defaultAlg === undefined) {
		throw new ConfigurationError(option, `is ${describeKey(key)}; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key`);
	}

	if (alg !== undefined && alg !== defaultAlg && !otherAlgs.includes(alg)) {
		throw new ConfigurationError(`${option}.alg`, `is ${alg}, which ${describeKey(key)} cannot sign; it signs ${[defaultAlg, ...otherAlgs].join(', ')}`);
	}

	// RFC 7518 §3.3.
	if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
		throw new ConfigurationError(option, 'is an RSA key shorter than 2048 bits (RFC 7518 §3.3)');
	}

	const certificate = checkOptionalString(`${option}.certificate`, wrapper?.certificate);
	return {
		key,
		alg: alg ?? defaultAlg,
		header: {
			...(kid !== undefined && {kid}),
			...(certificate !== undefined && certificateHeader(option, certificate, key)),
		},
	};
}
