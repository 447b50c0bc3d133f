import {isPlainObject, optionNames} from '../checks.js';
import {refuseUnknownOptions} from '../configuration/known-options.js';
import {ConfigurationError, describeValue} from '../errors.js';
import {checkSigningKey, type PrivateKeyInput} from '../signing/signing-key.js';
import {dpopAlgorithms, DpopKey} from './key.js';
import {NonceCache} from './nonces.js';

export type DpopKeyOptions = {
	/**
	The key that signs the proofs: a `KeyObject`, an unencrypted PEM or a private JWK (RSA of 2048 bits or more, EC P-256/P-384/P-521, or Ed25519), checked when the configuration is read. Give one when a token must stay bound to a key you keep, such as a refresh token issued to a public client (RFC 9449 §5).

	@default A key pair generated for the token source, on its first token request
	*/
	privateKey?: PrivateKeyInput;

	/**
	The JWS algorithm of the proofs: `ES256`, `ES384`, `ES512`, `EdDSA`, `Ed25519`, `RS256`, `RS384`, `RS512`, `PS256`, `PS384` or `PS512`. With `privateKey`, one that key can sign (the default is the first); without, the kind of key pair generated. The server lists what it accepts in `dpop_signing_alg_values_supported`.

	@default 'ES256', or the given key's own
	*/
	alg?: string;

	/**
	Accept a `Bearer` token in answer to a token request that carried a DPoP proof: the server ignored the proof (RFC 9449 §5), and the token is then sent as a bearer token. Off by default, because such a token is a bearer token again: whoever steals it can use it, which is what DPoP is for preventing.

	@default false
	*/
	acceptBearer?: boolean;
};

export type DpopOptions = {
	/**
	Sender-constrained tokens (RFC 9449): every token request and every API request carries a new proof signed by a key the token is bound to, so that a stolen token is useless without the key. `true` generates a key pair per token source (ES256); an object chooses the key or its algorithm. With a `store`, the key is stored with the token, encrypted like it, and processes that adopt the token adopt its key.

	@default false
	@see https://www.rfc-editor.org/rfc/rfc9449
	*/
	dpop?: boolean | DpopKeyOptions;
};

export const dpopOptionNames = optionNames<DpopOptions>()(['dpop']);

const dpopKeyOptionNames = optionNames<DpopKeyOptions>()(['privateKey', 'alg', 'acceptBearer']);

/**
DPoP for one token source, checked: its key (made on first use), what it accepts, and the nonces its servers sent.
*/
export type DpopSettings = {
	/**
	The token source's own key: the one its token requests prove. Made or imported once, on first use; tried again after a failure.
	*/
	readonly key: () => Promise<DpopKey>;
	readonly acceptBearer: boolean;
	readonly nonces: NonceCache;
	/**
	What the token's binding depends on, for the cache key.
	*/
	readonly identity: string;
};

function once(create: () => Promise<DpopKey>): () => Promise<DpopKey> {
	let key: Promise<DpopKey> | undefined;
	return async () => {
		key ??= create().catch((error: unknown) => {
			key = undefined;
			throw error;
		});
		return key;
	};
}

function checkAlg(value: unknown): string | undefined {
	if (value !== undefined && (typeof value !== 'string' || !dpopAlgorithms.includes(value))) {
		throw new ConfigurationError('dpop.alg', `must be one of ${dpopAlgorithms.join(', ')}, got ${typeof value === 'string' ? 'another' : describeValue(value)}`);
	}

	return value;
}

/**
The `dpop` option, checked; `undefined` when DPoP is off. `isExportable`: a shared store has to carry the key to other processes.
*/
export function checkDpopOptions(value: unknown, {isExportable}: {isExportable: boolean}): DpopSettings | undefined {
	if (value === undefined || value === false) {
		return undefined;
	}

	if (value !== true && !isPlainObject(value)) {
		throw new ConfigurationError('dpop', `must be true or an object of DPoP options, got ${describeValue(value)}`);
	}

	const options: DpopKeyOptions = value === true ? {} : value;
	refuseUnknownOptions(options, dpopKeyOptionNames, 'dpop.');
	const alg = checkAlg(options.alg);
	const {acceptBearer = false} = options;
	if (typeof acceptBearer !== 'boolean') {
		throw new ConfigurationError('dpop.acceptBearer', `must be a boolean, got ${describeValue(acceptBearer)}`);
	}

	let key: () => Promise<DpopKey>;
	if (options.privateKey === undefined) {
		const generatedAlg = alg ?? 'ES256';
		key = once(async () => DpopKey.generate(generatedAlg, isExportable));
	} else {
		const given = checkSigningKey('dpop.privateKey', options.privateKey);
		// Checked again with `alg`, so that a mismatch names `dpop.alg`.
		const {key: keyObject, alg: keyAlg} = alg === undefined ? given : checkSigningKey('dpop', {key: given.key, alg});
		key = once(async () => DpopKey.fromKeyObject(keyObject, keyAlg, isExportable));
	}

	return {
		key,
		acceptBearer,
		nonces: new NonceCache(),
		identity: acceptBearer ? 'dpop or bearer' : 'dpop',
	};
}
