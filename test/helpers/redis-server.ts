import {spawn, type ChildProcess} from 'node:child_process';
import net from 'node:net';
import process from 'node:process';
import {setTimeout as delay} from 'node:timers/promises';
import {Redis} from 'ioredis';
import {createClient} from 'redis';
import type {RedisClient} from '../../source/stores/redis.js';

export type RedisServer = {
	readonly port: number;
	/** `redis://127.0.0.1:<port>` */
	readonly url: string;
	readonly pid: number;
	/** SIGTERM, and wait for the process to end. Safe to call more than once, and after `kill()`. */
	stop(): Promise<void>;
	/** SIGSTOP: the server keeps its connections but answers nothing. */
	pause(): void;
	/** SIGCONT. */
	resume(): void;
	/** SIGKILL, and wait for the process to end: connections drop. */
	kill(): Promise<void>;
};

const notFound = 'redis-server not found: install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis`';

const running = new Set<ChildProcess>();
let isCleanupRegistered = false;

/** Whatever a test file does, no server outlives it. */
function killAtExit(child: ChildProcess): void {
	running.add(child);
	child.once('exit', () => {
		running.delete(child);
	});
	if (isCleanupRegistered) {
		return;
	}

	isCleanupRegistered = true;
	process.once('exit', () => {
		for (const server of running) {
			server.kill('SIGKILL');
		}
	});
}

async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as net.AddressInfo;
	await new Promise(resolve => {
		server.close(resolve);
	});
	return port;
}

/** PING over a bare socket, so that no client library's reconnect logic is involved. */
async function isAnswering(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect(port, '127.0.0.1');
		let reply = '';
		const done = (isPong: boolean) => {
			socket.destroy();
			resolve(isPong);
		};

		socket.setTimeout(500, () => {
			done(false);
		});
		socket.once('error', () => {
			done(false);
		});
		socket.once('connect', () => {
			socket.write('PING\r\n');
		});
		socket.on('data', (chunk: Uint8Array) => {
			reply += chunk.toString();
			if (reply.includes('\r\n')) {
				done(reply.startsWith('+PONG'));
			}
		});
	});
}

async function exited(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		return;
	}

	await new Promise(resolve => {
		child.once('exit', resolve);
	});
}

type Started = RedisServer | {readonly output: string};

async function startOnce(port: number): Promise<Started> {
	const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {stdio: ['ignore', 'pipe', 'pipe']});
	// Read, so a full pipe never blocks the server; kept, to explain a server that would not start.
	let output = '';
	const keep = (chunk: Uint8Array) => {
		output = (output + chunk.toString()).slice(-2000);
	};

	child.stdout?.on('data', keep);
	child.stderr?.on('data', keep);
	const spawned = await new Promise<NodeJS.ErrnoException | undefined>(resolve => {
		child.once('spawn', () => {
			resolve(undefined);
		});
		child.once('error', resolve);
	});
	if (spawned?.code === 'ENOENT') {
		throw new Error(notFound);
	}

	if (spawned !== undefined) {
		throw spawned;
	}

	killAtExit(child);
	for (let attempt = 0; attempt < 100 && child.exitCode === null; attempt++) {
		if (await isAnswering(port)) {
			const signal = (name: NodeJS.Signals) => {
				if (child.exitCode === null && child.signalCode === null) {
					child.kill(name);
				}
			};

			return {
				port,
				url: `redis://127.0.0.1:${port}`,
				pid: child.pid!,
				async stop() {
					// A paused server would never act on SIGTERM.
					signal('SIGCONT');
					signal('SIGTERM');
					await exited(child);
				},
				pause() {
					signal('SIGSTOP');
				},
				resume() {
					signal('SIGCONT');
				},
				async kill() {
					signal('SIGKILL');
					await exited(child);
				},
			};
		}

		await delay(50);
	}

	// The port was taken between choosing and binding, or the server would not start.
	child.kill('SIGKILL');
	await exited(child);
	return {output};
}

/**
A redis-server of our own on a free loopback port, with no persistence. Stop it when done (`test.after.always`); it is killed at exit regardless.
*/
export async function startRedisServer(): Promise<RedisServer> {
	let output = '';
	for (let attempt = 0; attempt < 3; attempt++) {
		const started = await startOnce(await freePort());
		if ('pid' in started) {
			return started;
		}

		({output} = started);
	}

	throw new Error(`redis-server did not start on a free loopback port in 3 attempts:\n${output}`);
}

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
