/*
What only the fetch adapter has to get right: fetch's own arguments (a Request input, an init with extensions), the caller's fetch, and fetch's redirect modes. Node.js's global fetch against plain HTTP servers on loopback.
*/
import test, {type ExecutionContext} from 'ava';
import {oauthFetch, ConfigurationError, createTokenSource, type FetchFunction} from '../source/fetch/index.js';
import {startApiServer, startTokenEndpoint, type LocalServer} from './helpers/local-servers.js';

type Servers = {token: LocalServer; a: LocalServer; b: LocalServer};

async function servers(t: ExecutionContext): Promise<Servers> {
	const [token, a, b] = await Promise.all([startTokenEndpoint(), startApiServer(), startApiServer()]);
	t.teardown(async () => Promise.all([token.close(), a.close(), b.close()]));
	return {token, a, b};
}

const config = (token: LocalServer) => ({tokenEndpoint: token.url('/token'), clientId: 'fetch-client', clientSecret: 'fetch-secret'});

const refuse = {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}};

const refusingFirstToken = (request: {headers: {authorization?: string}}) => request.headers.authorization === 'Bearer access-token-1' ? refuse : undefined;

const authorizations = (server: LocalServer) => server.requests.map(request => request.headers.authorization);

type Sent = {authorization: string | undefined; init: RequestInit | undefined; isRequest: boolean};

/** The global fetch, recording what each send got. */
function recordingFetch(): FetchFunction & {sent: Sent[]} {
	const sent: Sent[] = [];
	const recording = async (input: RequestInfo | URL, init?: RequestInit) => {
		sent.push({authorization: (input as Request).headers.get('authorization') ?? undefined, init, isRequest: input instanceof Request});
		return fetch(input, init);
	};

	return Object.assign(recording, {sent});
}

test('the caller\'s fetch sends every request, the retry too, with the token on the Request it gets', async t => {
	const s = await servers(t);
	s.a.handle(refusingFirstToken);
	const inner = recordingFetch();
	const call = oauthFetch(config(s.token), {fetch: inner});

	const response = await call(s.a.url('/x'), {method: 'POST', body: 'payload', headers: {'x-caller': 'yes'}});

	t.is(response.status, 200);
	t.deepEqual(inner.sent.map(sent => [sent.isRequest, sent.authorization]), [[true, 'Bearer access-token-1'], [true, 'Bearer access-token-2']]);
	// Headers and body went into the Request: an init with them would replace the token and read the body twice.
	t.deepEqual(inner.sent.map(sent => sent.init), [undefined, undefined]);
	t.deepEqual(s.a.requests.map(request => [request.headers['x-caller'], request.body]), [['yes', 'payload'], ['yes', 'payload']]);
});

test('fetch-only extensions in init reach the caller\'s fetch; RequestInit members do not', async t => {
	const s = await servers(t);
	const inner = recordingFetch();
	const call = oauthFetch(config(s.token), {fetch: inner});
	const extension = {revalidate: 60};

	await call(s.a.url('/x'), {method: 'GET', headers: {accept: 'text/plain'}, redirect: 'follow', next: extension} as RequestInit);

	t.deepEqual(inner.sent.map(sent => sent.init), [{next: extension}]);
});

test('a Request input keeps its method, headers and URL, and is not changed', async t => {
	const s = await servers(t);
	const call = oauthFetch(config(s.token));

	const input = new Request(s.a.url('/from-request'), {method: 'DELETE', headers: {'x-kept': '1'}});
	await call(input);
	await call(new URL(s.a.url('/from-url')));

	// The caller's own Request never holds the token.
	t.is(input.headers.get('authorization'), null);

	t.deepEqual(s.a.requests.map(request => [request.method, request.path, request.headers['x-kept'], request.headers.authorization]), [
		['DELETE', '/from-request', '1', 'Bearer access-token-1'],
		['GET', '/from-url', undefined, 'Bearer access-token-1'],
	]);
});

test('redirect: manual hands the caller the redirect itself, with no retry and the token only where it was sent', async t => {
	const s = await servers(t);
	s.a.handle(() => ({status: 302, headers: {location: s.b.url('/landing')}}));
	const call = oauthFetch(config(s.token));

	const response = await call(s.a.url('/start'), {redirect: 'manual'});

	t.is(response.status, 302);
	t.is(response.headers.get('location'), s.b.url('/landing'));
	t.deepEqual(authorizations(s.a), ['Bearer access-token-1']);
	t.is(s.b.count, 0);
});

test('a 307 of a stream body fails in fetch as the standard says, and is not turned into a retry', async t => {
	const s = await servers(t);
	s.a.handle(request => request.path === '/start' ? {status: 307, headers: {location: '/landing'}} : undefined);
	const call = oauthFetch(config(s.token));

	const error = await t.throwsAsync(call(s.a.url('/start'), {method: 'POST', body: new Blob(['chunk']).stream(), duplex: 'half'} as RequestInit));

	t.is(error.name, 'TypeError');
	t.deepEqual(s.a.requests.map(request => request.path), ['/start']);
	t.is(s.token.count, 1);
});

test('the wrapper shares a token source with other wrappers', async t => {
	const s = await servers(t);
	const source = createTokenSource(config(s.token));

	await Promise.all([oauthFetch(source)(s.a.url('/1')), oauthFetch(source)(s.a.url('/2'))]);

	t.is(s.token.count, 1);
});

test('bad arguments are named before any request', t => {
	const good = {tokenEndpoint: 'https://auth.example/token', clientId: 'id', clientSecret: 'secret'};
	t.throws(() => oauthFetch(undefined as never), {instanceOf: ConfigurationError, message: /`config` must be a configuration object or a TokenSource, got undefined/v});
	t.throws(() => oauthFetch(good, {fetch: 'https://api.example' as never}), {instanceOf: ConfigurationError, message: /`fetch` must be a function, got string/v});
	t.throws(() => oauthFetch(good, {origins: 'https://api.example' as never}), {instanceOf: ConfigurationError, message: /`origins` must be an array/v});
	t.throws(() => oauthFetch({...good, clientSecert: 'typo'} as never), {instanceOf: ConfigurationError, message: /clientSecert/v});
});
