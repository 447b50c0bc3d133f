/*
The `store` option's public types: both Redis clients, standalone and cluster, are accepted by `redisTokenStore()` as they come, and a store is a `TokenStore` or a Keyv store.
*/
import {expectTypeOf} from 'expect-type';
import type {Cluster, Redis} from 'ioredis';
import Keyv from 'keyv';
import type {createClient, createCluster} from 'redis';
import {
	oauthHooks,
	redisTokenStore,
	TokenSource,
	type OAuthConfig,
	type RedisTokenStoreOptions,
	type Store,
	type TokenStore,
} from '../source/index.js';

const config = {tokenEndpoint: 'https://auth.example/token', clientId: 'id', clientSecret: 'secret'} satisfies OAuthConfig;

declare const nodeRedis: ReturnType<typeof createClient>;
declare const nodeRedisCluster: ReturnType<typeof createCluster>;
declare const ioredis: Redis;
declare const ioredisCluster: Cluster;

expectTypeOf(redisTokenStore).toBeCallableWith(nodeRedis);
expectTypeOf(redisTokenStore).toBeCallableWith(nodeRedisCluster);
expectTypeOf(redisTokenStore).toBeCallableWith(ioredis);
expectTypeOf(redisTokenStore).toBeCallableWith(ioredisCluster, {prefix: 'app:', timeout: 100, lockLease: 5000, encryptionKey: new Uint8Array(32)});
expectTypeOf(redisTokenStore(ioredis)).toEqualTypeOf<TokenStore>();
expectTypeOf<Parameters<typeof redisTokenStore>[1]>().toEqualTypeOf<RedisTokenStoreOptions | undefined>();

expectTypeOf(oauthHooks).toBeCallableWith({...config, store: redisTokenStore(nodeRedis)});
expectTypeOf(oauthHooks).toBeCallableWith({...config, store: new Keyv()});
expectTypeOf(oauthHooks).toBeCallableWith({...config, store: new Map<string, string>(), encryptionKey: 'a key of 32 characters or more....'});
const fetchToken = async () => ({accessToken: 'x', tokenType: 'Bearer'});
expectTypeOf(TokenSource).toBeConstructibleWith({fetchToken, store: redisTokenStore(ioredis), cacheKey: 'name', encryptionKey: new Uint8Array(32)});
expectTypeOf<OAuthConfig['store']>().toEqualTypeOf<Store | undefined>();

// @ts-expect-error A URL is not a store.
oauthHooks({...config, store: 'redis://localhost'});
// @ts-expect-error A client is not a store: `redisTokenStore(client)` makes one.
oauthHooks({...config, store: ioredis});
// @ts-expect-error redisTokenStore takes a connected client, not a URL.
redisTokenStore('redis://localhost');
// @ts-expect-error The timeout is milliseconds, a number.
redisTokenStore(ioredis, {timeout: '250ms'});
