import {freshClaims, privateKeySigner} from './assertion.js';
import type {TokenEndpointTarget} from './client-authentication.js';
import {TokenError} from './errors.js';
import {jwtBearerGrant, tokenExchangeGrant, type FormParameters, type NormalizedConfig, type NormalizedGrant, type TokenValue} from './options.js';
import type {TokenSet} from './token-response.js';

export type Parameters = Array<[string, string]>;

/** A built-in grant: its form parameters, and what it keeps from a response. */
export type Grant = {
	/** The grant's form parameters for one attempt: assertions and callback values are fresh each time. */
	parameters(target: TokenEndpointTarget): Promise<Parameters>;
	/** Called with each token set the grant obtained. */
	accept(tokenSet: TokenSet): Promise<void>;
};

async function resolveTokenValue(option: string, value: TokenValue): Promise<string> {
	const resolved = typeof value === 'function' ? await value() : value;
	if (typeof resolved !== 'string' || resolved.length === 0) {
		throw new TokenError(`\`${option}\` returned ${typeof resolved === 'string' ? 'an empty string' : typeof resolved}, not a token`);
	}

	return resolved;
}

/**
`scope`, `audience` and `resource` as configured, sent with every grant, then `extraParams`. Names `given` already holds are left to it.
*/
export function commonParameters(config: Pick<NormalizedConfig, 'scope' | 'audience' | 'resource' | 'extraParams'>, given: ReadonlySet<string> = new Set()): Parameters {
	const parameters: Parameters = [];
	const add = (name: string, value: string | undefined) => {
		if (value !== undefined && !given.has(name)) {
			parameters.push([name, value]);
		}
	};

	add('scope', config.scope);
	add('audience', config.audience);
	for (const resource of config.resource) {
		add('resource', resource);
	}

	return [...parameters, ...config.extraParams];
}

/** A custom grant's own parameters; arrays become repeated parameters. */
export function formParameters(parameters: FormParameters): Parameters {
	if (typeof parameters !== 'object' || parameters === null) {
		throw new TokenError('`requestToken` takes an object of form parameters');
	}

	return Object.entries(parameters).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((item): [string, string] => [name, String(item)]));
}

/**
Rotating refresh tokens (OAuth 2.0 Security BCP §4.14.2): each response may carry a new refresh token, and the old one is then spent. Kept beside the access token, for the life of the token source, and handed to `onRefreshToken` to store.
*/
export class RefreshTokenState {
	#current: string;
	readonly #onRefreshToken: ((refreshToken: string) => void | Promise<void>) | undefined;

	constructor(refreshToken: string, onRefreshToken?: (refreshToken: string) => void | Promise<void>) {
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

const noState = async (): Promise<void> => undefined;

function grantWith(type: string, own: (target: TokenEndpointTarget) => Promise<Parameters>, config: NormalizedConfig): Grant['parameters'] {
	const common = commonParameters(config);
	return async target => [['grant_type', type], ...await own(target), ...common];
}

export function createGrant(config: NormalizedConfig, grant: Exclude<NormalizedGrant, {type: 'custom'}>): Grant {
	switch (grant.type) {
		case 'refresh_token': {
			const state = new RefreshTokenState(grant.refreshToken, grant.onRefreshToken);
			return {
				// RFC 6749 §6.
				parameters: grantWith(grant.type, async () => [['refresh_token', state.current]], config),
				accept: async tokenSet => state.accept(tokenSet),
			};
		}

		case jwtBearerGrant: {
			const {assertion, assertionClaims} = grant;
			const sign = assertion === undefined ? privateKeySigner(config.privateKey!) : undefined;
			return {
				// RFC 7523 §2.1; claims per §3: the client speaks for itself unless `assertionClaims` names another subject.
				parameters: grantWith(grant.type, async ({tokenEndpoint}) => [['assertion', sign === undefined
					? await resolveTokenValue('assertion', assertion!)
					: await sign({iss: config.clientId, sub: config.clientId, aud: tokenEndpoint.href, ...assertionClaims, ...freshClaims()})]], config),
				accept: noState,
			};
		}

		case tokenExchangeGrant: {
			return {
				// RFC 8693 §2.1.
				parameters: grantWith(grant.type, async () => {
					const actor: Parameters = grant.actorToken === undefined
						? []
						: [['actor_token', await resolveTokenValue('actorToken', grant.actorToken)], ['actor_token_type', grant.actorTokenType!]];
					const requested: Parameters = grant.requestedTokenType === undefined ? [] : [['requested_token_type', grant.requestedTokenType]];
					return [
						['subject_token', await resolveTokenValue('subjectToken', grant.subjectToken)],
						['subject_token_type', grant.subjectTokenType],
						...actor,
						...requested,
					];
				}, config),
				accept: noState,
			};
		}

		case 'client_credentials': {
			return {parameters: grantWith(grant.type, async () => [], config), accept: noState};
		}
	}
}
