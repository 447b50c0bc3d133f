import {checkFunction, isNonEmptyString, optionNames} from '../checks.js';
import {ConfigurationError, describeValue, TokenError} from '../errors.js';
import {fingerprint} from '../configuration/fingerprint.js';
import {parseTokenObject} from '../token-endpoint/token-response.js';
import type {TokenSet} from '../token-source/token-source.js';
import type {GrantDefinition} from './grant.js';

export type RefreshTokenOptions = {
	/**
	The refresh token to start with, for `grant: 'refresh_token'`. When the server rotates it, the new one is used from then on.

	@see https://www.rfc-editor.org/rfc/rfc6749#section-6
	*/
	refreshToken?: string;

	/**
	Called with each new refresh token the server rotates to, to store it. If it throws, that token request fails with a `TokenError`, but the new refresh token is kept in memory: the old one is already spent.
	*/
	onRefreshToken?: (refreshToken: string) => void | Promise<void>;
};

/**
Rotating refresh tokens (OAuth 2.0 Security BCP §4.14.2): each response may carry a new refresh token, and the old one is then spent. Kept for the life of the token source, and handed to `onRefreshToken` to store.
*/
class RefreshTokenState {
	#current: string;
	readonly #onRefreshToken: ((refreshToken: string) => void | Promise<void>) | undefined;

	constructor(refreshToken: string, onRefreshToken: ((refreshToken: string) => void | Promise<void>) | undefined) {
		this.#current = refreshToken;
		this.#onRefreshToken = onRefreshToken;
	}

	get current(): string {
		return this.#current;
	}

	async accept({refreshToken}: TokenSet): Promise<void> {
		if (refreshToken === undefined || refreshToken === this.#current) {
			return;
		}

		// Before the callback: the server has already spent the old one, so the new one is the only one that works.
		this.#current = refreshToken;
		try {
			await this.#onRefreshToken?.(refreshToken);
		} catch (error) {
			throw new TokenError('`onRefreshToken` failed to take the rotated refresh token; it is kept in memory', {cause: error});
		}
	}
}

/**
RFC 6749 §6: a refresh token for a new access token. The server may spend the refresh token the moment it answers, so a request whose answer was lost is not sent again: it would replay a spent token, and a server that detects reuse revokes the whole grant.
*/
export const refreshToken = {
	type: 'refresh_token',
	optionNames: optionNames<RefreshTokenOptions>()(['refreshToken', 'onRefreshToken']),
	parameters: {refresh_token: 'refreshToken'},
	prepare(options) {
		if (!isNonEmptyString(options.refreshToken)) {
			throw new ConfigurationError('refreshToken', `is required for the refresh_token grant, got ${describeValue(options.refreshToken)}`);
		}

		const initial = options.refreshToken;
		const onRefreshToken = checkFunction<RefreshTokenOptions['onRefreshToken']>('onRefreshToken', options.onRefreshToken);
		return {
			type: 'refresh_token',
			// The first refresh token names the grant; rotation must not change the key.
			identity: {type: 'refresh_token', refreshToken: fingerprint(initial)},
			isReplaySafe: false,
			// RFC 6749 §6: processes sharing one refresh token would race to redeem it, and a rotated one works once.
			sharingProblem: {option: 'store', problem: 'cannot share a refresh_token grant\'s token: every process would redeem the one refresh token, and a rotated one works once (RFC 6749 §6)'},
			usesPrivateKey: false,
			authenticatesClient: false,
			create() {
				const state = new RefreshTokenState(initial, onRefreshToken);
				return {
					async requestToken(call) {
						const tokenSet = parseTokenObject(await call.post(async () => [['grant_type', 'refresh_token'], ['refresh_token', state.current]]));
						await state.accept(tokenSet);
						return tokenSet;
					},
				};
			},
		};
	},
} as const satisfies GrantDefinition<RefreshTokenOptions>;
