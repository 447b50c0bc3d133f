import {Redis} from 'ioredis';
import {createClient} from 'redis';
import type {RedisClient} from '../../source/stores/redis.js';
import type {RedisServer} from '../../fixtures/redis-server.js';

export {startRedisServer, type RedisServer} from '../../fixtures/redis-server.js';

export type ClientKind = 'node-redis' | 'ioredis';

export const clientKinds: readonly ClientKind[] = ['node-redis', 'ioredis'];

export type TestClient = {
	readonly kind: ClientKind;
	readonly client: RedisClient;
	/** The same connection, for the test's own commands. */
	command(...arguments_: string[]): Promise<unknown>;
	close(): void;
};

/** A connected client of either library; connection errors (a killed or paused server) are expected and ignored. */
export async function connectClient(kind: ClientKind, server: RedisServer): Promise<TestClient> {
	if (kind === 'node-redis') {
		const client = createClient({url: server.url, socket: {reconnectStrategy: 50}});
		client.on('error', () => undefined);
		await client.connect();
		return {
			kind,
			client,
			command: async (...arguments_) => client.sendCommand(arguments_),
			close() {
				client.destroy();
			},
		};
	}

	const client = new Redis(server.port, '127.0.0.1', {lazyConnect: true, retryStrategy: () => 50});
	client.on('error', () => undefined);
	await client.connect();
	return {
		kind,
		client,
		command: async (name, ...arguments_) => client.call(name, ...arguments_),
		close() {
			client.disconnect();
		},
	};
}
