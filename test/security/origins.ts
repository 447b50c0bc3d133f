/*
Issue 12, items 3, 4 and 5, and the redirect cases that held: the token goes to the origin the instance names (its `prefixUrl`, its `origins`, or without either the first origin it is used for) and to no other, whatever a request's options, a pagination hop, a redirect or another hook say later.
*/
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import got, {type BeforeRequestHook} from 'got';
import {oauthHooks, type OAuthConfig} from '../../source/index.js';
import {startTokenEndpoint, type LocalServer} from '../helpers/local-servers.js';
import {startRouteServer, testCa, type Echo, type RouteServer} from '../helpers/security.js';

type Servers = {token: LocalServer; a: RouteServer; b: RouteServer; config: OAuthConfig};

async function servers(t: ExecutionContext): Promise<Servers> {
	const [token, a, b] = await Promise.all([startTokenEndpoint(), startRouteServer(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), a.close(), b.close()]));
	return {token, a, b, config: {tokenEndpoint: token.url('/token'), clientId: 'origins-client', clientSecret: 'origins-secret'}};
}

/** What each request to `server` carried, by path. */
const carried = (server: RouteServer): Array<[string, string | undefined]> => server.seen.map(request => [request.path, request.authorization]);

const bearer = 'Bearer access-token-1';

const pageTo = (next: string): string => `/page?next=${encodeURIComponent(next)}`;
/** Page 1 on each of `hops` in turn, then the last page on `last`. */
function chain(last: RouteServer, ...hops: RouteServer[]): string {
	let url = last.url('/last-page');
	for (const server of hops.toReversed()) {
		url = server.url(pageTo(url));
	}

	return url;
}

// Item 3.
test('got.paginate following a Link to another origin, on a prefixUrl instance: that origin gets no token', async t => {
	const {token, a, b, config} = await servers(t);
	const client = got.extend({prefixUrl: a.origin}, oauthHooks(config));

	const items = await client.paginate.all<number>(chain(b, a).slice(a.origin.length + 1));

	t.deepEqual(items, [1, 2, 3]);
	t.is(a.received('access-token'), 1);
	t.deepEqual(carried(b), [['/last-page', undefined]]);
	t.is(token.count, 1);
});

test('got.paginate A → B → A: B gets no token, the pages on A do', async t => {
	const {a, b, config} = await servers(t);
	const client = got.extend({prefixUrl: a.origin}, oauthHooks(config));

	const items = await client.paginate.all<number>(chain(a, a, b).slice(a.origin.length + 1));

	t.deepEqual(items, [1, 2, 1, 2, 3]);
	t.deepEqual(carried(a).map(([, authorization]) => authorization), [bearer, bearer]);
	t.deepEqual(carried(b).map(([, authorization]) => authorization), [undefined]);
});

test('got.paginate with `origins` and no prefixUrl: a page on an unlisted origin gets no token', async t => {
	const {a, b, config} = await servers(t);
	const client = got.extend(oauthHooks({...config, origins: [a.origin]}));

	await client.paginate.all<number>(chain(b, a));

	t.is(a.received('access-token'), 1);
	t.deepEqual(carried(b), [['/last-page', undefined]]);
});

for (const [name, override] of [['\'\'', (_b: RouteServer) => ''], ['the other origin', (b: RouteServer) => b.origin]] as const) {
	test(`a per-request prefixUrl of ${name} on a prefixUrl instance: the other origin gets no token`, async t => {
		const {token, a, b, config} = await servers(t);
		const client = got.extend({prefixUrl: a.origin}, oauthHooks(config));
		const target = override(b) === '' ? b.url('/echo') : 'echo';

		await client('echo');
		const response = await client(target, {prefixUrl: override(b)}).json<Echo>();

		t.is(response.authorization, undefined);
		t.deepEqual(carried(b), [['/echo', undefined]]);
		t.deepEqual(carried(a), [['/echo', bearer]]);
		t.is(token.count, 1);
	});

	test(`a per-request prefixUrl of ${name} on the instance's very first request: the other origin gets no token`, async t => {
		const {token, a, b, config} = await servers(t);
		const client = got.extend({prefixUrl: a.origin}, oauthHooks(config));
		const target = override(b) === '' ? b.url('/echo') : 'echo';

		await client(target, {prefixUrl: override(b)});
		await client('echo');

		t.deepEqual(carried(b), [['/echo', undefined]]);
		t.deepEqual(carried(a), [['/echo', bearer]]);
		t.is(token.count, 1);
	});
}

// Item 4.
test.serial('neither prefixUrl nor origins: the first origin is the only one; elsewhere no token, no token request, and one GOT_OAUTH_ORIGINS warning', async t => {
	const {token, a, b, config} = await servers(t);
	const c = await startRouteServer();
	t.teardown(async () => c.close());
	const client = got.extend(oauthHooks(config));
	const warnings: Error[] = [];
	const {promise: warned, resolve: onFirst} = Promise.withResolvers<void>();
	const onWarning = (warning: Error): void => {
		// Other tests' instances may warn too; this one names its own first origin.
		if (!warning.message.includes(`goes only to ${a.origin}`)) {
			return;
		}

		warnings.push(warning);
		onFirst();
	};

	process.on('warning', onWarning);
	t.teardown(() => process.off('warning', onWarning));

	await client(a.url('/echo'));
	await client(b.url('/echo'));
	// Emitted on the next tick, so long here; the bound only keeps a missing warning from hanging the test.
	await Promise.race([warned, delay(1000)]);
	await client(b.url('/echo'));
	await client(c.url('/echo'));
	await client(a.url('/echo'));
	// process.emitWarning emits on the next tick: give any second warning its chance.
	await new Promise(resolve => {
		setImmediate(resolve);
	});

	t.deepEqual(carried(a), [['/echo', bearer], ['/echo', bearer]]);
	t.deepEqual(carried(b), [['/echo', undefined], ['/echo', undefined]]);
	t.deepEqual(carried(c), [['/echo', undefined]]);
	t.is(token.count, 1);
	t.is(warnings.length, 1);
	t.is((warnings[0] as Error & {code?: string}).code, 'GOT_OAUTH_ORIGINS');
	t.regex(warnings[0]!.message, /`origins`/v);
	t.false(warnings[0]!.message.includes('access-token'));
});

test.serial('with an `origins` list, a request elsewhere gets no token and no warning', async t => {
	const {token, a, b, config} = await servers(t);
	const client = got.extend(oauthHooks({...config, origins: [a.origin]}));
	const warnings: Error[] = [];
	const onWarning = (warning: Error): void => {
		if ((warning as Error & {code?: string}).code === 'GOT_OAUTH_ORIGINS') {
			warnings.push(warning);
		}
	};

	process.on('warning', onWarning);
	t.teardown(() => process.off('warning', onWarning));

	await client(b.url('/echo'));
	await client(a.url('/echo'));
	await new Promise(resolve => {
		setImmediate(resolve);
	});

	t.deepEqual(carried(b), [['/echo', undefined]]);
	t.deepEqual(carried(a), [['/echo', bearer]]);
	t.is(token.count, 1);
	t.deepEqual(warnings, []);
});

// Item 5.
const rewriteTo = (target: RouteServer): BeforeRequestHook => options => {
	if (options.url!.pathname === '/to-b') {
		options.url = new URL('/echo', target.origin);
	}
};

for (const order of ['after', 'before'] as const) {
	test(`a user beforeRequest hook ${order} ours that sends the request to another origin: no token goes there`, async t => {
		const {token, a, b, config} = await servers(t);
		const hook = {hooks: {beforeRequest: [rewriteTo(b)]}};
		const hooks = oauthHooks(config);
		const client = order === 'after' ? got.extend({prefixUrl: a.origin}, hooks, hook) : got.extend({prefixUrl: a.origin}, hook, hooks);

		await client('echo');
		const response = await client('to-b').json<Echo>();

		t.is(response.authorization, undefined);
		t.deepEqual(carried(b), [['/echo', undefined]]);
		t.deepEqual(carried(a), [['/echo', bearer]]);
		t.is(token.count, 1);
	});
}

test('a user beforeRequest hook after ours, on an instance without prefixUrl or origins: the rewritten request gets no token', async t => {
	const {a, b, config} = await servers(t);
	const client = got.extend(oauthHooks(config), {hooks: {beforeRequest: [rewriteTo(b)]}});

	await client(a.url('/to-b'));

	t.deepEqual(carried(b), [['/echo', undefined]]);
	t.deepEqual(carried(a), []);
});

// Redirects: held before, kept as regression tests.
for (const status of [301, 302, 303, 307, 308]) {
	for (const where of ['same origin', 'other origin'] as const) {
		test(`${status} to the ${where}: the token ${where === 'same origin' ? 'follows' : 'stays behind'}`, async t => {
			const {token, a, b, config} = await servers(t);
			const client = got.extend(oauthHooks(config));
			const target = (where === 'same origin' ? a : b).url('/echo');

			const response = await client.post(a.url(`/redirect?status=${status}&to=${encodeURIComponent(target)}`), {json: {a: 1}}).json<Echo>();

			t.is(response.authorization, where === 'same origin' ? bearer : undefined);
			t.is(a.seen[0]!.authorization, bearer);
			t.is(b.received('access-token'), 0);
			t.is(token.count, 1);
		});
	}
}

test('userinfo: a URL with credentials sends the caller\'s Basic, not the token', async t => {
	const {token, a, config} = await servers(t);
	const client = got.extend(oauthHooks(config));

	const withUserinfo = new URL(a.url('/echo'));
	withUserinfo.username = 'user';
	withUserinfo.password = 'pass';
	const response = await client(withUserinfo).json<Echo>();

	t.is(response.authorization, `Basic ${Buffer.from('user:pass').toString('base64')}`);
	t.is(token.count, 0);
});

test('userinfo: a redirect to another origin with credentials in its URL gets no token', async t => {
	const {a, b, config} = await servers(t);
	const client = got.extend(oauthHooks(config));
	// Userinfo that reads like the first origin, on the way to the second.
	const target = new URL(b.url('/echo'));
	target.username = `127.0.0.1:${a.port}`;

	await client(a.url(`/redirect?to=${encodeURIComponent(target.href)}`));

	t.is(a.seen[0]!.authorization, bearer);
	t.is(b.received('access-token'), 0);
	t.is(b.seen.length, 1);
});

for (const [from, to] of [['http', 'https'], ['https', 'http']] as const) {
	test(`${from} → ${to}: the other scheme is another origin and gets no token`, async t => {
		const token = await startTokenEndpoint();
		const [plain, secure] = await Promise.all([startRouteServer('http'), startRouteServer('https')]);
		t.teardown(async () => Promise.all([token.close(), plain.close(), secure.close()]));
		const [start, target] = from === 'http' ? [plain, secure] : [secure, plain];
		const client = got.extend({https: {certificateAuthority: testCa()}}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'origins-client', clientSecret: 'origins-secret'}));

		const landing = encodeURIComponent(target.url('/echo'));
		await client(start.url(`/redirect?to=${landing}`));

		t.is(start.seen[0]!.authorization, bearer);
		t.deepEqual(carried(target), [['/echo', undefined]]);
	});
}
