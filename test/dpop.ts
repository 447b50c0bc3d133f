/*
DPoP (RFC 9449) against plain loopback servers that answer what each test needs: the option's checks, the token type a DPoP request must get, a proof per attempt, nonces and their one retry, the API's DPoP challenges, and what errors show.
*/
import {createHash, generateKeyPairSync} from 'node:crypto';
import {subscribe, unsubscribe} from 'node:diagnostics_channel';
import {inspect} from 'node:util';
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError} from 'got';
import {EmbeddedJWK, calculateJwkThumbprint, decodeJwt, exportJWK, jwtVerify, type JWTPayload, type JWK} from 'jose';
import {ConfigurationError, TokenError, channelNames, createTokenSource, oauthHooks, type OAuthConfig} from '../source/index.js';
import {tokenCacheKey} from '../source/configuration/cache-key.js';
import {normalizeConfig} from '../source/configuration/normalize.js';
import {parseDpopChallenge} from '../source/dpop/challenge.js';
import {NonceCache} from '../source/dpop/nonces.js';
import {startApiServer, startTokenEndpoint, type Answer, type LocalServer, type RecordedRequest} from './helpers/local-servers.js';

const clientId = 'dpop-client';
const clientSecret = 'dpop-secret-3c1e7a';

type Verified = {claims: JWTPayload; alg: string; jwk: JWK; typ: string | undefined};

/** A proof as a server checks it: signed by the key in its own header. */
async function verifyProof(proof: string | undefined): Promise<Verified> {
	const {payload, protectedHeader} = await jwtVerify(proof ?? '', EmbeddedJWK, {typ: 'dpop+jwt'});
	return {claims: payload, alg: protectedHeader.alg, jwk: protectedHeader.jwk!, typ: protectedHeader.typ};
}

const dpopOf = (request: RecordedRequest): string | undefined => request.headers.dpop as string | undefined;

async function thumbprintOf(request: RecordedRequest): Promise<string> {
	const {jwk} = await verifyProof(dpopOf(request));
	return calculateJwkThumbprint(jwk);
}

const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** A token answer of the given type. */
const issued = (accessToken: string, tokenType = 'DPoP'): Answer => ({body: {access_token: accessToken, token_type: tokenType, expires_in: 3600}});

type Servers = {token: LocalServer; api: LocalServer; config: OAuthConfig};

/** A token endpoint that issues DPoP tokens `dpop-token-1`, `-2`, …, and an API that answers 200, each with a handler of the test's. */
async function servers(t: ExecutionContext, dpop: OAuthConfig['dpop'] = true): Promise<Servers> {
	const [token, api] = await Promise.all([startTokenEndpoint(), startApiServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	token.handle((_request, index) => issued(`dpop-token-${index + 1}`));
	return {token, api, config: {tokenEndpoint: token.url('/token'), clientId, clientSecret, dpop, tokenRequest: {retry: {limit: 2, backoffLimit: 1}}}};
}

const challenge = (error: string, extra: Record<string, string> = {}): Answer => ({status: 401, headers: {'www-authenticate': `DPoP error="${error}", algs="ES256"`, ...extra}});

test('dpop: true: the token request carries a proof, the API request the token as DPoP with a proof of its own', async t => {
	const {token, api, config} = await servers(t);

	await got(api.url('/reports?page=2#top'), oauthHooks(config));

	const tokenProof = await verifyProof(dpopOf(token.requests[0]!));
	t.is(tokenProof.typ, 'dpop+jwt');
	t.is(tokenProof.alg, 'ES256');
	t.like(tokenProof.claims, {htm: 'POST', htu: token.url('/token')});
	t.is(tokenProof.claims.ath, undefined);
	t.false('d' in tokenProof.jwk);
	const [request] = api.requests;
	t.is(request!.headers.authorization, 'DPoP dpop-token-1');
	const apiProof = await verifyProof(dpopOf(request!));
	// RFC 9449 §4.2: no query, no fragment.
	t.like(apiProof.claims, {htm: 'GET', htu: api.url('/reports'), ath: ath('dpop-token-1')});
	t.deepEqual(apiProof.jwk, tokenProof.jwk);
	t.not(apiProof.claims.jti, tokenProof.claims.jti);
	t.true(Math.abs(apiProof.claims.iat! - (Date.now() / 1000)) < 5);
});

test('every token request attempt gets a proof of its own, for the endpoint without its query', async t => {
	const {token, config} = await servers(t);
	token.handle((_request, index) => index === 0 ? {status: 503} : issued('dpop-token-2'));

	const source = createTokenSource({...config, tokenEndpoint: token.url('/token?tenant=a')});
	const details = await source.getTokenDetails();

	t.is(details.tokenType, 'DPoP');
	t.is(token.count, 2);
	const proofs = await Promise.all(token.requests.map(async request => verifyProof(dpopOf(request))));
	t.deepEqual(proofs.map(({claims}) => claims.htu), [token.url('/token'), token.url('/token')]);
	t.not(proofs[0]!.claims.jti, proofs[1]!.claims.jti);
	// The token's key is the one the proofs showed.
	t.is(details.dpopKey?.jkt, await calculateJwkThumbprint(proofs[0]!.jwk));
});

test('the key is made once per token source: its next tokens, and the API proofs, use the same key', async t => {
	const {token, api, config} = await servers(t);
	const source = createTokenSource(config);
	const client = got.extend(oauthHooks(source));

	await client(api.url('/a'));
	source.invalidate(source.peek()!);
	await client(api.url('/b'));

	t.is(token.count, 2);
	const jwks = await Promise.all([...token.requests, ...api.requests].map(async request => thumbprintOf(request)));
	t.is(new Set(jwks).size, 1);
	t.deepEqual(api.requests.map(request => request.headers.authorization), ['DPoP dpop-token-1', 'DPoP dpop-token-2']);
});

test('another token source gets another key', async t => {
	const {token, api, config} = await servers(t);

	await got(api.url('/a'), oauthHooks(config));
	await got(api.url('/b'), oauthHooks(config));

	const [first, second] = await Promise.all(token.requests.map(async request => thumbprintOf(request)));
	t.not(first, second);
});

test('a Bearer answer to a DPoP token request is a TokenError, and the API sees nothing', async t => {
	const {token, api, config} = await servers(t);
	token.handle(() => issued('bearer-token', 'Bearer'));

	const error = await t.throwsAsync(got(api.url('/a'), oauthHooks(config)), {instanceOf: TokenError});

	t.regex(error.message, /"Bearer" in answer to a request with a DPoP proof.+dpop\.acceptBearer/v);
	t.is(error.statusCode, 200);
	t.false(error.message.includes('bearer-token'));
	t.is(api.count, 0);
});

test('dpop.acceptBearer: a Bearer answer is used as a bearer token, without proofs', async t => {
	const {token, api, config} = await servers(t, {acceptBearer: true});
	token.handle(() => issued('bearer-token', 'bearer'));

	await got(api.url('/a'), oauthHooks(config));

	t.is(api.requests[0]!.headers.authorization, 'Bearer bearer-token');
	t.is(dpopOf(api.requests[0]!), undefined);
	t.truthy(dpopOf(token.requests[0]!));
});

for (const tokenType of ['DPoP', 'dpop', 'DPOP']) {
	test(`token_type ${tokenType} is a DPoP token`, async t => {
		const {token, api, config} = await servers(t);
		token.handle(() => issued('dpop-token', tokenType));

		await got(api.url('/a'), oauthHooks(config));

		t.is(api.requests[0]!.headers.authorization, 'DPoP dpop-token');
	});
}

test('without dpop, a DPoP answer is a TokenError and no token request carries a proof', async t => {
	const {token, api, config} = await servers(t, false);

	const error = await t.throwsAsync(got(api.url('/a'), oauthHooks(config)), {instanceOf: TokenError});

	t.regex(error.message, /"DPoP", but the request carried no DPoP proof; set `dpop`/v);
	t.is(error.statusCode, 200);
	t.is(dpopOf(token.requests[0]!), undefined);
	t.is(api.count, 0);
});

test('the token endpoint\'s use_dpop_nonce: one retry with its nonce; the nonce is kept for the next token request', async t => {
	const {token, config} = await servers(t);
	token.handle((request, index) => {
		const {nonce} = decodeJwt(dpopOf(request)!);
		return nonce === undefined ? {status: 400, headers: {'dpop-nonce': 'nonce-1'}, body: {error: 'use_dpop_nonce'}} : {...issued(`dpop-token-${index}`), headers: {'dpop-nonce': `nonce-${index}`}};
	});
	const source = createTokenSource(config);

	t.is(await source.getToken(), 'dpop-token-1');
	source.invalidate('dpop-token-1');
	t.is(await source.getToken(), 'dpop-token-2');

	// The 200 brought the next nonce, which the next token request used at once.
	t.deepEqual(token.requests.map(request => decodeJwt(dpopOf(request)!).nonce), [undefined, 'nonce-1', 'nonce-1']);
	t.is(token.count, 3);
});

test('a token endpoint that always wants another nonce gets two requests, then the TokenError', async t => {
	const {token, config} = await servers(t);
	token.handle((_request, index) => ({status: 400, headers: {'dpop-nonce': `nonce-${index}`}, body: {error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof'}}));

	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});

	t.is(error.error, 'use_dpop_nonce');
	t.is(error.statusCode, 400);
	t.is(token.count, 2);
	t.deepEqual(token.requests.map(request => decodeJwt(dpopOf(request)!).nonce), [undefined, 'nonce-0']);
});

test('use_dpop_nonce without a usable DPoP-Nonce header is not retried', async t => {
	const {token, config} = await servers(t);
	token.handle(() => ({status: 400, headers: {'dpop-nonce': 'has space'}, body: {error: 'use_dpop_nonce'}}));

	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});

	t.is(error.error, 'use_dpop_nonce');
	t.is(token.count, 1);
});

test('the API\'s use_dpop_nonce: one retry with its nonce and a new proof; later requests carry the nonce at once', async t => {
	const {token, api, config} = await servers(t);
	api.handle(request => decodeJwt(dpopOf(request)!).nonce === 'api-nonce' ? undefined : challenge('use_dpop_nonce', {'dpop-nonce': 'api-nonce'}));
	const client = got.extend(oauthHooks(config));

	await client.post(api.url('/a'), {json: {n: 1}});
	await client(api.url('/b'));

	t.deepEqual(api.requests.map(request => [request.method, request.path, decodeJwt(dpopOf(request)!).nonce]), [
		['POST', '/a', undefined],
		['POST', '/a', 'api-nonce'],
		['GET', '/b', 'api-nonce'],
	]);
	t.is(new Set(api.requests.map(request => decodeJwt(dpopOf(request)!).jti)).size, 3);
	t.deepEqual(api.requests.map(request => request.body), ['{"n":1}', '{"n":1}', '']);
	t.is(token.count, 1);
});

test('an API that always wants another nonce gets two requests: the 401 surfaces with its DPoP error', async t => {
	const {token, api, config} = await servers(t);
	api.handle((_request, index) => challenge('use_dpop_nonce', {'dpop-nonce': `api-nonce-${index}`}));

	const error = await t.throwsAsync(got(api.url('/a'), oauthHooks(config)), {instanceOf: HTTPError});

	t.is(error.response.statusCode, 401);
	t.deepEqual((error as HTTPError & {dpopError?: unknown}).dpopError, {error: 'use_dpop_nonce'});
	t.is(api.count, 2);
	t.is(token.count, 1);
});

test('at most one nonce retry and one fresh-token retry per request, in either order', async t => {
	const orders: Array<[string, string, string]> = [['nonce first', 'use_dpop_nonce', 'invalid_token'], ['token first', 'invalid_token', 'use_dpop_nonce']];
	for (const [order, first, second] of orders) {
		const {token, api, config} = await servers(t);
		// Every answer refuses: without the guards this would go on; a fourth request gets a 200, which fails the count at once.
		api.handle((_request, index) => {
			const error = [first, second, index % 2 === 0 ? first : second][index];
			return error === undefined ? undefined : challenge(error, {'dpop-nonce': `api-nonce-${index}`});
		});

		const error = await t.throwsAsync(got(api.url('/a'), oauthHooks(config)), {instanceOf: HTTPError}, order);

		t.is(error.response.statusCode, 401, order);
		t.is(api.count, 3, order);
		t.is(token.count, 2, order);
	}
});

test('invalid_dpop_proof is the 401 it is: no new token, no retry, the error parsed', async t => {
	const {token, api, config} = await servers(t);
	api.handle(() => ({status: 401, headers: {'www-authenticate': String.raw`Bearer realm="api", DPoP error="invalid_dpop_proof", error_description="Invalid \"htu\" for dpop-token-1"`}}));

	const error = await t.throwsAsync(got(api.url('/a'), oauthHooks(config)), {instanceOf: HTTPError});

	t.deepEqual((error as HTTPError & {dpopError?: unknown}).dpopError, {error: 'invalid_dpop_proof', errorDescription: 'Invalid "htu" for [redacted]'});
	t.regex(error.message, /\(DPoP: invalid_dpop_proof: Invalid "htu" for \[redacted\]\)$/v);
	t.is(api.count, 1);
	t.is(token.count, 1);
});

test('invalid_token in a DPoP challenge gets the one retry with a fresh token, and a fresh proof', async t => {
	const {token, api, config} = await servers(t);
	api.handle((_request, index) => index === 0 ? challenge('invalid_token') : undefined);

	await got(api.url('/a'), oauthHooks(config));

	t.deepEqual(api.requests.map(request => request.headers.authorization), ['DPoP dpop-token-1', 'DPoP dpop-token-2']);
	const claims = api.requests.map(request => decodeJwt(dpopOf(request)!));
	t.deepEqual(claims.map(({ath: hash}) => hash), [ath('dpop-token-1'), ath('dpop-token-2')]);
	t.not(claims[0]!.jti, claims[1]!.jti);
});

test('a nonce the API sends with any answer is used from the next request on', async t => {
	const {api, config} = await servers(t);
	api.handle((_request, index) => ({status: index === 1 ? 404 : 200, headers: {'dpop-nonce': `n-${index}`}, body: {}}));
	const client = got.extend(oauthHooks(config), {throwHttpErrors: false});

	for (const path of ['/a', '/b', '/c']) {
		await client(api.url(path));
	}

	t.deepEqual(api.requests.map(request => decodeJwt(dpopOf(request)!).nonce), [undefined, 'n-0', 'n-1']);
});

test('a nonce on a redirect from the API is learned too; another origin\'s is not', async t => {
	const {api, config} = await servers(t);
	const other = await startApiServer(() => ({status: 302, headers: {location: api.url('/end'), 'dpop-nonce': 'other-nonce'}}));
	t.teardown(async () => other.close());
	api.handle(request => request.path === '/start' ? {status: 302, headers: {location: other.url('/hop'), 'dpop-nonce': 'redirect-nonce'}} : undefined);

	await got(api.url('/start'), oauthHooks(config));

	t.deepEqual(api.requests.map(request => [request.path, decodeJwt(dpopOf(request)!).nonce]), [['/start', undefined], ['/end', 'redirect-nonce']]);
	t.is(other.requests[0]!.headers.authorization, undefined);
	t.is(dpopOf(other.requests[0]!), undefined);
});

test('redirects: each hop on the origin gets a proof for its own method and URL; another origin gets neither token nor proof', async t => {
	const {api, config} = await servers(t);
	const other = await startApiServer();
	t.teardown(async () => other.close());
	api.handle(request => {
		switch (request.path) {
			case '/post': {
				return {status: 303, headers: {location: '/see-other?x=1'}};
			}

			case '/see-other?x=1': {
				return {status: 307, headers: {location: other.url('/away')}};
			}

			default: {
				return undefined;
			}
		}
	});

	await got.post(api.url('/post'), {...oauthHooks(config), json: {}});

	const claims = api.requests.map(request => decodeJwt(dpopOf(request)!));
	t.deepEqual(claims.map(({htm, htu}) => [htm, htu]), [['POST', api.url('/post')], ['GET', api.url('/see-other')]]);
	t.not(claims[0]!.jti, claims[1]!.jti);
	t.deepEqual(other.requests.map(request => [request.path, request.headers.authorization, dpopOf(request)]), [['/away', undefined, undefined]]);
});

test('a later hook that moves the request: the proof is for the URL and method it leaves with; at another origin, neither token nor proof', async t => {
	const {api, config} = await servers(t);
	const other = await startApiServer();
	t.teardown(async () => other.close());
	const client = got.extend(oauthHooks(config), {
		hooks: {
			beforeRequest: [
				options => {
					const {pathname} = options.url!;
					options.url = new URL(pathname === '/elsewhere' ? other.url('/moved') : api.url(`/moved${pathname}?by=hook`));
					options.method = 'PUT';
				},
			],
		},
	});

	await client(api.url('/here'));
	await client(api.url('/elsewhere'));

	t.deepEqual(api.requests.map(request => [request.method, request.path]), [['PUT', '/moved/here?by=hook']]);
	t.like(decodeJwt(dpopOf(api.requests[0]!)!), {htm: 'PUT', htu: api.url('/moved/here')});
	t.deepEqual(other.requests.map(request => [request.path, request.headers.authorization, dpopOf(request)]), [['/moved', undefined, undefined]]);
});

test('got\'s retries of an API request: each attempt a new proof', async t => {
	const {api, config} = await servers(t);
	api.handle((_request, index) => index < 2 ? {status: 503} : undefined);

	await got(api.url('/a'), {...oauthHooks(config), retry: {limit: 2, backoffLimit: 1}});

	t.is(api.count, 3);
	t.is(new Set(api.requests.map(request => decodeJwt(dpopOf(request)!).jti)).size, 3);
});

test('a stream request carries a proof too', async t => {
	const {api, config} = await servers(t);

	const body = await got.stream(api.url('/stream'), oauthHooks(config)).toArray();

	t.true(Buffer.concat(body).toString().includes('DPoP dpop-token-1'));
	t.like(decodeJwt(dpopOf(api.requests[0]!)!), {htm: 'GET', htu: api.url('/stream')});
});

test('through got\'s cache: the proof is for the URL, and a cached answer needs none', async t => {
	const {api, config} = await servers(t);
	api.handle(() => ({headers: {'cache-control': 'public, max-age=60'}, body: {}}));
	const client = got.extend(oauthHooks(config), {cache: new Map()});

	await client(api.url('/cached?q=1'));
	await client(api.url('/cached?q=1'));

	t.is(api.count, 1);
	t.like(decodeJwt(dpopOf(api.requests[0]!)!), {htm: 'GET', htu: api.url('/cached')});
});

test('the caller\'s own authorization header wins: no token, no proof', async t => {
	const {token, api, config} = await servers(t);

	await got(api.url('/a'), {...oauthHooks(config), headers: {authorization: 'Basic abc'}});

	t.is(api.requests[0]!.headers.authorization, 'Basic abc');
	t.is(dpopOf(api.requests[0]!), undefined);
	t.is(token.count, 0);
});

const forbiddenIn = (t: ExecutionContext, error: unknown, values: string[]): void => {
	for (const text of [String(error), inspect(error, {depth: Infinity}), inspect(error, {depth: Infinity, showHidden: true}), JSON.stringify(error)]) {
		for (const value of values) {
			t.false(text.includes(value), `shows ${value.slice(0, 12)}…`);
		}
	}
};

test('no error shows the token, a proof or the private key: a 401 with its DPoP challenge, a 500, a timeout', async t => {
	const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
	const {d} = await exportJWK(privateKey);
	const {token, api, config} = await servers(t, {privateKey});
	token.handle(() => issued('SeCrEt-dpop-token-9f2c'));
	const client = got.extend(oauthHooks(config), {retry: {limit: 0}});
	const cases: Array<[string, Parameters<LocalServer['handle']>[0]]> = [
		['401', () => challenge('invalid_dpop_proof')],
		['500', () => ({status: 500, body: 'oops'})],
		['timeout', () => 'hang'],
	];

	for (const [name, handler] of cases) {
		api.handle(handler);
		const error = await t.throwsAsync(client(api.url(`/${name}`), {timeout: {request: name === 'timeout' ? 300 : 5000}}));
		const proofs = api.requests.map(request => dpopOf(request)!);
		t.true(proofs.length > 0);
		forbiddenIn(t, error, ['SeCrEt-dpop-token-9f2c', ...proofs, ...proofs.map(proof => proof.split('.', 3)[2]!), d!]);
	}
});

test('a token endpoint that echoes the proof in its error: the TokenError shows [redacted]', async t => {
	const {token, config} = await servers(t);
	token.handle(request => ({status: 400, body: {error: 'invalid_dpop_proof', error_description: `bad proof ${dpopOf(request)!}`}}));

	const error = await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError});

	t.is(error.errorDescription, 'bad proof [redacted]');
	forbiddenIn(t, error, [dpopOf(token.requests[0]!)!]);
});

test('DpopKey shows its algorithm and thumbprint, nothing else', async t => {
	const {token, config} = await servers(t);
	token.handle(() => issued('dpop-token'));

	const {dpopKey} = await createTokenSource(config).getTokenDetails();

	t.is(JSON.stringify(dpopKey), JSON.stringify({alg: 'ES256', jkt: dpopKey!.jkt}));
	t.regex(inspect(dpopKey, {showHidden: true, depth: Infinity}), /^DpopKey \{[^\{\}]*\}$/v);
});

test('bad dpop options: ConfigurationError from oauthHooks(), naming the option, showing no key', t => {
	const rsa1024 = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey;
	const ec = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey;
	const x25519 = generateKeyPairSync('x25519').privateKey;
	const base = {tokenEndpoint: 'https://auth.example/token', clientId, clientSecret};
	const cases: Array<[unknown, string, RegExp]> = [
		['yes', 'dpop', /must be true or an object/v],
		[{alg: 'HS256'}, 'dpop.alg', /must be one of ES256/v],
		[{alg: 256}, 'dpop.alg', /got number/v],
		[{privateKey: 'not a key'}, 'dpop.privateKey', /not an unencrypted private key/v],
		[{privateKey: rsa1024}, 'dpop.privateKey', /shorter than 2048 bits/v],
		[{privateKey: x25519}, 'dpop.privateKey', /an X25519 key/v],
		[{privateKey: ec, alg: 'PS256'}, 'dpop.alg', /EC P-256 key cannot sign/v],
		[{privateKey: ec.export({format: 'pem', type: 'sec1'}).toString().replaceAll('\n', String.raw`\n`)}, 'dpop.privateKey', /line breaks/v],
		[{acceptBearer: 'yes'}, 'dpop.acceptBearer', /must be a boolean/v],
		[{privatKey: ec}, 'dpop.privatKey', /did you mean `privateKey`/v],
	];

	for (const [dpop, option, message] of cases) {
		const error = t.throws(() => oauthHooks({...base, dpop} as OAuthConfig), {instanceOf: ConfigurationError, message}, option);
		t.is(error.option, option);
	}
});

test('the cache key tells DPoP tokens from bearer tokens, and strict DPoP from acceptBearer', t => {
	const base: OAuthConfig = {tokenEndpoint: 'https://auth.example/token', clientId, clientSecret};
	const keyOf = (config: OAuthConfig) => tokenCacheKey(normalizeConfig(config));

	const keys = [keyOf(base), keyOf({...base, dpop: true}), keyOf({...base, dpop: {acceptBearer: true}})];

	t.is(new Set(keys).size, 3);
	t.is(keyOf({...base, dpop: false}), keys[0]!);
	t.is(keyOf({...base, dpop: {alg: 'EdDSA'}}), keys[1]!);
});

test('nonces are kept for the last 100 origins that sent one; sending one again makes an origin recent', t => {
	const nonces = new NonceCache();
	for (let index = 0; index < 100; index++) {
		t.true(nonces.learn(`https://api-${index}.example`, `nonce-${index}`));
	}

	t.true(nonces.learn('https://api-0.example', 'nonce-0b'));
	t.true(nonces.learn('https://api-100.example', 'nonce-100'));

	t.is(nonces.size, 100);
	t.is(nonces.get('https://api-0.example'), 'nonce-0b');
	t.is(nonces.get('https://api-1.example'), undefined);
	t.is(nonces.get('https://api-100.example'), 'nonce-100');
	for (const bad of ['', 'with space', 'quote"', String.raw`back\slash`, 'x'.repeat(1025), ['a', 'b'], undefined]) {
		t.false(nonces.learn('https://api-2.example', bad));
	}

	t.is(nonces.get('https://api-2.example'), 'nonce-2');
});

const challenges: Array<[string | string[] | undefined, unknown]> = [
	['DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', {error: 'use_dpop_nonce', errorDescription: 'Resource server requires nonce in DPoP proof'}],
	['Bearer realm="api", error="invalid_token", DPoP algs="ES256 PS256", error=invalid_dpop_proof', {error: 'invalid_dpop_proof', algs: 'ES256 PS256'}],
	['DPoP error="invalid_token", Bearer error="insufficient_scope"', {error: 'invalid_token'}],
	[['Basic realm="x"', String.raw`dpop error="a\"b, c"`], {error: 'a"b, c'}],
	['Negotiate abc==, DPoP', {}],
	['Bearer error="invalid_token"', undefined],
	[undefined, undefined],
];

for (const [header, expected] of challenges) {
	test(`WWW-Authenticate ${JSON.stringify(header)}: its DPoP challenge`, t => {
		t.deepEqual(parseDpopChallenge(header), expected);
	});
}

test('each nonce retry is published on the dpop:nonce-retry channel, naming the server and its origin, never a nonce', async t => {
	const {token, api, config} = await servers(t);
	token.handle((request, index) => decodeJwt(dpopOf(request)!).nonce === undefined
		? {status: 400, headers: {'dpop-nonce': 'token-nonce'}, body: {error: 'use_dpop_nonce'}}
		: issued(`dpop-token-${index}`));
	api.handle(request => decodeJwt(dpopOf(request)!).nonce === 'api-nonce' ? undefined : challenge('use_dpop_nonce', {'dpop-nonce': 'api-nonce'}));
	const messages: unknown[] = [];
	const record = (message: unknown) => {
		messages.push(message);
	};

	subscribe(channelNames.dpopNonceRetry, record);
	t.teardown(() => {
		unsubscribe(channelNames.dpopNonceRetry, record);
	});

	const client = got.extend(oauthHooks(config));
	await client(api.url('/a'));
	// The nonces are known now: no more retries.
	await client(api.url('/b'));

	// Other tests in this file run at the same time: only this test's servers count.
	const ours = messages.filter(message => [token.origin, api.origin].includes((message as {origin: string}).origin));
	t.deepEqual(ours, [
		{clientId, grantType: 'client_credentials', server: 'authorization-server', origin: token.origin},
		{clientId, grantType: 'client_credentials', server: 'resource-server', origin: api.origin},
	]);
	t.false(JSON.stringify(messages).includes('token-nonce'));
	t.false(JSON.stringify(messages).includes('api-nonce'));
});
