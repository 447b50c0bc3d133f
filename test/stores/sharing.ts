/*
The `store` option through the public API, in one process: `createTokenSource()` and `oauthHooks()` with `redisTokenStore()` on a real redis-server (node-redis and ioredis) or a Keyv store, against a loopback token endpoint and API. Several sources with one configuration stand for several processes; the multi-process tests are in fleet-*.ts.
*/
import test, {type ExecutionContext} from 'ava';
import KeyvRedis from '@keyv/redis';
import got from 'got';
import Keyv from 'keyv';
import {createTokenSource, oauthHooks, redisTokenStore, type OAuthConfig, type TokenStore} from '../../source/index.js';
import {deriveStoreKeys, keyFromCredential, openEntry} from '../../source/stores/sealed-entry.js';
import {fakeClock} from '../helpers/fakes.js';
import {startApiServer, startTokenEndpoint, type LocalServer} from '../helpers/local-servers.js';
import {clientKinds, connectClient, startRedisServer, type ClientKind, type RedisServer, type TestClient} from '../helpers/redis-server.js';
import {counted} from '../helpers/shared-tokens.js';

let server: RedisServer;

test.before(async () => {
	server = await startRedisServer();
});

test.after.always(async () => {
	await server?.stop();
});

const clientId = 'fleet-client-id-42';
const clientSecret = 'fleet-client-secret-value';

type Context = {
	readonly tokenEndpoint: LocalServer;
	readonly config: OAuthConfig;
	/** A new connection, closed when the test ends. */
	connect(): Promise<TestClient>;
	/** A store on a new connection, as another process would have. What is tested here is not the timeout: a generous one keeps a busy machine from turning these tests into fallbacks. */
	store(): Promise<TokenStore>;
	/** Every key in Redis for this test's token (or the one `cacheKey` names), with its value. */
	entries(cacheKey?: string): Promise<Array<[key: string, value: string]>>;
};

async function setup(t: ExecutionContext, kind: ClientKind, prefix?: string): Promise<Context> {
	const tokenEndpoint = await startTokenEndpoint(prefix === undefined ? {} : {prefix});
	t.teardown(async () => tokenEndpoint.close());
	const clients: TestClient[] = [];
	t.teardown(() => {
		for (const client of clients) {
			client.close();
		}
	});
	const connect = async () => {
		const client = await connectClient(kind, server);
		clients.push(client);
		return client;
	};

	const config: OAuthConfig = {tokenEndpoint: tokenEndpoint.url('/token'), clientId, clientSecret};
	const {cacheKey} = createTokenSource(config);
	const admin = await connect();
	return {
		tokenEndpoint,
		config,
		connect,
		async store() {
			const {client} = await connect();
			return redisTokenStore(client, {timeout: 5000});
		},
		async entries(otherCacheKey = cacheKey) {
			const keys = await admin.command('KEYS', `*${otherCacheKey}*`) as string[];
			return Promise.all(keys.toSorted().map(async key => [key, String(await admin.command('GET', key))] as [string, string]));
		},
	};
}

function withBothClients(title: string, body: (t: ExecutionContext, kind: ClientKind) => Promise<void>): void {
	for (const kind of clientKinds) {
		test(`${title} (${kind})`, async t => {
			await body(t, kind);
		});
	}
}

withBothClients('sources with one configuration share one token: one token request for all, asking at once', async (t, kind) => {
	const {tokenEndpoint, config, store} = await setup(t, kind);
	const sources = await Promise.all(Array.from({length: 4}, async () => createTokenSource({...config, store: await store()})));

	const tokens = await Promise.all(sources.flatMap(source => [source.getToken(), source.getToken()]));
	t.deepEqual(new Set(tokens), new Set(['access-token-1']));
	t.is(tokenEndpoint.count, 1);

	// One that starts later adopts the stored token, with its expiry.
	const late = createTokenSource({...config, store: await store()});
	const details = await late.getTokenDetails();
	t.is(details.accessToken, 'access-token-1');
	const {expiresAt} = await sources[0]!.getTokenDetails();
	t.deepEqual(details.expiresAt, expiresAt);
	t.is(tokenEndpoint.count, 1);
});

withBothClients('the per-request path never touches the store while a token is usable', async (t, kind) => {
	const {tokenEndpoint, config, store} = await setup(t, kind);
	const api = await startApiServer();
	t.teardown(async () => api.close());
	const countedStore = counted(await store());
	const client = got.extend({prefixUrl: api.origin}, oauthHooks({...config, store: countedStore}));

	await client.get('first');
	const callsAfterFirst = countedStore.calls.length;
	t.true(callsAfterFirst > 0);
	await Promise.all(Array.from({length: 50}, async (_, index) => client.get(`call/${index}`)));
	t.is(countedStore.calls.length, callsAfterFirst);
	t.is(api.count, 51);
	t.is(tokenEndpoint.count, 1);
});

withBothClients('a 401 deletes the token from the store only while it holds it: one new token for every source', async (t, kind) => {
	const {tokenEndpoint, config, store, entries} = await setup(t, kind);
	let rejected = '';
	const api = await startApiServer(request => request.headers.authorization === `Bearer ${rejected}` ? {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}} : undefined);
	t.teardown(async () => api.close());
	const clients = await Promise.all(Array.from({length: 3}, async () => got.extend({prefixUrl: api.origin}, oauthHooks({...config, store: await store()}))));
	const authorizationOf = async (client: typeof got) => {
		const {authorization} = await client.get('whoami').json<{authorization: string}>();
		return authorization;
	};

	t.deepEqual(await Promise.all(clients.map(async client => authorizationOf(client))), Array.from({length: 3}, () => 'Bearer access-token-1'));
	t.is(tokenEndpoint.count, 1);

	// The API rejects the token: the first source to hear it deletes it and fetches the next; the others find it stored, and delete nothing.
	rejected = 'access-token-1';
	t.is(await authorizationOf(clients[0]!), 'Bearer access-token-2');
	const [[, stored]] = await entries() as [[string, string]];
	t.deepEqual(await Promise.all(clients.slice(1).map(async client => authorizationOf(client))), ['Bearer access-token-2', 'Bearer access-token-2']);
	t.is(tokenEndpoint.count, 2);
	const {keyId} = deriveStoreKeys(keyFromCredential(clientSecret));
	t.deepEqual(await entries(), [[`got-oauth:{${createTokenSource(config).cacheKey}.${keyId}}:token`, stored]]);
	t.is(api.requests.filter(request => request.headers.authorization === 'Bearer access-token-1').length, 3 + 3);
});

withBothClients('an adopted token is used until its writer\'s usable time, on this process\'s own clock', async (t, kind) => {
	const {tokenEndpoint, config, store} = await setup(t, kind);
	const writer = createTokenSource({...config, store: await store()});
	await writer.getToken();

	// Another process whose monotonic clock started elsewhere.
	const clock = fakeClock(5000);
	const reader = createTokenSource({...config, store: await store(), clock, refreshAhead: 0});
	t.is(await reader.getToken(), 'access-token-1');
	t.is(tokenEndpoint.count, 1);
	// 3600 s less the 60 s margin, less the little time since the writer fetched it.
	clock.advance(3_530_000);
	t.is(reader.getTokenSync(), 'access-token-1');
	clock.advance(10_000);
	t.is(reader.getTokenSync(), undefined);
	// The token it replaces is still stored and usable by the wall clock, but is not handed back.
	t.is(await reader.getToken(), 'access-token-2');
	t.is(tokenEndpoint.count, 2);
	t.is(await createTokenSource({...config, store: await store()}).getToken(), 'access-token-2');
});

withBothClients('nothing in Redis shows the access token, the client secret or the client id', async (t, kind) => {
	const accessTokenPrefix = 'access-token-that-must-not-show';
	const {tokenEndpoint, config, store, entries} = await setup(t, kind, accessTokenPrefix);
	const seen: string[] = [];
	const collect = async () => {
		for (const [key, value] of await entries()) {
			// Each field of a value as text and as the bytes it may encode.
			seen.push(key, value, ...value.split('.').flatMap(field => [Buffer.from(field, 'base64url').toString('latin1'), Buffer.from(field, 'base64').toString('latin1')]));
		}
	};

	// While the token is fetched, Redis holds the lock; after, the entry.
	tokenEndpoint.handle(() => {
		collect().catch(() => undefined);
		return {body: {access_token: `${accessTokenPrefix}-1`, token_type: 'Bearer', expires_in: 3600, scope: 'read'}, delay: 100};
	});
	await createTokenSource({...config, store: await store()}).getToken();
	await collect();

	t.true(seen.some(text => text.endsWith(':lock')));
	t.true(seen.some(text => text.endsWith(':token')));
	for (const text of seen) {
		for (const secret of [accessTokenPrefix, clientSecret, clientId, encodeURIComponent(clientId), Buffer.from(clientSecret).toString('base64')]) {
			t.false(text.includes(secret), `${secret} in Redis`);
		}
	}
});

withBothClients('a flipped byte in an entry is a miss, and the next token overwrites it', async (t, kind) => {
	const {tokenEndpoint, config, connect, store, entries} = await setup(t, kind);
	await createTokenSource({...config, store: await store()}).getToken();
	const [[key, original]] = await entries() as [[string, string]];
	const {command} = await connect();
	const at = original.length - 10;
	const flipped = original.slice(0, at) + (original[at] === 'A' ? 'B' : 'A') + original.slice(at + 1);
	await command('SET', key, flipped, 'PX', '60000');

	const next = createTokenSource({...config, store: await store()});
	t.is(await next.getToken(), 'access-token-2');
	t.is(tokenEndpoint.count, 2);
	const [[, overwritten]] = await entries() as [[string, string]];
	t.not(overwritten, flipped);
	const storeKeys = deriveStoreKeys(keyFromCredential(clientSecret));
	t.is(openEntry(storeKeys, key.slice('got-oauth:{'.length, -'}:token'.length), overwritten)?.accessToken, 'access-token-2');
	t.is(await createTokenSource({...config, store: await store()}).getToken(), 'access-token-2');
	t.is(tokenEndpoint.count, 2);
});

withBothClients('processes holding different client secrets, as during a rotation, keep apart and overwrite nothing', async (t, kind) => {
	const {tokenEndpoint, config, store, entries} = await setup(t, kind);
	const before = createTokenSource({...config, store: await store()});
	const after = createTokenSource({...config, clientSecret: 'the-rotated-client-secret', store: await store()});
	t.is(before.cacheKey, after.cacheKey);

	t.is(await before.getToken(), 'access-token-1');
	t.is(await after.getToken(), 'access-token-2');
	const both = await entries();
	t.is(both.length, 2);
	t.is(await createTokenSource({...config, store: await store()}).getToken(), 'access-token-1');
	t.is(tokenEndpoint.count, 2);
});

withBothClients('a public client shares with its encryptionKey; another key neither reads nor overwrites its entry', async (t, kind) => {
	const {tokenEndpoint, config, connect, store, entries} = await setup(t, kind);
	const publicClient: OAuthConfig = {tokenEndpoint: config.tokenEndpoint, clientId, clientAuthentication: 'none'};
	const encryptionKey = 'an-encryption-key-of-32-characters-or-more';
	const otherKey = 'another-encryption-key-of-32-characters';
	t.is(await createTokenSource({...publicClient, encryptionKey, store: await store()}).getToken(), 'access-token-1');
	const {client} = await connect();
	t.is(await createTokenSource({...publicClient, store: redisTokenStore(client, {encryptionKey, timeout: 5000})}).getToken(), 'access-token-1');
	t.is(await createTokenSource({...publicClient, encryptionKey: otherKey, store: await store()}).getToken(), 'access-token-2');
	t.is(tokenEndpoint.count, 2);
	const publicEntries = await entries(createTokenSource(publicClient).cacheKey);
	t.is(publicEntries.length, 2);
});

withBothClients('with Redis gone, each source fetches its own token and no call fails', async (t, kind) => {
	const ownServer = await startRedisServer();
	t.teardown(async () => ownServer.stop());
	const tokenEndpoint = await startTokenEndpoint();
	t.teardown(async () => tokenEndpoint.close());
	const api = await startApiServer();
	t.teardown(async () => api.close());
	const connections = await Promise.all([connectClient(kind, ownServer), connectClient(kind, ownServer)]);
	t.teardown(() => {
		for (const connection of connections) {
			connection.close();
		}
	});
	await ownServer.kill();

	const config: OAuthConfig = {tokenEndpoint: tokenEndpoint.url('/token'), clientId, clientSecret};
	const clients = connections.map(({client}) => got.extend({prefixUrl: api.origin, retry: {limit: 0}}, oauthHooks({...config, store: redisTokenStore(client, {timeout: 1000})})));
	const answers = await Promise.all(clients.flatMap(client => Array.from({length: 10}, async () => client.get('call').json<{authorization: string}>())));
	t.is(answers.length, 20);
	t.deepEqual(new Set(answers.map(({authorization}) => authorization)), new Set(['Bearer access-token-1', 'Bearer access-token-2']));
	t.is(tokenEndpoint.count, 2);
});

test('a Keyv store (keyv + @keyv/redis) shares through the public API', async t => {
	const tokenEndpoint = await startTokenEndpoint();
	t.teardown(async () => tokenEndpoint.close());
	const keyv = async () => {
		const adapter = new KeyvRedis(server.url);
		t.teardown(async () => adapter.disconnect(true).catch(() => undefined));
		const store = new Keyv(adapter);
		store.on('error', () => undefined);
		// Connected before use: a Keyv store's calls get the default timeout, 250 ms, which connecting on a busy machine can take.
		await store.get('warm-up');
		return store;
	};

	const config: OAuthConfig = {tokenEndpoint: tokenEndpoint.url('/token'), clientId, clientSecret};
	t.is(await createTokenSource({...config, store: await keyv()}).getToken(), 'access-token-1');
	t.is(await createTokenSource({...config, store: await keyv()}).getToken(), 'access-token-1');
	t.is(tokenEndpoint.count, 1);
});
