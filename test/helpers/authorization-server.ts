/*
panva's oidc-provider on loopback, set up for every client authentication method and grant got-oauth supports: a client per method, the JWT bearer, token exchange and password grants registered through the provider's own `registerGrantType`, a mutual TLS alias over HTTPS with a CA made at test time, and a record of every token request the provider handled.
*/
import {X509Certificate, generateKeyPairSync, randomBytes, type KeyObject} from 'node:crypto';
import {createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse} from 'node:http';
import {createServer as createHttpsServer, type Server as HttpsServer} from 'node:https';
import type {TLSSocket} from 'node:tls';
import {createLocalJWKSet, exportJWK, jwtVerify, type JWK} from 'jose';
import Provider, {errors, type ClientAuthMethod, type ClientMetadata, type KoaContextWithOIDC, type SigningAlgorithm} from 'oidc-provider';
import type {ExecutionContext} from 'ava';
import got from 'got';
import {close, listen, mapAdapter, startResourceServer, type ResourceServer} from '../../fixtures/servers.js';
import {oauthHooks, type OAuthConfig} from '../../source/index.js';
import {clientSubject, testPki, type TestPki} from './certificates.js';

export const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
export const apiResource = 'urn:got-oauth:test-api';
export const otherApiResource = 'urn:got-oauth:other-api';

/** Secrets are VSCHAR only, as oidc-provider requires; the HS256 one is long enough for its key-length check. */
export const secrets = {
	basic: 'b4sic secret:with%2B+plus',
	post: 'p0st secret:with%2B+plus',
	jwt: 'client_secret_jwt secret, at least 32 bytes: %2B+plus',
	gateway: 'gateway secret',
	legacy: 'legacy secret',
} as const;

/** The JWT bearer grant's trusted issuer: a service account whose public key the server knows, like a Google service account. */
export const serviceAccount = 'reports-bot@got-oauth.test';

/** The password grant's only user. */
export const passwordUser = {username: 'alice', password: 'wonderland'} as const;

type Keys = {
	/** 2048-bit RSA, for RS256 and PS256. */
	readonly rsa: KeyObject;
	/** P-256, for ES256. */
	readonly ec: KeyObject;
	readonly ed25519: KeyObject;
	/** P-256: the service account's key for the JWT bearer grant. */
	readonly serviceAccount: KeyObject;
};

let keys: Keys | undefined;

/** Generated once per test process: RSA key generation takes a while. */
export function testKeys(): Keys {
	keys ??= {
		rsa: generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey,
		ec: generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey,
		ed25519: generateKeyPairSync('ed25519').privateKey,
		serviceAccount: generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey,
	};
	return keys;
}

export type RecordedTokenRequest = {
	/** `mtls`: through the HTTPS mutual TLS alias. */
	readonly via: 'http' | 'mtls';
	/** The form as the provider parsed it. */
	readonly form: Readonly<Record<string, string | string[]>>;
	readonly headers: IncomingHttpHeaders;
	/** What the provider answered, before any failure `failNextTokenResponses` put in its place. */
	readonly status: number;
	readonly error: string | undefined;
	readonly errorDescription: string | undefined;
	/** Why, as the provider logs it but does not say. */
	readonly errorDetail: string | undefined;
};

export type TestServerOptions = {
	/** Serve the provider under this path, so the issuer has a path (`/tenant-a`). */
	issuerPath?: string;
	/** With `issuerPath`: also answer RFC 8414's path-inserted metadata URL. oidc-provider itself only answers below its own path. Default: true. */
	pathInsertedMetadata?: boolean;
	/** Start the HTTPS mutual TLS alias of the token endpoint and its two clients. */
	mtls?: boolean;
	/** Seconds. Default: 60. */
	accessTokenTtl?: number;
	/** DPoP (RFC 9449 §8): every token request must carry a nonce from this server. */
	requireDpopNonce?: boolean;
};

export type TestAuthorizationServer = {
	readonly issuer: string;
	readonly tokenEndpoint: string;
	/** The HTTPS alias with mutual TLS (RFC 8705 §5), with `mtls`. */
	readonly mtlsTokenEndpoint: string | undefined;
	readonly pki: TestPki | undefined;
	readonly keys: Keys;
	/** Every token request the provider handled, in order. */
	readonly tokenRequests: RecordedTokenRequest[];
	/** Paths of every metadata request that reached the server, answered or not. */
	readonly metadataRequests: string[];
	/** The provider handles the next `count` token requests (and so spends their assertions and refresh tokens), but the client gets a 503 instead. */
	failNextTokenResponses(count: number): void;
	/** The provider handles the next `count` token requests, but the connection is closed before the client hears the answer. */
	dropNextTokenResponses(count: number): void;
	/** The bodies of the answers `dropNextTokenResponses` kept from the client, in order. */
	readonly droppedTokenResponses: Array<Record<string, unknown>>;
	/** A refresh token for `accountId`, as an authorization code flow would have left the public client `app`; with `jkt`, bound to that DPoP key (RFC 9449 §5). */
	issueRefreshToken(accountId: string, options?: {jkt?: string}): Promise<string>;
	close(): Promise<void>;
};

const resourceInfo = (audience: string, accessTokenTtl: number) => ({
	scope: 'api:read',
	audience,
	accessTokenTTL: accessTokenTtl,
	accessTokenFormat: 'jwt' as const,
	jwt: {sign: {alg: 'ES256' as const}},
});

async function publicJwk(key: KeyObject, extra: Partial<JWK>): Promise<JWK> {
	const {d, p, q, dp, dq, qi, ...publicPart} = await exportJWK(key);
	return {...publicPart, ...extra};
}

function peerCertificate(context: KoaContextWithOIDC): X509Certificate | undefined {
	const socket = context.req.socket as Partial<TLSSocket>;
	const certificate = socket.getPeerCertificate?.();
	return certificate?.raw === undefined ? undefined : new X509Certificate(certificate.raw);
}

export async function startTestAuthorizationServer(options: TestServerOptions = {}): Promise<TestAuthorizationServer> {
	const accessTokenTtl = options.accessTokenTtl ?? 60;
	const issuerPath = options.issuerPath ?? '';
	const resources = new Set([apiResource, otherApiResource]);
	const testKeyPairs = testKeys();
	const pki = options.mtls ? testPki() : undefined;

	const server = createServer();
	const port = await listen(server);
	const issuer = `http://127.0.0.1:${port}${issuerPath}`;
	const tokenEndpoint = `${issuer}/token`;

	let mtlsServer: HttpsServer | undefined;
	let mtlsTokenEndpoint: string | undefined;
	if (pki !== undefined) {
		mtlsServer = createHttpsServer({
			key: pki.server.key,
			cert: pki.server.certificate,
			ca: pki.ca,
			// The provider decides: self-signed certificates are allowed for self_signed_tls_client_auth.
			requestCert: true,
			rejectUnauthorized: false,
		});
		mtlsTokenEndpoint = `https://127.0.0.1:${await listen(mtlsServer)}${issuerPath}/token`;
	}

	const client = (metadata: ClientMetadata): ClientMetadata => ({
		grant_types: ['client_credentials'],
		response_types: [],
		redirect_uris: [],
		scope: 'api:read',
		...metadata,
	});
	const privateKeyJwtClient = async (clientId: string, key: KeyObject, alg: SigningAlgorithm, kid: string) => client({
		client_id: clientId,
		token_endpoint_auth_method: 'private_key_jwt',
		// Pinned, so a token proves the algorithm as well as the key.
		token_endpoint_auth_signing_alg: alg,
		jwks: {keys: [await publicJwk(key, {kid})]},
	});

	const selfSigned = pki === undefined ? undefined : new X509Certificate(pki.selfSigned.certificate);
	const mtlsClients: ClientMetadata[] = selfSigned === undefined
		? []
		: [
			client({
				client_id: 'mtls',
				token_endpoint_auth_method: 'tls_client_auth',
				tls_client_auth_subject_dn: clientSubject,
				tls_client_certificate_bound_access_tokens: true,
			}),
			client({
				client_id: 'self-signed',
				token_endpoint_auth_method: 'self_signed_tls_client_auth',
				// oidc-provider matches the certificate by the x5t#S256 of x5c[0].
				jwks: {keys: [await publicJwk(selfSigned.publicKey, {x5c: [selfSigned.raw.toString('base64')]})]},
			}),
		];
	const clients: ClientMetadata[] = [
		client({client_id: 'basic', client_secret: secrets.basic, token_endpoint_auth_method: 'client_secret_basic'}),
		client({client_id: 'post', client_secret: secrets.post, token_endpoint_auth_method: 'client_secret_post'}),
		client({client_id: 'secret-jwt', client_secret: secrets.jwt, token_endpoint_auth_method: 'client_secret_jwt'}),
		await privateKeyJwtClient('rs256', testKeyPairs.rsa, 'RS256', 'rsa-1'),
		await privateKeyJwtClient('ps256', testKeyPairs.rsa, 'PS256', 'rsa-1'),
		await privateKeyJwtClient('es256', testKeyPairs.ec, 'ES256', 'ec-1'),
		await privateKeyJwtClient('eddsa', testKeyPairs.ed25519, 'EdDSA', 'ed-1'),
		// A public client: a CLI or a device, holding a user's refresh token.
		client({client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['client_credentials', 'refresh_token']}),
		client({client_id: 'reports-bot', token_endpoint_auth_method: 'none', grant_types: [jwtBearer]}),
		client({client_id: 'gateway', client_secret: secrets.gateway, token_endpoint_auth_method: 'client_secret_basic', grant_types: [tokenExchange]}),
		client({client_id: 'legacy', client_secret: secrets.legacy, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['password']}),
		...mtlsClients,
	];

	const serverKey = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey;
	const providerJwks = {keys: [{...await exportJWK(serverKey), alg: 'ES256', use: 'sig', kid: 'server-es256'}]};
	const verifyOwnTokens = createLocalJWKSet({keys: [await publicJwk(serverKey, {alg: 'ES256', kid: 'server-es256'})]});
	const serviceAccountKeys = createLocalJWKSet({keys: [await publicJwk(testKeyPairs.serviceAccount, {alg: 'ES256'})]});

	const provider = new Provider(issuer, {
		adapter: mapAdapter(),
		clients,
		clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none', ...(pki === undefined ? [] : ['tls_client_auth', 'self_signed_tls_client_auth'] satisfies ClientAuthMethod[])],
		scopes: ['api:read', 'openid', 'offline_access'],
		jwks: providerJwks,
		clientDefaults: {id_token_signed_response_alg: 'ES256'},
		// Every algorithm got-oauth signs DPoP proofs with; the default is ES256, Ed25519 and EdDSA.
		enabledJWA: {dPoPSigningAlgValues: ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']},
		discovery: mtlsTokenEndpoint === undefined ? {} : {mtls_endpoint_aliases: {token_endpoint: mtlsTokenEndpoint}},
		// Every refresh rotates, so a client that reuses a spent refresh token is caught: the provider then revokes the whole grant.
		rotateRefreshToken: true,
		async findAccount(_context, sub) {
			return {accountId: sub, claims: async () => ({sub})};
		},
		features: {
			clientCredentials: {enabled: true},
			devInteractions: {enabled: false},
			dPoP: {enabled: true, ...(options.requireDpopNonce === true && {nonceSecret: randomBytes(32), requireNonce: () => true})},
			resourceIndicators: {
				enabled: true,
				defaultResource: () => apiResource,
				// A refresh token's access tokens are for the API it was granted for, JWTs the API can verify.
				useGrantedResource: () => true,
				getResourceServerInfo(_context, resourceIndicator) {
					if (!resources.has(resourceIndicator)) {
						throw new errors.InvalidTarget();
					}

					return resourceInfo(resourceIndicator, accessTokenTtl);
				},
			},
			mTLS: {
				enabled: pki !== undefined,
				tlsClientAuth: true,
				selfSignedTlsClientAuth: true,
				certificateBoundAccessTokens: true,
				getCertificate: peerCertificate,
				// Node checked the chain against the CA given to the HTTPS server.
				certificateAuthorized: context => (context.req.socket as TLSSocket).authorized,
				certificateSubjectMatches: (context, property, expected) => property === 'tls_client_auth_subject_dn' && peerCertificate(context)?.subject === expected,
			},
		},
		ttl: {
			ClientCredentials: accessTokenTtl,
			AccessToken: accessTokenTtl,
			RefreshToken: 3600,
			Grant: 3600,
			IdToken: 3600,
		},
		cookies: {keys: ['got-oauth tests only']},
	});

	/** Issue a JWT access token for `accountId` to the authenticated client, for the API `resource`. */
	async function mint(context: KoaContextWithOIDC, accountId: string, resource: string, extra: Record<string, unknown> = {}): Promise<void> {
		if (!resources.has(resource)) {
			throw new errors.InvalidTarget();
		}

		const owner = context.oidc.client!;
		const grant = new provider.Grant({accountId, clientId: owner.clientId});
		grant.addResourceScope(resource, 'api:read');
		const token = new provider.AccessToken({accountId, client: owner, grantId: await grant.save(), scope: 'api:read', gty: String(context.oidc.params!.grant_type)});
		token.resourceServer = new provider.ResourceServer(resource, resourceInfo(resource, accessTokenTtl));
		const value = await token.save();
		context.body = {access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope, ...extra};
	}

	const requested = (context: KoaContextWithOIDC, name: string): string | undefined => {
		const value = context.oidc.params?.[name];
		return typeof value === 'string' ? value : undefined;
	};

	// RFC 7523 §2.1 and §3, as a server that trusts one service account would check them.
	provider.registerGrantType(jwtBearer, async context => {
		const assertion = requested(context, 'assertion');
		if (assertion === undefined) {
			throw new errors.InvalidRequest('missing assertion');
		}

		let claims;
		try {
			({payload: claims} = await jwtVerify(assertion, serviceAccountKeys, {issuer: serviceAccount, audience: [tokenEndpoint, issuer], requiredClaims: ['sub', 'exp', 'jti']}));
		} catch (error) {
			throw new errors.InvalidGrant(`assertion rejected: ${(error as Error).message}`);
		}

		if (!await provider.ReplayDetection.unique(claims.iss!, claims.jti!, claims.exp!)) {
			throw new errors.InvalidGrant('assertion replayed');
		}

		await mint(context, claims.sub!, requested(context, 'resource') ?? apiResource);
	}, ['assertion', 'scope', 'resource'], ['resource']);

	// RFC 8693 §2: exchange a user's access token from this server for one to another API, on the user's behalf.
	provider.registerGrantType(tokenExchange, async context => {
		const subjectToken = requested(context, 'subject_token');
		if (subjectToken === undefined || requested(context, 'subject_token_type') !== accessTokenType) {
			throw new errors.InvalidRequest('subject_token of type access_token required');
		}

		let subject;
		try {
			({payload: subject} = await jwtVerify(subjectToken, verifyOwnTokens, {issuer, typ: 'at+jwt'}));
		} catch (error) {
			throw new errors.InvalidGrant(`subject_token rejected: ${(error as Error).message}`);
		}

		await mint(context, subject.sub!, requested(context, 'resource') ?? requested(context, 'audience') ?? apiResource, {issued_token_type: accessTokenType});
	}, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'], ['resource', 'audience']);

	// The resource owner password grant, which OAuth 2.1 drops but old servers keep: a grant got-oauth has no name for.
	provider.registerGrantType('password', async context => {
		if (requested(context, 'username') !== passwordUser.username || requested(context, 'password') !== passwordUser.password) {
			throw new errors.InvalidGrant('wrong username or password');
		}

		await mint(context, passwordUser.username, apiResource);
	}, ['username', 'password', 'scope']);

	const tokenRequests: RecordedTokenRequest[] = [];
	const metadataRequests: string[] = [];
	const viaMtls = new WeakSet<IncomingMessage>();
	// oidc-provider answers invalid_grant with a generic description; the reason is only in the error it emits.
	const errorDetails = new WeakMap<IncomingMessage, string>();
	provider.on('grant.error', (context: KoaContextWithOIDC, error: {error_detail?: string}) => {
		if (error.error_detail !== undefined) {
			errorDetails.set(context.req, error.error_detail);
		}
	});
	let failuresPending = 0;
	let dropsPending = 0;
	const droppedTokenResponses: Array<Record<string, unknown>> = [];

	provider.use(async (context, next) => {
		await next();
		if (context.method !== 'POST' || context.path !== '/token') {
			return;
		}

		const body = (context.body ?? {}) as Record<string, unknown> & {error?: string; error_description?: string};
		tokenRequests.push({
			via: viaMtls.has(context.req) ? 'mtls' : 'http',
			form: {...(context.oidc as {body?: Record<string, string | string[]>} | undefined)?.body},
			headers: context.req.headers,
			status: context.status,
			error: body.error,
			errorDescription: body.error_description,
			errorDetail: errorDetails.get(context.req),
		});
		if (dropsPending > 0) {
			dropsPending--;
			droppedTokenResponses.push(body);
			// As a crash or a lost network would: the server has done the work, the client hears nothing.
			context.respond = false;
			context.req.socket.destroy();
			return;
		}

		if (failuresPending === 0) {
			return;
		}

		failuresPending--;
		context.status = 503;
		context.body = {error: 'temporarily_unavailable'};
	});

	const callback = provider.callback();
	const pathInserted = `/.well-known/oauth-authorization-server${issuerPath}`;
	const handle = (request: IncomingMessage, response: ServerResponse): void => {
		const path = request.url?.split('?', 1)[0] ?? '';
		if (path.startsWith('/.well-known/') || path.startsWith(`${issuerPath}/.well-known/`)) {
			metadataRequests.push(path);
		}

		if (issuerPath !== '') {
			// Mounted under the issuer's path, as express would mount it: oidc-provider builds its URLs from `baseUrl`.
			(request as IncomingMessage & {baseUrl?: string}).baseUrl = issuerPath;
			if (path === pathInserted && options.pathInsertedMetadata !== false) {
				request.url = '/.well-known/oauth-authorization-server';
			} else if (path.startsWith(`${issuerPath}/`)) {
				request.url = request.url!.slice(issuerPath.length);
			} else {
				response.writeHead(404).end();
				return;
			}
		}

		callback(request, response);
	};

	server.on('request', handle);
	mtlsServer?.on('request', (request: IncomingMessage, response: ServerResponse) => {
		viaMtls.add(request);
		handle(request, response);
	});

	return {
		issuer,
		tokenEndpoint,
		mtlsTokenEndpoint,
		pki,
		keys: testKeyPairs,
		tokenRequests,
		metadataRequests,
		failNextTokenResponses(count) {
			failuresPending = count;
		},
		dropNextTokenResponses(count) {
			dropsPending = count;
		},
		droppedTokenResponses,
		async issueRefreshToken(accountId, {jkt} = {}) {
			const app = (await provider.Client.find('app'))!;
			const grant = new provider.Grant({accountId, clientId: app.clientId});
			grant.addOIDCScope('openid offline_access');
			grant.addResourceScope(apiResource, 'api:read');
			const grantId = await grant.save();
			const refreshToken = new provider.RefreshToken({
				accountId,
				client: app,
				grantId,
				gty: 'authorization_code',
				scope: 'openid offline_access api:read',
				resource: apiResource,
				...(jkt !== undefined && {jkt}),
			});
			return refreshToken.save();
		},
		async close() {
			await Promise.all([close(server), mtlsServer === undefined ? undefined : close(mtlsServer)]);
		},
	};
}

export type ApiBody = {ok: boolean; sub: string; clientId: string};

/** The test authorization server and an API that trusts it, both closed when the test ends. */
export async function startWithApi(t: ExecutionContext, options?: TestServerOptions, audience = apiResource): Promise<{server: TestAuthorizationServer; api: ResourceServer}> {
	const server = await startTestAuthorizationServer(options);
	t.teardown(async () => server.close());
	const api = await startResourceServer({issuer: server.issuer, audience});
	t.teardown(async () => api.close());
	return {server, api};
}

/** One API call through the hooks, as a user makes it. */
export async function callApi(api: ResourceServer, config: OAuthConfig): Promise<ApiBody> {
	return got.extend({prefixUrl: api.url}, oauthHooks(config)).get('reports').json<ApiBody>();
}
