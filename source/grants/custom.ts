import {isPlainObject} from '../checks.js';
import {fingerprint, processLocalProblem} from '../configuration/fingerprint.js';
import {TokenError} from '../errors.js';
import {parseTokenObject} from '../token-endpoint/token-response.js';
import type {FormEntries, FormParameters} from '../token-endpoint/fetch-token.js';
import type {PreparedGrant} from './grant.js';

/**
A token endpoint response as JSON (RFC 6749 §5.1).
*/
export type TokenEndpointResponse = Record<string, unknown>;

export type CustomGrantContext = {
	/**
	POST `parameters` to the token endpoint with the configured client authentication, and each configured `scope`, `audience`, `resource` and `extraParams` whose name `parameters` does not have. Resolves with the JSON response; an RFC 6749 §5.2 error response rejects with a `TokenError`.
	*/
	requestToken(parameters: FormParameters): Promise<TokenEndpointResponse>;
};

/**
Gets a token by any other grant; what it returns is validated like any token response.
*/
export type CustomGrant = (context: CustomGrantContext) => TokenEndpointResponse | Promise<TokenEndpointResponse>;

/**
A custom grant's own parameters; arrays become repeated parameters.
*/
function formEntries(parameters: unknown): FormEntries {
	if (!isPlainObject(parameters)) {
		throw new TokenError('`requestToken` takes an object of form parameters');
	}

	return Object.entries(parameters).flatMap(([name, value]) => [value].flat().map((item): [string, string] => [name, String(item)]));
}

/**
A grant got-oauth has no name for, as a function.
*/
export function prepareCustomGrant(grant: CustomGrant): PreparedGrant {
	return {
		type: 'custom',
		identity: {type: 'custom', request: fingerprint(grant)},
		// Grants with single-use credentials are built in; what a function sends is presumed safe to send again.
		isReplaySafe: true,
		sharingProblem: processLocalProblem('grant', grant),
		usesPrivateKey: false,
		authenticatesClient: false,
		create: () => ({
			async requestToken(call) {
				const response = await grant({
					async requestToken(parameters) {
						const entries = formEntries(parameters);
						const {json} = await call.post(async () => entries);
						return json;
					},
				});
				return parseTokenObject({statusCode: undefined, json: response});
			},
		}),
	};
}
