/*
Loopback servers for the demo and the integration tests: a real OAuth 2.0 authorization server (panva's oidc-provider) issuing short-lived JWT access tokens, and a small API that verifies them.
*/
import {once} from 'node:events';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify} from 'jose';
import Provider, {errors, type Adapter, type AdapterPayload, type ClientMetadata, type JWKS} from 'oidc-provider';

export type ClientCredentials = {
	readonly clientId: string;
	readonly clientSecret: string;
	readonly clientAuthentication: 'client_secret_basic' | 'client_secret_post';
};

/*
RFC 6749 §2.3.1 has client id and secret form-urlencoded before Basic's base64. These secrets break any client that skips it: the server would read `+` as a space and `%2B` as `+`, and a `:` in the id would split the pair in the wrong place.
Non-ASCII is not here: oidc-provider only accepts client ids and secrets made of VSCHAR (%x20-7E, RFC 6749 Appendix A).
*/
export const clients = {
	basic: {
		clientId: 'reports:basic',
		clientSecret: 'b4s!c secret:with%2B+plus & more/=?~',
		clientAuthentication: 'client_secret_basic',
	},
	post: {
		clientId: 'reports:post',
		clientSecret: 'p0st secret:with%2B+plus & more/=?~',
		clientAuthentication: 'client_secret_post',
	},
} as const satisfies Record<string, ClientCredentials>;

export const defaultApiResource = 'urn:got-oauth:demo-api';

export type AuthorizationServerOptions = {
	/**
	Lifetime in seconds of the JWT access tokens.
	@default 2
	*/
	accessTokenTtl?: number;
	/**
	Resource indicators (RFC 8707) this server issues tokens for; any other gets `invalid_target`. The first is the default resource.
	@default [defaultApiResource]
	*/
	resources?: readonly string[];
};

export type AuthorizationServer = {
	readonly issuer: string;
	readonly tokenEndpoint: string;
	/** The resource a token request without `resource` gets a token for: the audience the API should expect. */
	readonly defaultResource: string;
	readonly clients: typeof clients;
	/** POST requests that reached the token endpoint, failed ones included. */
	readonly tokenRequests: number;
	/** Token requests that got a token. */
	readonly tokensIssued: number;
	close(): Promise<void>;
};

/*
oidc-provider's own in-memory adapter warns on every start and is shared by every provider in the process. The client credentials grant with JWT access tokens stores next to nothing, so a Map per provider is enough.
*/
export function mapAdapter(): (name: string) => Adapter {
	const store = new Map<string, AdapterPayload>();
	return name => {
		const key = (id: string) => `${name}:${id}`;
		const findBy = async (field: 'userCode' | 'uid', value: string) => {
			for (const payload of store.values()) {
				if (payload[field] === value) {
					return payload;
				}
			}

			return undefined;
		};

		return {
			async upsert(id, payload) {
				store.set(key(id), payload);
			},
			find: async id => store.get(key(id)),
			findByUserCode: async userCode => findBy('userCode', userCode),
			findByUid: async uid => findBy('uid', uid),
			async consume(id) {
				const payload = store.get(key(id));
				if (payload) {
					payload.consumed = Math.floor(Date.now() / 1000);
				}
			},
			async destroy(id) {
				store.delete(key(id));
			},
			async revokeByGrantId(grantId) {
				for (const [id, payload] of store) {
					if (payload.grantId === grantId) {
						store.delete(id);
					}
				}
			},
		};
	};
}

export async function listen(server: Server): Promise<number> {
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
	// got keeps connections alive; close() alone would wait for them.
	const closed = new Promise<void>((resolve, reject) => {
		server.close(error => {
			if (error) {
				reject(error);
			} else {
				resolve();
			}
		});
	});
	server.closeAllConnections();
	await closed;
}

/**
Start oidc-provider on 127.0.0.1 with the client credentials grant, two clients (`clients.basic`, `clients.post`) and JWT access tokens for the configured resources.
*/
export async function startAuthorizationServer(options: AuthorizationServerOptions = {}): Promise<AuthorizationServer> {
	const accessTokenTtl = options.accessTokenTtl ?? 2;
	const resources = new Set(options.resources ?? [defaultApiResource]);
	const [defaultResource] = resources;
	if (defaultResource === undefined) {
		throw new TypeError('startAuthorizationServer: `resources` must name at least one resource');
	}

	const {privateKey} = await generateKeyPair('ES256', {extractable: true});
	const jwks: JWKS = {keys: [{...await exportJWK(privateKey), alg: 'ES256', use: 'sig', kid: 'demo-es256'}]};

	const metadata = (credentials: ClientCredentials): ClientMetadata => ({
		client_id: credentials.clientId,
		client_secret: credentials.clientSecret,
		token_endpoint_auth_method: credentials.clientAuthentication,
		grant_types: ['client_credentials'],
		response_types: [],
		redirect_uris: [],
		scope: 'api:read',
	});

	let tokenRequests = 0;
	let tokensIssued = 0;
	// The issuer names the port, so the server must listen before the provider exists.
	const server = createServer();
	const port = await listen(server);
	const issuer = `http://127.0.0.1:${port}`;

	const provider = new Provider(issuer, {
		adapter: mapAdapter(),
		clients: [metadata(clients.basic), metadata(clients.post)],
		scopes: ['api:read'],
		jwks,
		// With only an EC key, the RS256 default for ID tokens makes every token request fail with invalid_client_metadata.
		clientDefaults: {id_token_signed_response_alg: 'ES256'},
		features: {
			clientCredentials: {enabled: true},
			devInteractions: {enabled: false},
			resourceIndicators: {
				enabled: true,
				// Without a resource the token would be opaque, which the API cannot verify on its own.
				defaultResource: () => defaultResource,
				getResourceServerInfo(_context, resourceIndicator) {
					if (!resources.has(resourceIndicator)) {
						throw new errors.InvalidTarget();
					}

					return {
						scope: 'api:read',
						audience: resourceIndicator,
						accessTokenTTL: accessTokenTtl,
						accessTokenFormat: 'jwt',
						jwt: {sign: {alg: 'ES256'}},
					};
				},
			},
		},
		ttl: {ClientCredentials: accessTokenTtl},
		// Silences the warning about generated cookie keys; no cookie is ever set in the client credentials flow.
		cookies: {keys: ['got-oauth demo only']},
	});
	provider.on('grant.success', () => {
		tokensIssued++;
	});
	const callback = provider.callback();
	server.on('request', (request: IncomingMessage, response: ServerResponse) => {
		if (request.method === 'POST' && request.url?.split('?', 1)[0] === '/token') {
			tokenRequests++;
		}

		callback(request, response);
	});

	return {
		issuer,
		tokenEndpoint: `${issuer}/token`,
		defaultResource,
		clients,
		get tokenRequests() {
			return tokenRequests;
		},
		get tokensIssued() {
			return tokensIssued;
		},
		close: async () => close(server),
	};
}

export type ResourceServerOptions = {
	issuer: string;
	/** The `aud` the API accepts: the resource indicator its tokens are issued for. */
	audience: string;
};

/** Why the API answered 401: `missing`, `revoked`, or the code of jose's verification error (`ERR_JWT_EXPIRED`, …). */
export type Rejection = string;

export type ResourceServer = {
	/** Origin of the API, e.g. `http://127.0.0.1:12345`. */
	readonly url: string;
	/** Requests received, whatever their outcome. */
	readonly calls: number;
	/** Requests answered with 401. */
	readonly unauthorized: number;
	/** Why each 401 was sent, in order. */
	readonly rejections: readonly Rejection[];
	/** Reject this exact token from now on, as if the authorization server had revoked it early. */
	revoke(accessToken: string): void;
	/** Reject every token accepted so far, as if the client's tokens had all been revoked (a rotated secret, say). */
	revokeAll(): void;
	close(): Promise<void>;
};

/**
Start an API on 127.0.0.1 that accepts only valid JWT access tokens from `issuer` for `audience` (RFC 9068), answering 200 with `{ok, sub, clientId, path}` or 401 with an RFC 6750 challenge.
*/
export async function startResourceServer(options: ResourceServerOptions): Promise<ResourceServer> {
	const {issuer, audience} = options;
	const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
	const revoked = new Set<string>();
	const accepted = new Set<string>();
	const rejections: Rejection[] = [];
	let calls = 0;

	const reject = (response: ServerResponse, reason: Rejection): void => {
		rejections.push(reason);
		// RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
		const challenge = reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
		response.writeHead(401, {'www-authenticate': challenge, 'content-type': 'application/json'});
		response.end(JSON.stringify({ok: false}));
	};

	async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const match = /^bearer (?<token>\S+)$/iv.exec(request.headers.authorization ?? '');
		const token = match?.groups?.token;
		if (token === undefined) {
			reject(response, 'missing');
			return;
		}

		if (revoked.has(token)) {
			reject(response, 'revoked');
			return;
		}

		let claims;
		try {
			({payload: claims} = await jwtVerify(token, jwks, {issuer, audience, typ: 'at+jwt'}));
		} catch (error) {
			reject(response, (error as {code?: string}).code ?? 'invalid');
			return;
		}

		accepted.add(token);
		response.writeHead(200, {'content-type': 'application/json'});
		response.end(JSON.stringify({ok: true, sub: claims.sub, clientId: claims.client_id, path: request.url}));
	}

	const server = createServer((request, response) => {
		calls++;
		// Requests have no body worth reading, but it must be drained for keep-alive.
		request.resume();
		handle(request, response).catch((error: unknown) => {
			response.writeHead(500);
			response.end();
			console.error('resource server:', error);
		});
	});
	const port = await listen(server);

	return {
		url: `http://127.0.0.1:${port}`,
		get calls() {
			return calls;
		},
		get unauthorized() {
			return rejections.length;
		},
		rejections,
		revoke(accessToken) {
			revoked.add(accessToken);
		},
		revokeAll() {
			for (const token of accepted) {
				revoked.add(token);
			}
		},
		close: async () => close(server),
	};
}
