import type {BeforeRequestHook, Got} from 'got';
import {clientAuthenticator, type Authenticate, type TokenEndpointTarget} from './client-authentication.js';
import {createDiscovery, type ResolvedEndpoint} from './discovery.js';
import {parseTokenObject, parseTokenResponse, successfulResponse, type TokenSet} from './token-response.js';
import {commonParameters, createGrant, formParameters, type Parameters} from './grants.js';
import {authorizationServerClient, cappedRequest} from './http.js';
import type {ClientAuthentication, NormalizedConfig, TokenEndpointResponse} from './options.js';

/** Builds one attempt's body and headers; carried in the request's context so got's retries rebuild it. */
type BuildAttempt = () => Promise<{body: string; headers: Record<string, string>}>;

const contextKey = 'gotOAuthTokenRequest';

/**
Runs before every attempt, retries included: a client assertion or a signed grant assertion is single-use (the server records its `jti`), so each attempt gets a new one.
*/
const buildAttempt: BeforeRequestHook = async options => {
	// Every request of this client carries one.
	const build = options.context[contextKey] as BuildAttempt;
	const {body, headers} = await build();
	for (const [name, value] of Object.entries(headers)) {
		options.headers[name] = value;
	}

	options.body = body;
	options.headers['content-length'] = String(Buffer.byteLength(body));
};

/**
The token endpoint as one function: find it (from the configuration or the issuer's metadata), ask for a token with the configured grant and client authentication, and validate the answer.
*/
export function createTokenRequest(config: NormalizedConfig): () => Promise<TokenSet> {
	const client: Got = authorizationServerClient.extend(config.tokenRequest, {method: 'POST', hooks: {beforeRequest: [buildAttempt]}});
	const resolveEndpoint: () => Promise<ResolvedEndpoint> = config.tokenEndpoint === undefined
		? createDiscovery(config)
		: async () => ({tokenEndpoint: config.tokenEndpoint!, issuer: config.issuer, clientAuthentication: config.clientAuthentication!});
	// Per method: a signer keeps its imported key.
	const authenticators = new Map<ClientAuthentication, Authenticate>();
	const authenticatorFor = (method: ClientAuthentication): Authenticate => {
		let authenticate = authenticators.get(method);
		if (authenticate === undefined) {
			authenticate = clientAuthenticator(method, config);
			authenticators.set(method, authenticate);
		}

		return authenticate;
	};

	async function send(endpoint: ResolvedEndpoint, parameters: (target: TokenEndpointTarget) => Promise<Parameters>) {
		const authenticate = authenticatorFor(endpoint.clientAuthentication);
		const build: BuildAttempt = async () => {
			const form = new URLSearchParams(await parameters(endpoint));
			const headers: Record<string, string> = {'content-type': 'application/x-www-form-urlencoded'};
			await authenticate({form, headers}, endpoint);
			return {body: form.toString(), headers};
		};

		return cappedRequest(client, endpoint.tokenEndpoint, {context: {[contextKey]: build}}, 'Token');
	}

	const {grant} = config;
	if (grant.type === 'custom') {
		return async () => {
			const endpoint = await resolveEndpoint();
			const requestToken = async (given: Record<string, string | readonly string[]>): Promise<TokenEndpointResponse> => {
				const own = formParameters(given);
				const common = commonParameters(config, new Set(own.map(([name]) => name)));
				const response = await send(endpoint, async () => [...own, ...common]);
				return successfulResponse(response.statusCode, response.body);
			};

			return parseTokenObject(await grant.request({requestToken}));
		};
	}

	const builtIn = createGrant(config, grant);
	return async () => {
		const endpoint = await resolveEndpoint();
		const response = await send(endpoint, builtIn.parameters);
		const tokenSet = parseTokenResponse(response.statusCode, response.body);
		await builtIn.accept(tokenSet);
		return tokenSet;
	};
}
