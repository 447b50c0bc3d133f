import {checkOptionalString, optionNames} from '../checks.js';
import {fingerprint, processLocalProblem} from '../configuration/fingerprint.js';
import {ConfigurationError} from '../errors.js';
import {parseTokenObject} from '../token-endpoint/token-response.js';
import type {FormEntries} from '../token-endpoint/fetch-token.js';
import {checkTokenValue, resolveTokenValue, type GrantDefinition, type TokenValue} from './grant.js';

export type TokenExchangeOptions = {
	/**
	The token to exchange, for the token exchange grant: a string, or a function called for a fresh one on every attempt (another token source's `getToken`, say). The exchanged token is cached like any other, so the subject must stay the same: one token source per user.

	@see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
	*/
	subjectToken?: TokenValue;

	/**
	@default 'urn:ietf:params:oauth:token-type:access_token'
	*/
	subjectTokenType?: string;

	/**
	RFC 8693's `actor_token`, sent with `actorTokenType`.
	*/
	actorToken?: TokenValue;

	/**
	@default 'urn:ietf:params:oauth:token-type:access_token'
	*/
	actorTokenType?: string;

	/**
	RFC 8693's `requested_token_type`. The answer must still be an access token; its `issued_token_type` is accepted.
	*/
	requestedTokenType?: string;
};

const type = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
RFC 8693 §3: the default type of a subject or actor token.
*/
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

/**
RFC 8693: a token for a token, such as a user's token for one to another API.
*/
export const tokenExchange = {
	type,
	optionNames: optionNames<TokenExchangeOptions>()(['subjectToken', 'subjectTokenType', 'actorToken', 'actorTokenType', 'requestedTokenType']),
	parameters: {
		subject_token: 'subjectToken',
		subject_token_type: 'subjectTokenType',
		actor_token: 'actorToken',
		actor_token_type: 'actorTokenType',
		requested_token_type: 'requestedTokenType',
	},
	prepare(options) {
		if (options.subjectToken === undefined) {
			throw new ConfigurationError('subjectToken', 'is required for the token exchange grant (RFC 8693 §2.1)');
		}

		// RFC 8693 §2.1: an actor token type describes an actor token; alone it is a mistake.
		if (options.actorToken === undefined && options.actorTokenType !== undefined) {
			throw new ConfigurationError('actorTokenType', 'is only sent with an `actorToken` (RFC 8693 §2.1)');
		}

		const subjectToken = checkTokenValue('subjectToken', options.subjectToken);
		const subjectTokenType = checkOptionalString('subjectTokenType', options.subjectTokenType) ?? accessTokenType;
		// RFC 8693 §2.1: the type is required with an actor token.
		const actor = options.actorToken === undefined
			? undefined
			: {token: checkTokenValue('actorToken', options.actorToken), type: checkOptionalString('actorTokenType', options.actorTokenType) ?? accessTokenType};
		const requestedTokenType = checkOptionalString('requestedTokenType', options.requestedTokenType);

		async function parameters(): Promise<FormEntries> {
			const actorEntries: FormEntries = actor === undefined ? [] : [['actor_token', await resolveTokenValue('actorToken', actor.token)], ['actor_token_type', actor.type]];
			return [
				['grant_type', type],
				['subject_token', await resolveTokenValue('subjectToken', subjectToken)],
				['subject_token_type', subjectTokenType],
				...actorEntries,
				...(requestedTokenType === undefined ? [] : [['requested_token_type', requestedTokenType] as [string, string]]),
			];
		}

		return {
			type,
			identity: {
				type,
				subjectToken: fingerprint(subjectToken),
				subjectTokenType,
				actorToken: fingerprint(actor?.token),
				actorTokenType: actor?.type,
				requestedTokenType,
			},
			isReplaySafe: true,
			sharingProblem: processLocalProblem('subjectToken', subjectToken) ?? processLocalProblem('actorToken', actor?.token),
			usesPrivateKey: false,
			authenticatesClient: false,
			create: () => ({
				async requestToken(call) {
					return parseTokenObject(await call.post(parameters));
				},
			}),
		};
	},
} as const satisfies GrantDefinition<TokenExchangeOptions>;
