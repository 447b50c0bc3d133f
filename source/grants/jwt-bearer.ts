import {isPlainObject, optionNames} from '../checks.js';
import {fingerprint, processLocalProblem} from '../configuration/fingerprint.js';
import {ConfigurationError, describeValue} from '../errors.js';
import {freshClaims, privateKeySigner} from '../signing/assertion.js';
import {parseTokenObject} from '../token-endpoint/token-response.js';
import type {TokenEndpointTarget} from '../token-endpoint/fetch-token.js';
import {checkTokenValue, resolveTokenValue, type GrantContext, type GrantDefinition, type TokenValue} from './grant.js';

export type JwtBearerOptions = {
	/**
	The JWT bearer grant's assertion, when you sign it yourself: a string, or a function called for a fresh one on every attempt. Without it, `privateKey` signs one.

	@see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
	*/
	assertion?: TokenValue;

	/**
	Claims for the assertion `privateKey` signs, over the defaults `iss` = `sub` = `clientId` (a client acting for itself) and `aud` = the token endpoint: a service account's `iss`, the user to act for in `sub`, Google's `scope`. `jti`, `iat` and `exp` are always fresh.

	@default {}
	@see https://www.rfc-editor.org/rfc/rfc7523#section-3
	*/
	assertionClaims?: Record<string, unknown>;
};

const type = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

type AssertionFactory = () => (target: TokenEndpointTarget) => Promise<string>;

function assertionFactory({assertion, assertionClaims}: JwtBearerOptions, {clientId, privateKey}: GrantContext): AssertionFactory {
	if (assertion !== undefined) {
		if (assertionClaims !== undefined) {
			throw new ConfigurationError('assertionClaims', 'is for the assertion `privateKey` signs; it cannot change a given `assertion`');
		}

		const value = checkTokenValue('assertion', assertion);
		return () => async () => resolveTokenValue('assertion', value);
	}

	if (privateKey === undefined) {
		throw new ConfigurationError('assertion', 'or `privateKey` to sign one is required for the JWT bearer grant (RFC 7523 §2.1)');
	}

	if (assertionClaims !== undefined && !isPlainObject(assertionClaims)) {
		throw new ConfigurationError('assertionClaims', `must be an object of JWT claims, got ${describeValue(assertionClaims)}`);
	}

	return () => {
		// Per token source: the signer keeps its imported key.
		const sign = privateKeySigner(privateKey);
		// RFC 7523 §3: the client speaks for itself unless `assertionClaims` names another subject.
		return async ({tokenEndpoint}) => sign({iss: clientId, sub: clientId, aud: tokenEndpoint.href, ...assertionClaims, ...freshClaims()});
	};
}

/**
RFC 7523 §2.1: a signed JWT for a token. The assertion is the credential, so client authentication is optional.
*/
export const jwtBearer = {
	type,
	optionNames: optionNames<JwtBearerOptions>()(['assertion', 'assertionClaims']),
	parameters: {assertion: 'assertion'},
	prepare(options, context) {
		const makeAssertion = assertionFactory(options, context);
		return {
			type,
			identity: {type, assertion: fingerprint(options.assertion), assertionClaims: options.assertionClaims ?? {}},
			isReplaySafe: true,
			sharingProblem: processLocalProblem('assertion', options.assertion),
			usesPrivateKey: options.assertion === undefined,
			authenticatesClient: true,
			create() {
				const assertion = makeAssertion();
				return {
					async requestToken(call) {
						return parseTokenObject(await call.post(async target => [['grant_type', type], ['assertion', await assertion(target)]]));
					},
				};
			},
		};
	},
} as const satisfies GrantDefinition<JwtBearerOptions>;
