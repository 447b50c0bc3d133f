/*
Issue 12, item 8, and the hostile token endpoints that held: a server's text reaches an error bounded and cleaned, a server that echoes the request cannot make an error repeat the client's credentials, a decompression bomb is cut off, and prototype keys in a response change nothing.
*/
import {generateKeyPairSync} from 'node:crypto';
import {once} from 'node:events';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {gzipSync} from 'node:zlib';
import test, {type ExecutionContext} from 'ava';
import got from 'got';
import {createTokenSource, oauthHooks, TokenError, type OAuthConfig} from '../../source/index.js';
import {startTokenEndpoint, type LocalServer, type RecordedRequest} from '../helpers/local-servers.js';
import {assertNoLeak, startRouteServer, type Echo} from '../helpers/security.js';

const clientId = 'token-errors:client';
// Characters that form-encoding changes, so a body echoed as sent holds a form of the secret unlike the secret itself.
const clientSecret = 'SeCrEt with+plus%2B & more/=?~';

// eslint-disable-next-line no-control-regex, regexp/no-control-character -- finding them is the point.
const controlCharacters = /[\u{0}-\u{1F}\u{7F}-\u{9F}]/v;

async function tokenEndpoint(t: ExecutionContext, answer: (request: RecordedRequest) => unknown, status = 400): Promise<LocalServer> {
	const server = await startTokenEndpoint();
	t.teardown(async () => server.close());
	server.handle(request => ({status, body: answer(request)}));
	return server;
}

test('a 500 KB error_description of ANSI escapes, newlines and fake log lines: the message is short and has no control characters', async t => {
	const line = '\u{1B}[2K\r\u{1B}[32m[INFO]\u{1B}[0m 2026-01-01T00:00:00Z user=admin login ok\n';
	const description = line.repeat(Math.ceil(500_000 / line.length));
	const server = await tokenEndpoint(t, () => ({error: 'invalid_client\u{1B}[31m\n[ERROR] forged', error_description: description, error_uri: 'https://auth.example/e\r\nX: y'}));
	const source = createTokenSource({tokenEndpoint: server.url('/token'), clientId, clientSecret});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});

	t.true(description.length >= 500_000);
	t.true(error.message.length < 500, `${error.message.length} characters`);
	for (const text of [error.message, error.error, error.errorDescription, error.errorUri]) {
		t.notRegex(text ?? '', controlCharacters);
	}

	t.true(error.errorDescription!.length <= 300);
	t.regex(error.errorDescription!, /^ ?\[INFO\] 2026-01-01T00:00:00Z user=admin login ok +\[INFO\]/v);
	t.is(error.statusCode, 400);
});

type Method = {
	name: string;
	config: Partial<OAuthConfig>;
};

const ecKey = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey;

const methods: Method[] = [
	{name: 'client_secret_basic', config: {clientSecret}},
	{name: 'client_secret_post', config: {clientSecret, clientAuthentication: 'client_secret_post'}},
	{name: 'client_secret_jwt', config: {clientSecret, clientAuthentication: 'client_secret_jwt'}},
	{name: 'private_key_jwt', config: {privateKey: ecKey}},
];

/** Every form of the client's credentials that a request carried: the secret, the Authorization header and its parts, the form-encoded body's values as sent and as read. */
function credentialsIn(request: RecordedRequest): string[] {
	const found = [clientSecret, new URLSearchParams({s: clientSecret}).toString().slice(2)];
	const {authorization} = request.headers;
	if (authorization !== undefined) {
		const encoded = authorization.split(' ', 2)[1]!;
		found.push(authorization, encoded, Buffer.from(encoded, 'base64').toString());
	}

	for (const [name, value] of new URLSearchParams(request.body)) {
		if (name === 'client_secret' || name === 'client_assertion') {
			found.push(value, new URLSearchParams({[name]: value}).toString().slice(name.length + 1));
		}
	}

	return found;
}

for (const {name, config} of methods) {
	for (const via of ['getToken', 'a got call'] as const) {
		test(`${name}, ${via}: a server that echoes the request's Authorization and body into its error makes no rendering of the TokenError show the client's credentials`, async t => {
			const server = await tokenEndpoint(t, request => ({
				error: 'invalid_client',
				error_description: `${request.headers.authorization ?? ''} ${request.body} ${[...new URLSearchParams(request.body)].map(([, value]) => value).join(' ')}`,
			}));
			const api = await startRouteServer();
			t.teardown(async () => api.close());
			const full: OAuthConfig = {tokenEndpoint: server.url('/token'), clientId, ...config};

			const error = await t.throwsAsync(
				via === 'getToken' ? createTokenSource(full).getToken() : got.extend({prefixUrl: api.origin}, oauthHooks(full))('ok'),
				{instanceOf: TokenError},
			);

			const [request] = server.requests;
			const credentials = credentialsIn(request!);
			// The echo is there, so the test means something: the method did send a credential, and the description was used.
			t.true(credentials.length > 2);
			t.is(error.error, 'invalid_client');
			t.regex(error.errorDescription!, /\[redacted\]/v);
			assertNoLeak(t, error, credentials);
			t.is(api.seen.length, 0);
		});
	}
}

test('a gzip bomb from the token endpoint is cut off at 1 MiB, not inflated into memory', async t => {
	// 64 MiB of JSON whitespace, about 64 KB on the wire.
	const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '));
	let sent = 0;
	const server = http.createServer((_request, response) => {
		response.writeHead(200, {'content-type': 'application/json', 'content-encoding': 'gzip'});
		response.end(bomb);
		sent++;
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	t.teardown(() => {
		server.closeAllConnections();
		server.close();
	});
	const {port} = server.address() as AddressInfo;
	const source = createTokenSource({tokenEndpoint: `http://127.0.0.1:${port}/token`, clientId, clientSecret});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});

	t.true(bomb.length < 200_000);
	t.is(sent, 1);
	t.regex(error.message, /larger than 1048576 bytes/v);
});

test('prototype keys in a token response change nothing: the token works, no prototype is polluted, extra holds them as plain data', async t => {
	const server = await startTokenEndpoint();
	t.teardown(async () => server.close());
	server.handle(() => ({
		headers: {'content-type': 'application/json'},
		// As text: an object literal cannot hold an own `__proto__` for JSON.stringify to write.
		body: '{"access_token":"proto-token","token_type":"Bearer","expires_in":60,"__proto__":{"polluted":true,"scope":"admin"},"constructor":{"prototype":{"polluted":true}}}',
	}));
	const api = await startRouteServer();
	t.teardown(async () => api.close());
	const source = createTokenSource({tokenEndpoint: server.url('/token'), clientId, clientSecret});
	const client = got.extend({prefixUrl: api.origin}, oauthHooks(source));

	const echoed = await client('echo').json<Echo>();
	const details = await source.getTokenDetails();

	t.is(echoed.authorization, 'Bearer proto-token');
	t.false('polluted' in {});
	t.false(Object.hasOwn(Object.prototype, 'polluted'));
	t.is(details.scope, undefined);
	t.is(Object.getPrototypeOf(details.extra), Object.prototype);
	t.false('polluted' in details.extra!);
	t.true(Object.hasOwn(details.extra!, '__proto__'));
});

async function answering(t: ExecutionContext, body: string): Promise<LocalServer> {
	const server = await startTokenEndpoint();
	t.teardown(async () => server.close());
	server.handle(() => ({headers: {'content-type': 'application/json'}, body}));
	return server;
}

test('an access_token only under __proto__ is no access token', async t => {
	const server = await answering(t, '{"__proto__":{"access_token":"inherited","token_type":"Bearer"}}');

	const error = await t.throwsAsync(createTokenSource({tokenEndpoint: server.url('/token'), clientId, clientSecret}).getToken(), {instanceOf: TokenError});

	t.regex(error.message, /no `access_token` string/v);
});

for (const [what, body, accessToken] of [
	['an error only under __proto__, beside a token', '{"access_token":"real-token","token_type":"Bearer","__proto__":{"error":"invalid_client"}}', 'real-token'],
	['a token_type only under constructor.prototype', '{"access_token":"x-token","constructor":{"prototype":{"token_type":"MAC"}}}', 'x-token'],
] as const) {
	test(`${what}: the response's own members decide`, async t => {
		const server = await answering(t, body);
		const source = createTokenSource({tokenEndpoint: server.url('/token'), clientId, clientSecret});

		t.is(await source.getToken(), accessToken);
		const details = await source.getTokenDetails();
		t.is(details.tokenType, 'Bearer');
	});
}
