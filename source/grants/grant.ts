import {isNonEmptyString} from '../checks.js';
import {ConfigurationError, describeValue, TokenError} from '../errors.js';
import type {NormalizedSigningKey} from '../signing/signing-key.js';
import type {FormEntries, TokenEndpointTarget} from '../token-endpoint/fetch-token.js';
import type {AnswerSource} from '../token-endpoint/token-response.js';
import type {TokenSet} from '../token-source/token-source.js';

/**
A string, or a function called for a fresh one on every token request attempt.
*/
export type TokenValue = string | (() => string | Promise<string>);

/**
A successful token endpoint response: its status (absent for a token a custom grant got elsewhere) and JSON object.
*/
export type TokenEndpointAnswer = {
	readonly statusCode: number | undefined;
	readonly json: Record<string, unknown>;
	/**
	Where it came from, for messages.
	*/
	readonly source?: AnswerSource;
};

/**
The token endpoint, as a grant sees it.
*/
export type TokenEndpointCall = {
	/**
	Sends one token request: the grant's parameters, built afresh for every attempt, then each configured `scope`, `audience`, `resource` and `extraParams` whose name the grant's parameters do not already have, with the client's authentication. Resolves with a successful response; an RFC 6749 §5.2 error response rejects with a `TokenError`.
	*/
	post(parameters: (target: TokenEndpointTarget) => Promise<FormEntries>): Promise<TokenEndpointAnswer>;
};

/**
One token source's grant: how it gets a token from the token endpoint, and what it keeps.
*/
export type Grant = {
	requestToken(call: TokenEndpointCall): Promise<TokenSet>;
};

/**
A grant's configuration, checked: everything a token source needs to know of it.
*/
export type PreparedGrant = {
	/**
	`grant_type`, or `custom` for a function.
	*/
	readonly type: string;
	/**
	What makes its tokens someone else's (a subject, a refresh token), as cache-key material: fingerprints, never the values.
	*/
	readonly identity: Readonly<Record<string, unknown>>;
	/**
	A retry after a lost response is harmless. False where the server spends what the request carries, as with a rotating refresh token.
	*/
	readonly isReplaySafe: boolean;
	/**
	The grant signs with `privateKey`, so the key is not also the client's credential.
	*/
	readonly usesPrivateKey: boolean;
	/**
	The grant's assertion proves the client (RFC 7523 §2.1): no client credentials is not a mistake.
	*/
	readonly authenticatesClient: boolean;
	/**
	Why the grant's token may not be shared through a `store`: the option at fault and the problem. Absent when it may be.
	*/
	readonly sharingProblem?: {readonly option: string; readonly problem: string};
	/**
	The grant's state for one token source.
	*/
	create(): Grant;
};

export type GrantContext = {
	readonly clientId: string;
	readonly privateKey: NormalizedSigningKey | undefined;
};

/**
A built-in grant. Adding one is adding a file that exports one of these and a line in the registry.
*/
export type GrantDefinition<Options> = {
	/**
	`grant_type` (RFC 6749 §4.4.2, §6; RFC 7523 §2.1; RFC 8693 §2.1).
	*/
	readonly type: string;
	/**
	The configuration options only this grant reads: any other grant refuses them.
	*/
	readonly optionNames: ReadonlyArray<keyof Options & string>;
	/**
	The form parameters this grant sets, each with the option that sets it: `extraParams` may not set them.
	*/
	readonly parameters: Readonly<Record<string, keyof Options & string>>;
	/**
	Check the grant's options: a `ConfigurationError` names the first that is wrong.
	*/
	prepare(options: Options, context: GrantContext): PreparedGrant;
};

export function checkTokenValue(option: string, value: unknown): TokenValue {
	if (typeof value !== 'function' && !isNonEmptyString(value)) {
		throw new ConfigurationError(option, `must be a non-empty string or a function returning one, got ${describeValue(value)}`);
	}

	return value as TokenValue;
}

export async function resolveTokenValue(option: string, value: TokenValue): Promise<string> {
	const resolved: unknown = typeof value === 'function' ? await value() : value;
	if (!isNonEmptyString(resolved)) {
		throw new TokenError(`\`${option}\` returned ${typeof resolved === 'string' ? 'an empty string' : describeValue(resolved)}, not a token`);
	}

	return resolved;
}
